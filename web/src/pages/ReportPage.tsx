// The interview report: polled until the worker has scored it, then the overall score and per-answer feedback.
import { useCallback, useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";

import { ErrorMessage } from "../components/ErrorMessage";
import { ApiError, api, messageOf, unwrap } from "../lib/client";
import type { Report, ReportItem } from "../lib/types";
import { usePolling } from "../lib/usePolling";

const POLL_MS = 2000;
const SCORE_NAMES = ["relevance", "structure", "depth", "communication"] as const;

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
      {report?.status === "ready" && <ReadyReport report={report} />}
    </main>
  );
}

function ReadyReport({ report }: { report: Report }) {
  const score = report.overall_score == null ? null : Math.round(report.overall_score);
  return (
    <>
      <section className="card score-card" aria-labelledby="overall-heading">
        <div className="score-ring" data-band={band(score)}>
          <span className="score-value" aria-labelledby="overall-heading">
            {score ?? "–"}
          </span>
          <span className="score-max">/ 100</span>
        </div>
        <div>
          <h2 id="overall-heading">Overall score</h2>
          <p className="summary">{report.summary || "No summary."}</p>
        </div>
      </section>
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
      <p className="feedback">{item.feedback}</p>
    </li>
  );
}

function band(score: number | null): string {
  if (score == null) return "none";
  if (score >= 70) return "good";
  if (score >= 40) return "ok";
  return "low";
}
