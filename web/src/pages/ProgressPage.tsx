// Progress across interviews: a line chart of the overall score and the rubric dimensions over time,
// and the weak points (low recent averages) that the next interview's questions are picked to practise.
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router-dom";

import { ErrorMessage } from "../components/ErrorMessage";
import { ProgressChart, SERIES_COLOURS, type ChartSeries } from "../components/ProgressChart";
import { api, messageOf, unwrap } from "../lib/client";
import { formatDate } from "../lib/format";
import type { Progress, ProgressPoint, WeakPoint } from "../lib/types";

const DIMENSIONS = ["relevance", "structure", "depth", "communication", "correctness"] as const;
// The next interview targets this many weak points, the weakest (interviews/progress.py MAX_FOCUS).
const TARGETED = 3;
const TREND_LABEL: Record<WeakPoint["trend"], string> = {
  improving: "improving",
  declining: "declining",
  flat: "no clear change",
};

export function ProgressPage() {
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setProgress(await unwrap(api.GET("/api/v1/progress")));
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <main className="page">
      <h1>Your progress</h1>
      <ErrorMessage error={error} />
      {!progress && !error && <p className="muted">Loading your progress…</p>}
      {progress && progress.interviews.length === 0 && (
        <section className="card">
          <p className="muted">
            No scored interviews yet. Finish an interview and its report shows up here, with the scores to work on.
          </p>
          <Link to="/interviews/new" className="button primary">
            New interview
          </Link>
        </section>
      )}
      {progress && progress.interviews.length > 0 && (
        <>
          <ScoresOverTime points={progress.interviews} />
          <WeakPoints progress={progress} />
          <InterviewTable points={progress.interviews} />
        </>
      )}
    </main>
  );
}

function chartSeries(points: ProgressPoint[]): ChartSeries[] {
  const dims = DIMENSIONS.filter((d) => points.some((p) => p.dimensions[d] != null));
  return [
    { key: "overall", label: "Overall (0–100)", max: 100, values: points.map((p) => p.overall_score ?? null) },
    ...dims.map((d) => ({ key: d, label: d, max: 5, values: points.map((p) => p.dimensions[d] ?? null) })),
  ];
}

function shortDate(iso: string): string {
  const utc = /[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`;
  return new Date(utc).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

function ScoresOverTime({ points }: { points: ProgressPoint[] }) {
  const series = chartSeries(points);
  return (
    <section className="card progress-card" aria-labelledby="chart-heading">
      <h2 id="chart-heading">Scores over time</h2>
      <p className="muted small">
        Overall score on the left axis (0–100), each dimension on the right (0–5); oldest interview first.
      </p>
      <ProgressChart
        title={`Scores over your last ${points.length} interview${points.length === 1 ? "" : "s"}`}
        series={series}
        dates={points.map((p) => shortDate(p.date))}
      />
      <ul className="chart-legend" aria-label="Chart legend">
        {series.map((s) => (
          <li key={s.key}>
            <span className="swatch" style={{ background: SERIES_COLOURS[s.key] ?? "#667085" }} aria-hidden="true" />
            {s.label}
          </li>
        ))}
      </ul>
    </section>
  );
}

function WeakPoints({ progress }: { progress: Progress }) {
  const weak = progress.weak_points;
  return (
    <section className="card" aria-labelledby="weak-heading">
      <h2 id="weak-heading">Weak points</h2>
      {weak.length === 0 ? (
        <p className="muted">
          Nothing averages below {progress.threshold}/5 in your recent interviews. Keep practising to stay there.
        </p>
      ) : (
        <>
          <p className="muted small">
            Scores and question types averaging below {progress.threshold}/5 over your last {progress.window}{" "}
            interviews that had them, the newest counting most. Your next interview picks questions that practise
            the first {Math.min(TARGETED, weak.length)}.
          </p>
          <ol className="weak-points" aria-label="Weak points">
            {weak.map((w, i) => (
              <li key={`${w.kind}-${w.name}`} className="weak-point" data-targeted={i < TARGETED}>
                <div className="weak-head">
                  <strong className="weak-name">{w.label}</strong>
                  <span className="muted small">{w.kind === "dimension" ? "score" : "question type"}</span>
                  <span className="weak-average">{w.average.toFixed(1)}/5</span>
                  {w.interviews > 1 && (
                    <span className="trend" data-trend={w.trend}>
                      {TREND_LABEL[w.trend]}
                    </span>
                  )}
                </div>
                <p className="muted small">
                  {capitalise(w.reason)}; based on {w.interviews} interview{w.interviews === 1 ? "" : "s"}.
                </p>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}

function InterviewTable({ points }: { points: ProgressPoint[] }) {
  return (
    <section className="card" aria-labelledby="history-heading">
      <h2 id="history-heading">Interviews</h2>
      <ul className="iv-list" aria-label="Scored interviews">
        {[...points].reverse().map((p) => (
          <li key={p.interview_id} className="iv">
            <div className="doc-main">
              <strong>
                {p.target_role}
                {p.company ? ` at ${p.company}` : ""}
              </strong>
              <span className="muted small">
                {formatDate(p.date)} · {p.answers} answer{p.answers === 1 ? "" : "s"} scored
              </span>
            </div>
            <span className="weak-average">{p.overall_score == null ? "–" : Math.round(p.overall_score)}/100</span>
            <Link to={`/interviews/${p.interview_id}/report`} className="button small">
              Report
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
