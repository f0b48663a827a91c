// One interview's live room over Socket.IO (docs/realtime.md): connect with the access token,
// join (or resume from a seq), hand every sequenced event to the page once and in order, and on
// a reconnect or a gap `resume` after the highest seq applied (roomSeq.ts keeps it).
import { io, type Socket } from "socket.io-client";

import { refreshTokens, tokenStore } from "./client";
import { RoomSequencer, type ResumeAnswer, type RoomEvent } from "./roomSeq";

export type RoomStatus = "connecting" | "live" | "reconnecting" | "closed";
export type Speaking = "candidate" | "ai" | "human" | null;

export interface LiveRoomHandlers {
  /** Sequenced events, each once, in seq order. */
  onEvents: (events: RoomEvent[]) => void;
  onSpeaking?: (who: Speaking) => void;
  onStatus?: (status: RoomStatus, message?: string) => void;
  /** The log no longer holds all that was missed: reload over REST. */
  onIncomplete?: () => void;
}

interface Ack {
  ok: boolean;
  error?: { code?: string; message?: string };
  last_seq?: number;
  events?: RoomEvent[];
  complete?: boolean;
}

const ACK_TIMEOUT_MS = 10_000;
// Ephemeral events: relayed, never numbered; the rest of a room's events are sequenced.
const EPHEMERAL = new Set(["typing", "speaking", "todo"]);

export class LiveRoom {
  readonly sequencer = new RoomSequencer();
  private socket: Socket | null = null;
  private entered = false;
  private closed = false;

  /** history: replay the room's log from the start (an interviewer who joins late). */
  constructor(
    private readonly interviewId: string,
    private readonly handlers: LiveRoomHandlers,
    private readonly history = false,
  ) {}

  start(): void {
    this.handlers.onStatus?.("connecting");
    const socket = io({
      path: "/socket.io",
      // A function, so every reconnect sends the current (possibly refreshed) token.
      auth: (cb) => cb({ token: tokenStore.get()?.access_token ?? "" }),
      transports: ["websocket", "polling"],
    });
    this.socket = socket;
    socket.on("connect", () => void this.enter());
    socket.on("disconnect", (reason) => {
      if (this.closed) return;
      this.handlers.onStatus?.("reconnecting");
      // socket.io-client retries by itself except when the server closed the connection.
      if (reason === "io server disconnect") socket.connect();
    });
    socket.on("connect_error", (err: Error & { data?: { code?: string } }) => void this.refused(err));
    socket.onAny((event: string, data: unknown) => this.receive(event, data));
  }

  close(): void {
    this.closed = true;
    this.socket?.removeAllListeners();
    this.socket?.offAny();
    this.socket?.disconnect();
    this.socket = null;
    this.handlers.onStatus?.("closed");
  }

  private async refused(err: Error & { data?: { code?: string } }): Promise<void> {
    const code = err.data?.code;
    if (code === undefined) return; // a transport error: socket.io-client retries by itself
    // The server refused this token; only an expired one is worth a refresh and a new try.
    if (code === "token_expired" && (await refreshTokens()) && !this.closed) {
      this.socket?.connect();
      return;
    }
    this.handlers.onStatus?.("closed", err.message);
  }

  private async enter(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    try {
      if (!this.entered && !this.history) {
        const ack = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck("join", { interview_id: this.interviewId })) as Ack;
        if (!ack.ok) throw new Error(ack.error?.message ?? "Could not join the live room.");
        this.sequencer.joined(ack.last_seq ?? 0);
      } else {
        await this.resume();
      }
      this.entered = true;
      this.handlers.onStatus?.("live");
    } catch (err) {
      this.handlers.onStatus?.("reconnecting", err instanceof Error ? err.message : String(err));
    }
  }

  /** Rejoin and apply what was missed after the highest seq applied. */
  async resume(pending?: RoomEvent): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    if (this.sequencer.resuming) {
      // One resume at a time; an event arriving meanwhile waits for its answer.
      if (pending) this.sequencer.receive(pending);
      return;
    }
    const after = this.sequencer.beginResume();
    if (pending) this.sequencer.receive(pending);
    let ack: Ack;
    try {
      ack = (await socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck("resume", { interview_id: this.interviewId, after_seq: after })) as Ack;
    } catch (err) {
      this.deliver(this.sequencer.abortResume());
      throw err;
    }
    if (!ack.ok) {
      this.deliver(this.sequencer.abortResume());
      throw new Error(ack.error?.message ?? "Could not rejoin the live room.");
    }
    const answer: ResumeAnswer = { events: ack.events ?? [], last_seq: ack.last_seq ?? after, complete: ack.complete ?? true };
    this.deliver(this.sequencer.endResume(answer));
    if (!answer.complete) this.handlers.onIncomplete?.();
  }

  private receive(event: string, data: unknown): void {
    if (!data || typeof data !== "object") return;
    const payload = data as Record<string, unknown>;
    if (payload.interview_id !== undefined && payload.interview_id !== this.interviewId) return;
    if (EPHEMERAL.has(event)) {
      if (event === "speaking") this.handlers.onSpeaking?.((payload.who as Speaking) ?? null);
      return;
    }
    const roomEvent: RoomEvent = { event, data: payload };
    if (this.entered && this.sequencer.isGap(roomEvent)) {
      // A late or missed event: hold this one, the resume answer brings the rest, all in order.
      this.resume(roomEvent).catch(() => undefined);
      return;
    }
    this.deliver(this.sequencer.receive(roomEvent));
  }

  private deliver(events: RoomEvent[]): void {
    if (events.length > 0) this.handlers.onEvents(events);
  }
}
