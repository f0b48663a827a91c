// The interview report: polled until the worker has scored it, then the overall score, hiring signal,
// a radar of the average scores, and per answer its scores, measures and the sentences they rest on.
import { useCallback, useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";

import { ErrorMessage } from "../components/ErrorMessage";
import { RadarChart } from "../components/RadarChart";
import { API_BASE, ApiError, api, authFetch, errorFromResponse, messageOf, unwrap } from "../lib/client";
import { formatScores, type Note } from "../lib/live";
import type { Report, ReportItem } from "../lib/types";
import { usePolling } from "../lib/usePolling";

const POLL_MS = 2000;
const SCORE_NAMES = ["relevance", "structure", "depth", "communication", "correctness"] as const;
type ScoreName = (typeof SCORE_NAMES)[number];
type Evidence = NonNullable<ReportItem["evidence"]>[number];
const SIGNAL_LABELS: Record<NonNullable<Report["signal"]>, string> = {
  strong_hire: "Strong hire",
  hire: "Hire",
  lean_no: "Lean no",
  no: "No hire",
};

export function ReportPage() {
  const { id = "" } = useParams();
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notEnded, setNotEnded] = useState(false);

  const load = useCallback(async () => {
    try {
      setReport(await unwrap(api.GET("/api/v1/interviews/{interview_id}/report", { params: { path: { interview_id: id } } })));
      setError(null);
    } catch (err) {
      if (err instanceof ApiError && err.code === "no_report") setNotEnded(true);
      setError(messageOf(err));
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  usePolling(load, POLL_MS, report?.status === "pending");

  return (
    <main className="page narrow">
      <p>
        <Link to="/">← Dashboard</Link>
      </p>
      <h1>Interview report</h1>
      <ErrorMessage error={error} />
      {notEnded && (
        <p>
          <Link to={`/interviews/${id}`}>Go back to the interview</Link>
        </p>
      )}
      {!report && !error && <p className="muted">Loading report…</p>}
      {report?.status === "pending" && (
        <p className="notice" role="status">
          <span className="spinner" aria-hidden="true" /> Your answers are being scored. This page updates by itself.
        </p>
      )}
      {report?.status === "failed" && (
        <p className="error" role="alert">
          The report could not be generated: {report.error || "unknown error"}
        </p>
      )}
      {report?.status === "ready" && <ReadyReport report={report} interviewId={id} />}
    </main>
  );
}

function ReadyReport({ report, interviewId }: { report: Report; interviewId: string }) {
  const score = report.overall_score == null ? null : Math.round(report.overall_score);
  const averages = averageScores(report.items);
  return (
    <>
      <section className="card score-card" aria-labelledby="overall-heading">
        <div className="score-ring" data-band={band(score)}>
          <span className="score-value" aria-labelledby="overall-heading">
            {score ?? "–"}
          </span>
          <span className="score-max">/ 100</span>
        </div>
        <div className="grow">
          <h2 id="overall-heading">Overall score</h2>
          {report.signal && (
            <p>
              <span className="signal" data-signal={report.signal}>
                {SIGNAL_LABELS[report.signal]}
              </span>
            </p>
          )}
          <p className="summary">{report.summary || "No summary."}</p>
          <DownloadPdf interviewId={interviewId} />
        </div>
      </section>
      {report.items.length > 0 && (
        <section className="card report-overview" aria-label="Strengths, weaknesses and average scores">
          <RadarChart title="Average scores out of 5" axes={averages} />
          <div className="grow">
            <Bullets title="Strengths" bullets={report.strengths} />
            <Bullets title="To work on" bullets={report.weaknesses} />
            {report.measures && <OverallMeasures m={report.measures} />}
          </div>
        </section>
      )}
      <InterviewerNotes notes={(report as { interviewer_notes?: Note[] }).interviewer_notes ?? []} />
      <h2>Your answers</h2>
      {report.items.length === 0 && <p className="muted">No answers were scored.</p>}
      <ol className="items">
        {report.items.map((item, i) => (
          <Item key={i} item={item} n={i + 1} />
        ))}
      </ol>
    </>
  );
}

/** What an invited human interviewer wrote and scored (issue 5); absent when nobody was invited. */
function InterviewerNotes({ notes }: { notes: Note[] }) {
  if (notes.length === 0) return null;
  return (
    <section className="card" aria-label="The human interviewer's notes">
      <h2>The human interviewer's notes</h2>
      <ul className="note-list">
        {notes.map((n, i) => (
          <li key={n.id ?? i}>
            {n.text}
            {formatScores(n.scores) && <span className="muted small"> ({formatScores(n.scores)})</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Bullets({ title, bullets }: { title: string; bullets: string[] }) {
  if (bullets.length === 0) return null;
  return (
    <>
      <h3>{title}</h3>
      <ul className="bullets">
        {bullets.map((b) => (
          <li key={b}>{b}</li>
        ))}
      </ul>
    </>
  );
}

function OverallMeasures({ m }: { m: NonNullable<Report["measures"]> }) {
  return (
    <p className="muted small">
      {m.mean_words.toFixed(0)} words per answer · {m.fillers_per_100_words.toFixed(1)} fillers and{" "}
      {m.hedges_per_100_words.toFixed(1)} hedges per 100 words
      {m.mean_response_s != null && <> · {m.mean_response_s.toFixed(0)} s mean response time</>}
      {m.words_per_minute != null && <> · {m.words_per_minute.toFixed(0)} words/min</>}
    </p>
  );
}

/** Fetch the PDF with the auth header (a plain link would not send it) and save it as a file. */
function DownloadPdf({ interviewId }: { interviewId: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const response = await authFetch(new Request(`${API_BASE}/interviews/${interviewId}/report.pdf`));
      if (!response.ok) throw await errorFromResponse(response);
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = `mocki-report-${interviewId}.pdf`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="small" onClick={() => void download()} disabled={busy}>
        {busy ? "Preparing PDF…" : "Download PDF"}
      </button>
      <ErrorMessage error={error} />
    </>
  );
}

function averageScores(items: ReportItem[]): { label: string; value: number }[] {
  return SCORE_NAMES.flatMap((name) => {
    const values = items.map((i) => i.scores[name]).filter((v): v is number => v != null);
    if (values.length === 0) return [];
    return [{ label: name, value: values.reduce((a, b) => a + b, 0) / values.length }];
  });
}

function Item({ item, n }: { item: ReportItem; n: number }) {
  return (
    <li className="card item">
      <h3>Question {n}</h3>
      <p className="q">{item.question}</p>
      <p className="a">
        <span className="muted small">Your answer</span>
        <br />
        {item.answer}
      </p>
      <dl className="scores">
        {SCORE_NAMES.map((name) => {
          const value = item.scores[name];
          if (value == null) return null; // correctness: technical answers only
          return (
            <div key={name} className="score-row">
              <dt>{name}</dt>
              <dd>
                <meter
                  min={0}
                  max={5}
                  low={2}
                  high={3.5}
                  optimum={5}
                  value={value}
                  aria-label={`${name} ${value} of 5`}
                />
                <span>{value}/5</span>
              </dd>
            </div>
          );
        })}
      </dl>
      {item.measures && <ItemMeasures m={item.measures} />}
      <p className="feedback">{item.feedback}</p>
      <EvidenceList evidence={item.evidence ?? []} />
    </li>
  );
}

function ItemMeasures({ m }: { m: NonNullable<ReportItem["measures"]> }) {
  const terms = Object.keys(m.filler_terms);
  return (
    <p className="measures muted small">
      {m.words} words · {m.fillers} fillers ({m.fillers_per_100_words.toFixed(1)}/100 words
      {terms.length > 0 && <>: {terms.join(", ")}</>}) · {m.hedges} hedges
      {m.response_s != null && <> · answered after {m.response_s.toFixed(0)} s</>}
      {m.words_per_minute != null && <> · {m.words_per_minute.toFixed(0)} words/min</>}
    </p>
  );
}

/** The transcript sentences each score rests on, grouped by score. */
function EvidenceList({ evidence }: { evidence: Evidence[] }) {
  if (evidence.length === 0) return null;
  const byName = new Map<ScoreName, Evidence[]>();
  for (const e of evidence) byName.set(e.dimension, [...(byName.get(e.dimension) ?? []), e]);
  return (
    <details className="evidence">
      <summary>What these scores rest on</summary>
      <dl>
        {SCORE_NAMES.filter((name) => byName.has(name)).map((name) => (
          <div key={name}>
            <dt>{name}</dt>
            {byName.get(name)?.map((e, i) => (
              <dd key={i}>
                <q>{e.quote}</q> <span className="muted small">turn {e.seq} · {e.note}</span>
              </dd>
            ))}
          </div>
        ))}
      </dl>
    </details>
  );
}

function band(score: number | null): string {
  if (score == null) return "none";
  if (score >= 70) return "good";
  if (score >= 40) return "ok";
  return "low";
}
