// The interview itself: the transcript, the interviewer's reply streamed as it is written, the answer box;
// or the voice room (VoicePanel) instead of the box. The live room (Socket.IO) brings what others
// add — a human interviewer's question, voice turns — and who has the interviewer's seat.
import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { CodePanel, type CodeLanguage } from "../components/CodePanel";
import { ErrorMessage } from "../components/ErrorMessage";
import { InvitePanel } from "../components/InvitePanel";
import { VoicePanel } from "../components/VoicePanel";
import { ApiError, api, messageOf, unwrap } from "../lib/client";
import { KIND_LABEL } from "../lib/format";
import { streamInterview, type StreamAction } from "../lib/interviewStream";
import { live } from "../lib/live";
import type { RoomEvent } from "../lib/roomSeq";
import type { InterviewOut, Turn } from "../lib/types";
import { useLiveRoom } from "../lib/useLiveRoom";
import { LANGUAGE_LABEL, PERSONA_LABEL } from "./NewInterview";

export function InterviewRoom() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const [interview, setInterview] = useState<InterviewOut | null>(null);
  const [targets, setTargets] = useState<string[]>([]);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [pendingAnswer, setPendingAnswer] = useState<string | null>(null);
  const [streamed, setStreamed] = useState<string | null>(null);
  const [streaming, setStreaming] = useState(false);
  const [finished, setFinished] = useState(false);
  const [ending, setEnding] = useState(false);
  const [answer, setAnswer] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [mode, setMode] = useState<"text" | "voice">("text");
  const [voiceNotice, setVoiceNotice] = useState<string | null>(null);
  const [waitingForHuman, setWaitingForHuman] = useState(false);
  const [controller, setController] = useState<"ai" | "human" | null>(null);
  const started = useRef(false);
  const pendingRef = useRef<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const bottom = useRef<HTMLDivElement>(null);
  const answerBox = useRef<HTMLTextAreaElement>(null);

  const load = useCallback(async () => {
    const detail = await unwrap(api.GET("/api/v1/interviews/{interview_id}", { params: { path: { interview_id: id } } }));
    setInterview(detail);
    setTargets(detail.targets ?? []);
    setTurns((ts) => mergeTurns(detail.turns, ts.filter((t) => t.seq > lastSeqOf(detail.turns))));
    // After a reload the stream's "finished" flag is gone; the closing remark says the same.
    const last = detail.turns[detail.turns.length - 1];
    setFinished(last?.speaker === "interviewer" && last.kind === "closing");
    return detail;
  }, [id]);

  const run = useCallback(
    async (action: StreamAction) => {
      const controller = new AbortController();
      abort.current = controller;
      setStreaming(true);
      setError(null);
      setStreamed("");
      try {
        await streamInterview(
          id,
          action,
          {
            onTurn: (turn) => {
              pendingRef.current = null;
              setPendingAnswer(null);
              setTurns((ts) => mergeTurns(ts, [turn]));
            },
            onToken: (text) => setStreamed((s) => (s ?? "") + text),
            onDone: (turn, isFinished, waitingFor) => {
              setStreamed(null);
              if (turn) setTurns((ts) => mergeTurns(ts, [turn]));
              // A human has the seat: their question comes through the live room.
              setWaitingForHuman(!turn && waitingFor === "human");
              setFinished(isFinished);
              // The turn is stored: the next answer may go now, not after the refresh below.
              setStreaming(false);
            },
          },
          controller.signal,
        );
        // Refresh the counters (questions asked, status) from the server's record.
        await load().catch(() => undefined);
      } catch (err) {
        if (controller.signal.aborted) return;
        setError(messageOf(err));
        // Whatever the server saved is the truth; an answer it never stored goes back in the box.
        const unsaved = pendingRef.current;
        if (unsaved !== null) setAnswer((a) => a || unsaved);
        pendingRef.current = null;
        setPendingAnswer(null);
        setStreamed(null);
        if (!(err instanceof ApiError && err.status === 0 && err.code === "network_error")) {
          await load().catch(() => undefined);
        }
      } finally {
        if (abort.current === controller) abort.current = null;
        setStreaming(false);
        answerBox.current?.focus();
      }
    },
    [id, load],
  );

  useEffect(() => {
    load()
      .then((detail) => {
        // A ref, not state: StrictMode runs effects twice and the opening question must be asked once.
        if (detail.status === "created" && !started.current) {
          started.current = true;
          void run({ kind: "start" });
        }
      })
      .catch((err: unknown) => setError(messageOf(err)));
    return () => abort.current?.abort();
  }, [load, run]);

  // Turns stored by someone else (a human interviewer, the voice pipeline) arrive through the room.
  const onRoomEvent = useCallback((ev: RoomEvent) => {
    if (ev.event === "transcript.final" && ev.data.turn && typeof ev.data.turn === "object") {
      const turn = ev.data.turn as Turn;
      if (typeof turn.seq !== "number") return;
      setTurns((ts) => mergeTurns(ts, [turn]));
      if (turn.speaker === "interviewer") setWaitingForHuman(false);
    } else if (ev.event === "role" && (ev.data.role === "ai" || ev.data.role === "human")) {
      setController(ev.data.role);
    } else if (ev.event === "state" && ev.data.state === "finished") {
      setFinished(true);
    }
  }, []);
  const room = useLiveRoom(id, { onEvent: onRoomEvent, onIncomplete: () => void load().catch(() => undefined) });

  useEffect(() => {
    // Who has the interviewer's seat now; later changes come as `role` events.
    live
      .state(id)
      .then((state) => setController((c) => c ?? state.controller))
      .catch(() => undefined);
  }, [id]);

  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
  }, [turns, streamed, pendingAnswer]);

  function send(e?: FormEvent) {
    e?.preventDefault();
    const text = answer.trim();
    if (!text || streaming) return;
    setAnswer("");
    sendText(text);
  }

  function sendText(text: string) {
    if (!text || streaming) return;
    pendingRef.current = text;
    setPendingAnswer(text);
    void run({ kind: "answer", text });
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends, Shift+Enter breaks the line; never send mid IME composition.
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  }

  async function end() {
    setEnding(true);
    setError(null);
    try {
      await unwrap(api.POST("/api/v1/interviews/{interview_id}/end", { params: { path: { interview_id: id } } }));
      navigate(`/interviews/${id}/report`);
    } catch (err) {
      setError(messageOf(err));
      setEnding(false);
    }
  }

  if (!interview) {
    return (
      <main className="page narrow">
        {error ? <ErrorMessage error={error} /> : <p className="muted">Loading interview…</p>}
        <Link to="/">Back to dashboard</Link>
      </main>
    );
  }

  const ended = interview.status === "ended";
  // A coding question in progress: the interviewer's latest turn names its problem.
  const lastAsked = [...turns].reverse().find((t) => t.speaker === "interviewer");
  const coding = lastAsked?.agent === "coding" ? lastAsked.data : undefined;
  const problemId = typeof coding?.problem_id === "string" ? coding.problem_id : null;

  return (
    <main className="page room">
      <header className="room-head">
        <div>
          <h1>
            {interview.target_role}
            {interview.company ? <span className="muted"> at {interview.company}</span> : null}
          </h1>
          <p className="muted small">
            {KIND_LABEL[interview.kind] ?? interview.kind} interview · question{" "}
            {Math.min(interview.questions_asked, interview.length)} of {interview.length} ·{" "}
            {PERSONA_LABEL[interview.persona]} interviewer · {LANGUAGE_LABEL[interview.language]}
          </p>
        </div>
        <div className="row">
          {controller && (
            <span className="badge seat" data-seat={controller} aria-label="Who is interviewing">
              {controller === "human" ? "Human interviewer" : "AI interviewer"}
            </span>
          )}
          {!ended && (
            <button
              type="button"
              onClick={() => {
                setVoiceNotice(null);
                setMode((m) => (m === "voice" ? "text" : "voice"));
              }}
            >
              {mode === "voice" ? "Text mode" : "Voice"}
            </button>
          )}
        {ended ? (
          <Link to={`/interviews/${id}/report`} className="button primary">
            View report
          </Link>
        ) : (
          <button
            type="button"
            className={finished ? "primary" : "danger"}
            onClick={() => void end()}
            disabled={streaming || ending}
          >
            {ending ? "Ending…" : "End interview"}
          </button>
        )}
        </div>
      </header>

      {voiceNotice && (
        <p className="notice" role="status" data-testid="voice-fallback">
          {voiceNotice}
        </p>
      )}

      {mode === "voice" && !ended && (
        <VoicePanel
          interviewId={id}
          captions={room.captions}
          speaking={room.speaking}
          seat="candidate"
          onFallback={(message) => {
            setMode("text");
            setVoiceNotice(message);
          }}
          onHangup={() => setMode("text")}
        />
      )}

      {targets.length > 0 && (
        <aside className="targets card" aria-label="What this interview practises">
          <strong>This interview practises your weak points:</strong>
          <ul>
            {targets.map((t) => (
              <li key={t}>{t}</li>
            ))}
          </ul>
        </aside>
      )}

      <div className="transcript card" role="log" aria-label="Transcript" aria-busy={streaming}>
        {turns.length === 0 && streamed === null && !error && (
          <p className="muted">The interviewer is getting ready…</p>
        )}
        {turns.map((turn) => (
          <Message
            key={turn.seq}
            speaker={turn.speaker}
            text={turn.text}
            provenance={turn.provenance}
            human={(turn as { role?: string | null }).role === "human"}
          />
        ))}
        {pendingAnswer !== null && <Message speaker="candidate" text={pendingAnswer} pending />}
        {streamed !== null && <Message speaker="interviewer" text={streamed} pending />}
        <div ref={bottom} />
      </div>

      <ErrorMessage error={error} />
      {waitingForHuman && !finished && (
        <p className="notice" role="status">
          A human interviewer has the seat; their next question will appear here.
        </p>
      )}
      {finished && !ended && (
        <p className="notice" role="status">
          That was the last question. End the interview to get your report.
        </p>
      )}

      {problemId && !ended && !finished && (
        <CodePanel
          key={problemId}
          problemId={problemId}
          language={(coding?.language === "javascript" ? "javascript" : "python") satisfies CodeLanguage}
          disabled={streaming}
          onSubmit={sendText}
        />
      )}

      {!ended && mode === "text" && (
        <form className="answer" onSubmit={send}>
          <label htmlFor="answer" className="sr-only">
            Your answer
          </label>
          <textarea
            id="answer"
            ref={answerBox}
            value={answer}
            onChange={(e) => setAnswer(e.target.value)}
            onKeyDown={onKeyDown}
            rows={3}
            maxLength={5000}
            placeholder={finished ? "The interview is complete." : "Type your answer. Enter sends, Shift+Enter for a new line."}
            disabled={finished}
          />
          <button type="submit" className="primary" disabled={streaming || finished || !answer.trim()}>
            Send answer
          </button>
        </form>
      )}
      {!ended && <InvitePanel interviewId={id} />}
    </main>
  );
}

