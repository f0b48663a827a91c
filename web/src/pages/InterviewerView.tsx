// The human interviewer's seat in someone's interview (reached through an invite, /join/:code):
// the live transcript, the AI's suggested next question, take-over and hand-back, a box to ask
// while in control, notes with 1–5 scores, and the same voice room as the candidate.
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";

import { ErrorMessage } from "../components/ErrorMessage";
import { VoicePanel } from "../components/VoicePanel";
import { captionsFromTurns, combineCaptions, type CaptionSpeaker } from "../lib/captions";
import { messageOf } from "../lib/client";
import { formatScores, live, type Controller, type LiveState, type Note } from "../lib/live";
import type { RoomEvent } from "../lib/roomSeq";
import { useLiveRoom } from "../lib/useLiveRoom";

export const SCORE_NAMES = ["technical", "communication", "problem_solving"] as const;

const WHO: Record<CaptionSpeaker, string> = { candidate: "Candidate", ai: "AI interviewer", human: "You (human)" };

export function InterviewerView() {
  const { id = "" } = useParams();
  const [state, setState] = useState<LiveState | null>(null);
  const [controller, setController] = useState<Controller>("ai");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [voice, setVoice] = useState(false);
  const [busy, setBusy] = useState(false);
  const [question, setQuestion] = useState("");
  const bottom = useRef<HTMLDivElement>(null);

  const refresh = useCallback(async () => {
    const next = await live.state(id);
    setState(next);
    setController(next.controller);
    return next;
  }, [id]);

  useEffect(() => {
    refresh().catch((err: unknown) => setError(messageOf(err)));
  }, [refresh]);

  // A new line or a change of seat means a new suggestion (and maybe a new controller).
  const onEvent = useCallback(
    (ev: RoomEvent) => {
      if (ev.event === "role" && (ev.data.role === "human" || ev.data.role === "ai")) setController(ev.data.role);
      if (ev.event === "role" || ev.event === "transcript.final") void refresh().catch(() => undefined);
    },
    [refresh],
  );
  const room = useLiveRoom(id, { history: true, onEvent });

  // The stored transcript (complete) joined with the room's live lines (partials included).
  const lines = useMemo(
    () => combineCaptions(captionsFromTurns(state?.turns ?? []), room.captions),
    [state?.turns, room.captions],
  );

  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
  }, [lines]);

  async function act(action: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  const takeover = () =>
    act(async () => {
      const next = await live.takeover(id);
      setState(next);
      setController(next.controller);
    });
  const handback = () =>
    act(async () => {
      const next = await live.handback(id);
      setState(next);
      setController(next.controller);
    });

  function ask(e: FormEvent) {
    e.preventDefault();
    const text = question.trim();
    if (!text) return;
    void act(async () => {
      await live.humanTurn(id, text);
      setQuestion("");
    });
  }

  if (!state) {
    return (
      <main className="page narrow">
        {error ? <ErrorMessage error={error} /> : <p className="muted">Loading the interview…</p>}
        <Link to="/">Back to dashboard</Link>
      </main>
    );
  }

  const candidate = state.participants.find((p) => p.role === "owner" || p.role === "candidate");
  const inControl = controller === "human";

  return (
    <main className="page room">
      <header className="room-head">
        <div>
          <h1>Interviewer seat</h1>
          <p className="muted small">
            {candidate ? `Interviewing ${candidate.email}` : "Interviewing"} ·{" "}
            <span data-controller={controller}>{inControl ? "You are asking the questions" : "The AI is asking the questions"}</span>
            {room.status !== "live" && <> · live room {room.status}</>}
          </p>
        </div>
        <div className="row">
          {inControl ? (
            <button type="button" onClick={() => void handback()} disabled={busy}>
              Hand back to the AI
            </button>
          ) : (
            <button type="button" className="primary" onClick={() => void takeover()} disabled={busy}>
              Take over
            </button>
          )}
          {!voice && (
            <button type="button" onClick={() => setVoice(true)}>
              Join by voice
            </button>
          )}
        </div>
      </header>

      <ErrorMessage error={error} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}

      {voice && (
        <VoicePanel
          interviewId={id}
          captions={lines}
          speaking={room.speaking}
          seat="interviewer"
          onFallback={(message) => {
            setVoice(false);
            setNotice(message);
          }}
          onHangup={() => setVoice(false)}
        />
      )}

      <div className="transcript card" role="log" aria-label="Live transcript">
        {lines.length === 0 && <p className="muted">Nothing said yet.</p>}
        {lines.map((c) => (
          <article key={c.turnSeq} className={`msg msg-${c.speaker === "candidate" ? "candidate" : "interviewer"}${c.final ? "" : " msg-pending"}`}>
            <span className="msg-who">{WHO[c.speaker]}</span>
            <p>{c.text}</p>
          </article>
        ))}
        <div ref={bottom} />
      </div>

      <section className="card suggestion" aria-label="Suggested next question">
        <strong>The AI would ask next</strong>
        {state.suggestion ? <p>{state.suggestion.text}</p> : <p className="muted">No suggestion right now.</p>}
        {inControl && state.suggestion && (
          <button type="button" className="small" onClick={() => setQuestion(state.suggestion?.text ?? "")}>
            Use this question
          </button>
        )}
      </section>

      {inControl && (
        <form className="answer" onSubmit={ask}>
          <label htmlFor="human-question" className="sr-only">
            Your question
          </label>
          <textarea
            id="human-question"
            value={question}
            onChange={(e) => setQuestion(e.target.value)}
            rows={2}
            maxLength={5000}
            placeholder="Type the next question for the candidate."
          />
          <button type="submit" className="primary" disabled={busy || !question.trim()}>
            Ask
          </button>
        </form>
      )}

      <NotesPanel interviewId={id} initial={state.notes ?? []} />
    </main>
  );
}

function NotesPanel({ interviewId, initial }: { interviewId: string; initial: Note[] }) {
  const [notes, setNotes] = useState<Note[]>(initial);
  const [text, setText] = useState("");
  const [scores, setScores] = useState<Record<string, number>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function add(e: FormEvent) {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const note = await live.addNote(interviewId, text.trim(), scores);
      setNotes((ns) => [...ns, note]);
      setText("");
      setScores({});
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card notes" aria-label="Your notes">
      <h2>Notes</h2>
      <ul className="note-list">
        {notes.map((n, i) => (
          <li key={n.id ?? i}>
            {n.text}
            {formatScores(n.scores) && <span className="muted small"> ({formatScores(n.scores)})</span>}
          </li>
        ))}
      </ul>
      <form className="stack" onSubmit={(e) => void add(e)}>
        <label>
          Note
          <textarea value={text} onChange={(e) => setText(e.target.value)} rows={2} maxLength={5000} />
        </label>
        <div className="row">
          {SCORE_NAMES.map((name) => (
            <label key={name}>
              {name.replace("_", " ")} (1–5)
              <select
                value={scores[name] ?? ""}
                onChange={(e) =>
                  setScores((s) => {
                    const next = { ...s };
                    if (e.target.value) next[name] = Number(e.target.value);
                    else delete next[name];
                    return next;
                  })
                }
              >
                <option value="">–</option>
                {[1, 2, 3, 4, 5].map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            </label>
          ))}
        </div>
        <button type="submit" className="primary" disabled={busy || !text.trim()}>
          Add note
        </button>
      </form>
      <ErrorMessage error={error} />
    </section>
  );
}
