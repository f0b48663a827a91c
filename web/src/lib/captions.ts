// Live captions from the room's transcript events: the interviewer's reply grows piece by piece
// (transcript.partial) until its stored turn replaces it (transcript.final); the candidate's
// words arrive whole. One caption per turn, keyed by the turn's number, so a replayed or late
// event never duplicates a line. Pure, unit-tested; the voice room renders the list.

export type CaptionSpeaker = "candidate" | "ai" | "human";

export interface Caption {
  turnSeq: number;
  speaker: CaptionSpeaker;
  text: string;
  /** False while the interviewer is still speaking it. */
  final: boolean;
  /** The room seq of the last event folded in (a final never goes back to partial). */
  lastEventSeq: number;
}

export interface TranscriptEvent {
  event: string;
  data: Record<string, unknown>;
}

function speakerOf(data: Record<string, unknown>): CaptionSpeaker {
  if (data.speaker === "candidate") return "candidate";
  return data.role === "human" ? "human" : "ai";
}

/** Fold one room event into the captions (a new array when it changed anything). */
export function mergeCaption(captions: Caption[], ev: TranscriptEvent): Caption[] {
  if (ev.event !== "transcript.partial" && ev.event !== "transcript.final") return captions;
  const { data } = ev;
  const turnSeq = typeof data.turn_seq === "number" ? data.turn_seq : null;
  if (turnSeq === null) return captions;
  const eventSeq = typeof data.seq === "number" ? data.seq : 0;
  const text = typeof data.text === "string" ? data.text : "";
  const final = ev.event === "transcript.final";
  const index = captions.findIndex((c) => c.turnSeq === turnSeq);
  const existing = index >= 0 ? captions[index] : undefined;
  if (existing && (existing.final || eventSeq <= existing.lastEventSeq)) return captions;
  const next: Caption = {
    turnSeq,
    speaker: speakerOf(data),
    text: final || !existing ? text : existing.text + text,
    final,
    lastEventSeq: eventSeq,
  };
  if (existing) return captions.map((c, i) => (i === index ? next : c));
  return [...captions, next].sort((a, b) => a.turnSeq - b.turnSeq);
}

/** The last `limit` captions: what a caption strip shows. */
export function recentCaptions(captions: Caption[], limit: number): Caption[] {
  return captions.slice(Math.max(0, captions.length - limit));
}

interface StoredTurn {
  seq: number;
  speaker: string;
  text: string;
  role?: string | null;
}

/** Stored turns (REST) as final captions: the transcript a late joiner starts from. */
export function captionsFromTurns(turns: StoredTurn[]): Caption[] {
  return turns.map((t) => ({
    turnSeq: t.seq,
    speaker: t.speaker === "candidate" ? "candidate" : t.role === "human" ? "human" : "ai",
    text: t.text,
    final: true,
    lastEventSeq: 0,
  }));
}

/** Stored captions and live ones, one per turn in turn order; a final line wins over a partial. */
export function combineCaptions(stored: Caption[], liveOnes: Caption[]): Caption[] {
  const byTurn = new Map<number, Caption>();
  for (const c of [...stored, ...liveOnes]) {
    const had = byTurn.get(c.turnSeq);
    if (!had || (!had.final && c.final) || (had.final === c.final && c.lastEventSeq > had.lastEventSeq)) {
      byTurn.set(c.turnSeq, c);
    }
  }
  return [...byTurn.values()].sort((a, b) => a.turnSeq - b.turnSeq);
}
