// Home: the user's documents and past interviews.
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router-dom";

import { DocumentsPanel } from "../components/DocumentsPanel";
import { ErrorMessage } from "../components/ErrorMessage";
import { api, messageOf, unwrap } from "../lib/client";
import { formatDate, KIND_LABEL } from "../lib/format";
import type { InterviewListItem } from "../lib/types";

export function Dashboard() {
  return (
    <main className="page">
      <DocumentsPanel />
      <InterviewsPanel />
    </main>
  );
}

function InterviewsPanel() {
  const [interviews, setInterviews] = useState<InterviewListItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setInterviews(await unwrap(api.GET("/api/v1/interviews")));
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function remove(iv: InterviewListItem) {
    try {
      await unwrap(api.DELETE("/api/v1/interviews/{interview_id}", { params: { path: { interview_id: iv.id } } }));
      setInterviews((list) => list?.filter((x) => x.id !== iv.id) ?? null);
    } catch (err) {
      setError(messageOf(err));
    }
  }

  return (
    <section className="card" aria-labelledby="interviews-heading">
      <div className="section-head">
        <h2 id="interviews-heading">Your interviews</h2>
        <div className="row">
          <Link to="/progress" className="button">
            Your progress
          </Link>
          <Link to="/interviews/new" className="button primary">
            New interview
          </Link>
        </div>
      </div>
      <ErrorMessage error={error} />
      {interviews === null ? (
        !error && <p className="muted">Loading interviews…</p>
      ) : interviews.length === 0 ? (
        <p className="muted">No interviews yet. Start one to practise.</p>
      ) : (
        <ul className="iv-list" aria-label="Interviews">
          {interviews.map((iv) => (
            <li key={iv.id} className="iv">
              <div className="doc-main">
                <strong>
                  {iv.target_role}
                  {iv.company ? ` at ${iv.company}` : ""}
                </strong>
                <span className="muted small">
                  {KIND_LABEL[iv.kind] ?? iv.kind} · {iv.questions_asked}/{iv.length} questions ·{" "}
                  {formatDate(iv.created_at)}
                </span>
              </div>
              <span className={`badge badge-${iv.status}`}>{iv.status}</span>
              {iv.status === "ended" ? (
                <Link to={`/interviews/${iv.id}/report`} className="button small">
                  Report
                </Link>
              ) : (
                <Link to={`/interviews/${iv.id}`} className="button small">
                  {iv.status === "created" ? "Begin" : "Continue"}
                </Link>
              )}
              <button
                type="button"
                className="ghost small"
                aria-label={`Delete interview ${iv.target_role}`}
                onClick={() => void remove(iv)}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
