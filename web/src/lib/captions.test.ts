// Unit tests of caption merging: partial pieces grow one line per turn, the final replaces it.
import { describe, expect, it } from "vitest";

import {
  captionsFromTurns,
  combineCaptions,
  mergeCaption,
  recentCaptions,
  type Caption,
  type TranscriptEvent,
} from "./captions";

function fold(events: TranscriptEvent[]): Caption[] {
  return events.reduce(mergeCaption, [] as Caption[]);
}

const partial = (seq: number, turnSeq: number, text: string): TranscriptEvent => ({
  event: "transcript.partial",
  data: { seq, turn_seq: turnSeq, speaker: "interviewer", role: "ai", text },
});
const final = (seq: number, turnSeq: number, text: string, speaker = "interviewer", role: string | null = "ai") => ({
  event: "transcript.final",
  data: { seq, turn_seq: turnSeq, speaker, role, text },
});

describe("mergeCaption", () => {
  it("grows the interviewer's caption and replaces it with the final text", () => {
    const growing = fold([partial(1, 0, "Tell "), partial(2, 0, "me ")]);
    expect(growing).toEqual([{ turnSeq: 0, speaker: "ai", text: "Tell me ", final: false, lastEventSeq: 2 }]);
    const done = mergeCaption(growing, final(3, 0, "Tell me about yourself."));
    expect(done).toEqual([{ turnSeq: 0, speaker: "ai", text: "Tell me about yourself.", final: true, lastEventSeq: 3 }]);
  });

  it("keeps turns in order whatever order they arrive in, both speakers", () => {
    const captions = fold([
      final(5, 2, "Why that design?"),
      final(4, 1, "I rebuilt billing.", "candidate", null),
      final(3, 0, "Tell me about a project."),
    ]);
    expect(captions.map((c) => [c.turnSeq, c.speaker])).toEqual([
      [0, "ai"],
      [1, "candidate"],
      [2, "ai"],
    ]);
  });

  it("ignores a replayed piece and a late partial after the final", () => {
    let captions = fold([partial(1, 0, "Hel"), partial(2, 0, "lo")]);
    expect(mergeCaption(captions, partial(2, 0, "lo"))).toBe(captions);
    captions = mergeCaption(captions, final(3, 0, "Hello."));
    expect(mergeCaption(captions, partial(4, 0, " again"))).toBe(captions);
  });

  it("marks a human interviewer's line", () => {
    expect(fold([final(1, 3, "Walk me through it.", "interviewer", "human")])[0]?.speaker).toBe("human");
  });

  it("leaves other events and events without a turn number alone", () => {
    const none: Caption[] = [];
    expect(mergeCaption(none, { event: "role", data: { seq: 1, role: "ai" } })).toBe(none);
    expect(mergeCaption(none, { event: "transcript.final", data: { seq: 1, text: "x" } })).toBe(none);
  });

  it("shows the last lines", () => {
    const captions = fold([final(1, 0, "a"), final(2, 1, "b", "candidate", null), final(3, 2, "c")]);
    expect(recentCaptions(captions, 2).map((c) => c.text)).toEqual(["b", "c"]);
  });
});

describe("combineCaptions", () => {
  it("joins the stored transcript and the live lines, one per turn, finals first", () => {
    const stored = captionsFromTurns([
      { seq: 0, speaker: "interviewer", text: "Tell me about a project.", role: "ai" },
      { seq: 1, speaker: "candidate", text: "I rebuilt billing." },
      { seq: 2, speaker: "interviewer", text: "What broke?", role: "human" },
    ]);
    const liveOnes = fold([final(7, 1, "I rebuilt billing.", "candidate", null), partial(8, 3, "And then")]);
    const all = combineCaptions(stored, liveOnes);
    expect(all.map((c) => [c.turnSeq, c.speaker, c.final])).toEqual([
      [0, "ai", true],
      [1, "candidate", true],
      [2, "human", true],
      [3, "ai", false],
    ]);
    // A partial never hides a stored line of the same turn.
    const late = combineCaptions(stored, fold([partial(9, 2, "What")]));
    expect(late.find((c) => c.turnSeq === 2)?.text).toBe("What broke?");
  });
});
