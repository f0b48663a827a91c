// The resume/seq bookkeeping of one live room (docs/realtime.md, "Reconnecting"): apply each
// sequenced event once, in order; hold live events while a `resume` answer is on its way; notice
// gaps. Pure (no socket), so it is unit-tested; liveRoom.ts drives it.

/** A sequenced room event as the server sends it: its name and payload (which carries `seq`). */
export interface RoomEvent {
  event: string;
  data: Record<string, unknown>;
}

export function seqOf(event: RoomEvent): number {
  const seq = event.data.seq;
  return typeof seq === "number" && Number.isFinite(seq) ? seq : 0;
}

/** The answer of `resume` (ok ones only; a refusal never reaches the sequencer). */
export interface ResumeAnswer {
  events: RoomEvent[];
  last_seq: number;
  complete: boolean;
}

export class RoomSequencer {
  /** The highest seq applied: what the next `resume` asks to continue after. */
  lastSeq = 0;
  private held: RoomEvent[] | null = null;

  /** True while a resume is outstanding: live events wait, or a newer one would make the
   * missed (older) ones look already seen. */
  get resuming(): boolean {
    return this.held !== null;
  }

  /** A live event: the events to apply now (none if it is held or was seen already). */
  receive(event: RoomEvent): RoomEvent[] {
    if (this.held) {
      this.held.push(event);
      return [];
    }
    return this.accept(event) ? [event] : [];
  }

  /** True when `event` skips past the next expected number (a late or missed event). */
  isGap(event: RoomEvent): boolean {
    return !this.resuming && seqOf(event) > this.lastSeq + 1;
  }

  beginResume(): number {
    this.held ??= [];
    return this.lastSeq;
  }

  /** Apply the resume answer and the live events held meanwhile, in seq order, each once. */
  endResume(answer: ResumeAnswer): RoomEvent[] {
    const held = this.held ?? [];
    this.held = null;
    const merged = [...answer.events, ...held].sort((a, b) => seqOf(a) - seqOf(b));
    return merged.filter((e) => this.accept(e));
  }

  /** The resume failed (refused, timed out): release the held events as live ones. */
  abortResume(): RoomEvent[] {
    const held = this.held ?? [];
    this.held = null;
    return held.sort((a, b) => seqOf(a) - seqOf(b)).filter((e) => this.accept(e));
  }

  /** After a `join`: only events after the room's current number are new to us. */
  joined(lastSeq: number): void {
    this.lastSeq = Math.max(this.lastSeq, lastSeq);
  }

  private accept(event: RoomEvent): boolean {
    const seq = seqOf(event);
    if (seq <= this.lastSeq) return false;
    this.lastSeq = seq;
    return true;
  }
}
