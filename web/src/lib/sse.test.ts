// Unit tests of the SSE parser: framing, chunk boundaries, comments and multi-line data.
import { describe, expect, it } from "vitest";

import { readSse, SseParser, type SseEvent } from "./sse";

function parseAll(chunks: string[]): SseEvent[] {
  const parser = new SseParser();
  return [...chunks.flatMap((c) => parser.feed(c)), ...parser.end()];
}

describe("SseParser", () => {
  it("parses named events with JSON data", () => {
    const events = parseAll(['event: token\ndata: {"text":"Hel"}\n\nevent: token\ndata: {"text":"lo"}\n\n']);
    expect(events).toEqual([
      { event: "token", data: '{"text":"Hel"}' },
      { event: "token", data: '{"text":"lo"}' },
    ]);
  });

  it("defaults the event name to message and joins multi-line data", () => {
    expect(parseAll(["data: one\ndata: two\n\n"])).toEqual([{ event: "message", data: "one\ntwo" }]);
  });

  it("reassembles events split at any byte, including between CR and LF", () => {
    const stream = 'event: done\r\ndata: {"finished":true}\r\n\r\n: ping\r\n\r\nevent: token\r\ndata: x\r\n\r\n';
    const whole = parseAll([stream]);
    expect(whole).toEqual([
      { event: "done", data: '{"finished":true}' },
      { event: "token", data: "x" },
    ]);
    for (let cut = 1; cut < stream.length; cut++) {
      expect(parseAll([stream.slice(0, cut), stream.slice(cut)])).toEqual(whole);
    }
    expect(parseAll(stream.split(""))).toEqual(whole);
  });

  it("ignores comments, keeps one optional space, and tracks ids", () => {
    const events = parseAll([": keep-alive\n", "id: 7\nevent:error\ndata:  padded\n\n"]);
    expect(events).toEqual([{ event: "error", data: " padded", id: "7" }]);
  });

  it("discards an event left without its closing blank line", () => {
    expect(parseAll(["event: token\ndata: partial"])).toEqual([]);
  });

  it("does not dispatch events without data", () => {
    expect(parseAll(["event: token\n\n", "data: ok\n\n"])).toEqual([{ event: "message", data: "ok" }]);
  });
});

describe("readSse", () => {
  it("decodes a byte stream whose chunks split a multi-byte character", async () => {
    const bytes = new TextEncoder().encode('event: token\ndata: {"text":"café ✓"}\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const b of bytes) controller.enqueue(Uint8Array.of(b));
        controller.close();
      },
    });
    const events: SseEvent[] = [];
    for await (const e of readSse(body)) events.push(e);
    expect(events).toEqual([{ event: "token", data: '{"text":"café ✓"}' }]);
  });
});