/** Turns by their number, once each: the stream, the live room and a reload may all bring one. */
function mergeTurns(current: Turn[], incoming: Turn[]): Turn[] {
  const bySeq = new Map(current.map((t) => [t.seq, t]));
  for (const t of incoming) bySeq.set(t.seq, t);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function lastSeqOf(turns: Turn[]): number {
  return turns.length ? Math.max(...turns.map((t) => t.seq)) : -1;
}

type Provenance = NonNullable<Turn["provenance"]>;

const SOURCE_LABEL: Record<string, string> = { resume: "your resume", job_description: "the job description" };

function Message({
  speaker,
  text,
  pending,
  provenance,
  human,
}: {
  speaker: string;
  text: string;
  pending?: boolean;
  provenance?: Provenance;
  human?: boolean;
}) {
  const who = speaker === "interviewer" ? (human ? "Interviewer (human)" : "Interviewer") : "You";
  return (
    <article className={`msg msg-${speaker}${pending ? " msg-pending" : ""}`} aria-label={`${who} says`}>
      <span className="msg-who">{who}</span>
      <p>
        {text}
        {pending && speaker === "interviewer" && <span className="cursor" aria-hidden="true" />}
      </p>
      {provenance && provenance.length > 0 && <Sources provenance={provenance} />}
    </article>
  );
}

/** Where a question came from: the resume or job-description line, as the candidate wrote it. */
export function Sources({ provenance }: { provenance: Provenance }) {
  return (
    <ul className="provenance" aria-label="Why this question">
      {provenance.map((p) => {
        const span =
          p.chunk_start != null && p.chunk_end != null && p.chunk_end !== p.chunk_start
            ? ` (section lines ${p.chunk_start}–${p.chunk_end})`
            : "";
        return (
          <li key={`${p.document_id}-${p.line}`}>
            From {SOURCE_LABEL[p.source] ?? p.source}, line {p.line}
            {span}: <q>{p.text}</q>
          </li>
        );
      })}
    </ul>
  );
}
