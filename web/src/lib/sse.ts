// Incremental parser for text/event-stream bodies, used because EventSource cannot POST.
// Follows the WHATWG "event stream interpretation" rules: CR, LF or CRLF line ends,
// multi-line data joined with "\n", comment lines ignored, a blank line dispatches.

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = "";
  private dataLines: string[] = [];
  private eventName = "";
  private lastId: string | undefined;
  // A chunk may end between the CR and LF of one CRLF; remember to drop that LF.
  private skipLeadingLf = false;
  private first = true;

  feed(chunk: string): SseEvent[] {
    if (chunk === "") return [];
    let text = chunk;
    if (this.first) {
      this.first = false;
      if (text.startsWith("\uFEFF")) text = text.slice(1);
    }
    if (this.skipLeadingLf && text.startsWith("\n")) text = text.slice(1);
    this.skipLeadingLf = false;

    const buf = this.buffer + text;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c !== "\r" && c !== "\n") continue;
      const line = buf.slice(start, i);
      if (c === "\r") {
        if (i + 1 < buf.length) {
          if (buf[i + 1] === "\n") i++;
        } else {
          this.skipLeadingLf = true;
        }
      }
      start = i + 1;
      const event = this.processLine(line);
      if (event) events.push(event);
    }
    this.buffer = buf.slice(start);
    return events;
  }

  /** End of stream: an event without its closing blank line is incomplete and discarded, per spec. */
  end(): SseEvent[] {
    this.buffer = "";
    this.dataLines = [];
    this.eventName = "";
    return [];
  }

  private processLine(line: string): SseEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.dataLines.push(value);
        break;
      case "event":
        this.eventName = value;
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      default:
        // "retry" and unknown fields do not matter for a one-shot POST stream.
        break;
    }
    return null;
  }

  private dispatch(): SseEvent | null {
    const name = this.eventName || "message";
    this.eventName = "";
    if (this.dataLines.length === 0) return null;
    const data = this.dataLines.join("\n");
    this.dataLines = [];
    const event: SseEvent = { event: name, data };
    if (this.lastId !== undefined) event.id = this.lastId;
    return event;
  }
}

/** Yield the events of a streamed response body as they arrive. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.feed(decoder.decode(value, { stream: true }));
    }
    yield* parser.feed(decoder.decode());
    yield* parser.end();
  } finally {
    reader.releaseLock();
  }
}
