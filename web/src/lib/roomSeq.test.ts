// Unit tests of the live room's seq bookkeeping: each event once, in order, across a resume.
import { describe, expect, it } from "vitest";

import { RoomSequencer, seqOf, type RoomEvent } from "./roomSeq";

const ev = (seq: number, event = "transcript.final"): RoomEvent => ({ event, data: { interview_id: "i", seq } });
const seqs = (events: RoomEvent[]) => events.map(seqOf);

describe("RoomSequencer", () => {
  it("applies live events once and keeps the highest seq", () => {
    const room = new RoomSequencer();
    expect(seqs(room.receive(ev(1)))).toEqual([1]);
    expect(seqs(room.receive(ev(2)))).toEqual([2]);
    expect(room.receive(ev(2))).toEqual([]);
    expect(room.receive(ev(1))).toEqual([]);
    expect(room.lastSeq).toBe(2);
  });

  it("starts after the room's number on join", () => {
    const room = new RoomSequencer();
    room.joined(7);
    expect(room.receive(ev(7))).toEqual([]);
    expect(seqs(room.receive(ev(8)))).toEqual([8]);
  });

  it("notices a gap", () => {
    const room = new RoomSequencer();
    room.receive(ev(1));
    expect(room.isGap(ev(2))).toBe(false);
    expect(room.isGap(ev(4))).toBe(true);
  });

  it("holds live events during a resume and merges them with the missed ones in order", () => {
    const room = new RoomSequencer();
    room.receive(ev(1));
    room.receive(ev(2));
    expect(room.beginResume()).toBe(2);
    expect(room.resuming).toBe(true);
    // Live events that overtake the answer wait...
    expect(room.receive(ev(6))).toEqual([]);
    expect(room.receive(ev(5))).toEqual([]);
    // ...and the answer (which overlaps them) applies everything once, in seq order.
    const applied = room.endResume({ events: [ev(3), ev(4), ev(5)], last_seq: 5, complete: true });
    expect(seqs(applied)).toEqual([3, 4, 5, 6]);
    expect(room.resuming).toBe(false);
    expect(room.lastSeq).toBe(6);
    expect(room.receive(ev(6))).toEqual([]);
  });

  it("skips replayed events already applied before the disconnect", () => {
    const room = new RoomSequencer();
    room.receive(ev(1));
    room.receive(ev(2));
    room.beginResume();
    expect(seqs(room.endResume({ events: [ev(1), ev(2), ev(3)], last_seq: 3, complete: true }))).toEqual([3]);
  });

  it("releases held events when the resume fails", () => {
    const room = new RoomSequencer();
    room.beginResume();
    room.receive(ev(3));
    room.receive(ev(2));
    expect(seqs(room.abortResume())).toEqual([2, 3]);
    expect(room.resuming).toBe(false);
  });

  it("reads a missing or odd seq as 0, which is never applied", () => {
    const room = new RoomSequencer();
    expect(room.receive({ event: "x", data: { seq: "3" } })).toEqual([]);
    expect(room.receive({ event: "x", data: {} })).toEqual([]);
  });
});
