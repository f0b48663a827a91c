// React side of a live room: connects while the page is open and keeps what the pages show —
// captions, who has the interviewer's seat, who is speaking — and passes each event on.
import { useEffect, useRef, useState } from "react";

import { mergeCaption, type Caption } from "./captions";
import { LiveRoom, type RoomStatus, type Speaking } from "./liveRoom";
import type { RoomEvent } from "./roomSeq";

export type InterviewerRole = "system" | "ai" | "human" | null;

export interface LiveRoomView {
  status: RoomStatus;
  statusMessage: string | null;
  captions: Caption[];
  role: InterviewerRole;
  speaking: Speaking;
}

export function useLiveRoom(
  interviewId: string,
  options: { history?: boolean; enabled?: boolean; onEvent?: (event: RoomEvent) => void; onIncomplete?: () => void } = {},
): LiveRoomView {
  const { history = false, enabled = true } = options;
  const [status, setStatus] = useState<RoomStatus>("connecting");
  const [statusMessage, setStatusMessage] = useState<string | null>(null);
  const [captions, setCaptions] = useState<Caption[]>([]);
  const [role, setRole] = useState<InterviewerRole>(null);
  const [speaking, setSpeaking] = useState<Speaking>(null);
  // The latest callbacks, without reconnecting when the page re-renders.
  const onEvent = useRef(options.onEvent);
  onEvent.current = options.onEvent;
  const onIncomplete = useRef(options.onIncomplete);
  onIncomplete.current = options.onIncomplete;

  useEffect(() => {
    if (!interviewId || !enabled) return;
    const room = new LiveRoom(
      interviewId,
      {
        onEvents: (events) => {
          setCaptions((cs) => events.reduce(mergeCaption, cs));
          for (const ev of events) {
            if (ev.event === "role" && typeof ev.data.role === "string") setRole(ev.data.role as InterviewerRole);
            onEvent.current?.(ev);
          }
        },
        onSpeaking: setSpeaking,
        onStatus: (s, message) => {
          setStatus(s);
          setStatusMessage(message ?? null);
        },
        onIncomplete: () => onIncomplete.current?.(),
      },
      history,
    );
    room.start();
    return () => room.close();
  }, [interviewId, history, enabled]);

  return { status, statusMessage, captions, role, speaking };
}
