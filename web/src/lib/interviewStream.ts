// POST to an interview endpoint that answers with server-sent events and hand each event to the page.
import { API_BASE, ApiError, authFetch, errorFromResponse } from "./client";
import { readSse } from "./sse";
import type { Turn } from "./types";

export interface StreamHandlers {
  /** The candidate's answer as stored by the server. */
  onTurn?: (turn: Turn) => void;
  /** A piece of the interviewer's reply. */
  onToken: (text: string) => void;
  /** The interviewer's stored reply; finished means there are no more questions. No turn (null)
   * while a human interviewer has the seat: their question comes through the live room. */
  onDone: (turn: Turn | null, finished: boolean, waitingFor?: string) => void;
}

export type StreamAction = { kind: "start" } | { kind: "answer"; text: string };

export async function streamInterview(
  interviewId: string,
  action: StreamAction,
  handlers: StreamHandlers,
  signal?: AbortSignal,
): Promise<void> {
  const path = `${API_BASE}/interviews/${encodeURIComponent(interviewId)}/${action.kind}`;
  const request = new Request(path, {
    method: "POST",
    headers: { Accept: "text/event-stream", "Content-Type": "application/json" },
    body: action.kind === "answer" ? JSON.stringify({ text: action.text }) : undefined,
    signal,
  });
  const response = await authFetch(request);
  // Refusals (404, 409 wrong state, 422) come before streaming as ordinary JSON errors.
  if (!response.ok) throw await errorFromResponse(response);
  if (!response.body) throw new ApiError(0, "no_stream", "The server sent no reply stream.");

  for await (const event of readSse(response.body)) {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw new ApiError(0, "bad_stream", `The server sent an unreadable "${event.event}" event.`);
    }
    switch (event.event) {
      case "turn":
        handlers.onTurn?.(data as Turn);
        break;
      case "token":
        handlers.onToken((data as { text: string }).text);
        break;
      case "done": {
        const done = data as { turn: Turn | null; finished: boolean; waiting_for?: string };
        handlers.onDone(done.turn ?? null, done.finished, done.waiting_for);
        return;
      }
      case "error": {
        const err = data as { code?: string; message?: string };
        throw new ApiError(0, err.code ?? "stream_error", err.message ?? "The interviewer failed to reply.");
      }
      default:
        break;
    }
  }
  throw new ApiError(
    0,
    "stream_ended",
    "The connection closed before the interviewer finished. Reload the page to see what was saved.",
  );
}
