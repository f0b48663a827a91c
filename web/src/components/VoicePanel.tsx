// The voice room: microphone meter, live captions, who is speaking, mute and hang up. Used by
// the candidate (InterviewRoom) and the human interviewer (InterviewerView); the seat follows
// the caller's role on the server. Any failure calls onFallback with a message for the person.
import { useEffect, useRef, useState } from "react";

import { recentCaptions, type Caption, type CaptionSpeaker } from "../lib/captions";
import type { Speaking } from "../lib/liveRoom";
import { openMicrophone, startCall, useMicLevel, VoiceError, type VoiceCall } from "../lib/voice";

type Phase = "asking" | "connecting" | "live" | "ended";

const SPEAKER_LABEL: Record<CaptionSpeaker, string> = {
  candidate: "Candidate",
  ai: "AI interviewer",
  human: "Human interviewer",
};

export function VoicePanel({
  interviewId,
  captions,
  speaking,
  seat,
  onFallback,
  onHangup,
}: {
  interviewId: string;
  captions: Caption[];
  /** Who is speaking, as the server's `speaking` event says (null: nobody or unknown). */
  speaking: Speaking;
  seat: "candidate" | "interviewer";
  onFallback: (message: string) => void;
  onHangup: () => void;
}) {
  const [phase, setPhase] = useState<Phase>("asking");
  const [mic, setMic] = useState<MediaStream | null>(null);
  const [muted, setMuted] = useState(false);
  const callRef = useRef<VoiceCall | null>(null);
  const audioRef = useRef<HTMLAudioElement>(null);
  const level = useMicLevel(mic, muted);
  // The latest callbacks, so connecting runs once per mount.
  const fallback = useRef(onFallback);
  fallback.current = onFallback;

  useEffect(() => {
    let cancelled = false;
    let stream: MediaStream | null = null;
    (async () => {
      try {
        stream = await openMicrophone();
        if (cancelled) {
          // Unmounted while asking (StrictMode mounts twice): release this microphone.
          stream.getTracks().forEach((t) => t.stop());
          return;
        }
        setMic(stream);
        setPhase("connecting");
        const call = await startCall(interviewId, stream, {
          onRemoteStream: (remote) => {
            if (audioRef.current) {
              audioRef.current.srcObject = remote;
              void audioRef.current.play().catch(() => undefined);
            }
          },
          onDropped: (message) => {
            if (!cancelled) fallback.current(`${message} The interview continues in text.`);
          },
        });
        if (cancelled) {
          void call.hangup();
          return;
        }
        callRef.current = call;
        setPhase("live");
      } catch (err) {
        if (cancelled) return;
        fallback.current(err instanceof VoiceError ? err.message : `Voice failed: ${String(err)}`);
      }
    })();
    return () => {
      cancelled = true;
      void callRef.current?.hangup();
      callRef.current = null;
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, [interviewId]);

  useEffect(() => {
    mic?.getAudioTracks().forEach((t) => {
      t.enabled = !muted;
    });
  }, [mic, muted]);

  async function hangup() {
    setPhase("ended");
    await callRef.current?.hangup();
    callRef.current = null;
    mic?.getTracks().forEach((t) => t.stop());
    onHangup();
  }

  // The server knows who speaks; until it says, this seat's own voice comes from the meter.
  const mySpeaker: Speaking = seat === "candidate" ? "candidate" : "human";
  const who: Speaking = speaking ?? (level.speaking && !muted ? mySpeaker : null);

  return (
    <section className="voice card" aria-label="Voice room" data-phase={phase}>
      <div className="voice-bar">
        <div className="meter" role="meter" aria-label="Microphone level" aria-valuemin={0} aria-valuemax={100}
          aria-valuenow={Math.round(level.fill * 100)}>
          <div className="meter-fill" style={{ width: `${Math.round(level.fill * 100)}%` }} />
        </div>
        <span className="voice-status" role="status">
          {phase === "asking" && "Waiting for the microphone…"}
          {phase === "connecting" && "Connecting…"}
          {phase === "live" && (who ? `${SPEAKER_LABEL[who]} is speaking` : "Listening")}
          {phase === "ended" && "Call ended"}
        </span>
        <button type="button" onClick={() => setMuted((m) => !m)} disabled={!mic} aria-pressed={muted}>
          {muted ? "Unmute" : "Mute"}
        </button>
        <button type="button" className="danger" onClick={() => void hangup()}>
          Hang up
        </button>
      </div>
      <audio ref={audioRef} autoPlay data-testid="remote-audio" />
      <ol className="captions" aria-label="Live captions" aria-live="polite">
        {recentCaptions(captions, 6).map((c) => (
          <li key={c.turnSeq} className={`caption caption-${c.speaker}${c.final ? "" : " caption-partial"}`}>
            <span className="caption-who">{SPEAKER_LABEL[c.speaker]}</span> {c.text}
          </li>
        ))}
      </ol>
    </section>
  );
}
