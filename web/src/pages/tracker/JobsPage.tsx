// Jobs for you: import a catalogue (.jsonl or .csv), then postings ranked for your latest resume,
// each with the reasons (skills matched and missing, the resume line that matched best).
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";

import { ErrorMessage } from "../../components/ErrorMessage";
import { ApiError, api, messageOf, postForm, unwrap } from "../../lib/client";
import { importProgress, percent, type JobImport, type Recommendations } from "../../lib/tracker";
import { usePolling } from "../../lib/usePolling";

export function JobsPage() {
  const [recs, setRecs] = useState<Recommendations | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [needsResume, setNeedsResume] = useState(false);

  const load = useCallback(async () => {
    setError(null);
    try {
      setRecs(await unwrap(api.GET("/api/v1/tracker/recommendations", { params: { query: { limit: 20 } } })));
      setNeedsResume(false);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setNeedsResume(true);
      else setError(messageOf(err));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <>
      <ImportForm onDone={load} />
      <section className="card" aria-labelledby="recs-heading">
        <div className="section-head">
          <h2 id="recs-heading">Jobs for you</h2>
          <button type="button" className="small" onClick={() => void load()}>
            Refresh
          </button>
        </div>
        <ErrorMessage error={error} />
        {needsResume && (
          <p className="notice">
            Recommendations are ranked for your resume: <Link to="/">add one on the dashboard</Link> first.
          </p>
        )}
        {recs && (
          <>
            <p className="muted small">
              For “{recs.resume_title}” · skills found: {recs.resume_skills.join(", ") || "none"}
            </p>
            {recs.items.length === 0 ? (
              <p className="muted">No postings yet: import a catalogue above.</p>
            ) : (
              <ol className="plain-list recs" aria-label="Recommendations">
                {recs.items.map((r) => (
                  <li key={r.posting.id} className="rec">
                    <div className="section-head">
                      <strong>
                        {r.posting.url ? (
                          <a href={r.posting.url} target="_blank" rel="noreferrer">
                            {r.posting.title}
                          </a>
                        ) : (
                          r.posting.title
                        )}{" "}
                        at {r.posting.company}
                      </strong>
                      <span className="badge" title={`semantic ${r.semantic.toFixed(2)}, skills ${percent(r.skill_overlap)}`}>
                        {Math.round(r.score * 100)}
                      </span>
                    </div>
                    {r.posting.location && <p className="muted small">{r.posting.location}</p>}
                    <p className="small">
                      <strong>Matched:</strong> {r.matched_skills.join(", ") || "—"}
                      {r.missing_skills.length > 0 && (
                        <>
                          {" · "}
                          <strong>Missing:</strong> {r.missing_skills.join(", ")}
                        </>
                      )}
                    </p>
                    {r.best_resume_line && (
                      <p className="small">
                        Your resume, line {r.best_resume_line.line}: <q>{r.best_resume_line.text}</q>
                      </p>
                    )}
                  </li>
                ))}
              </ol>
            )}
          </>
        )}
      </section>
    </>
  );
}

function ImportForm({ onDone }: { onDone: () => Promise<void> }) {
  const [file, setFile] = useState<File | null>(null);
  const [job, setJob] = useState<JobImport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const progress = job ? importProgress(job) : null;

  usePolling(
    async () => {
      if (!job) return;
      const next = await unwrap(api.GET("/api/v1/tracker/jobs/imports/{import_id}", { params: { path: { import_id: job.id } } }));
      setJob(next);
      if (importProgress(next).finished) await onDone();
    },
    1000,
    progress !== null && !progress.finished,
  );

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const form = new FormData();
      form.append("file", file);
      const started = await postForm<JobImport>("/tracker/jobs/import", form);
      setJob(started);
      if (importProgress(started).finished) await onDone();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="import-heading">
      <h2 id="import-heading">Import job postings</h2>
      <p className="muted small">A .jsonl file (one posting a line) or a .csv with a header: title, company, location, description, url, skills.</p>
      <form className="row" onSubmit={(e) => void submit(e)}>
        <label className="grow">
          Catalogue file
          <input type="file" accept=".jsonl,.csv,.tsv,.json" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <button type="submit" className="primary" disabled={!file || busy}>
          Import
        </button>
      </form>
      <ErrorMessage error={error} />
      {job && progress && (
        <div className="stack">
          <div className="meter" aria-hidden="true">
            <div className="meter-fill" style={{ width: percent(progress.fraction ?? 0) }} />
          </div>
          <p className="small" role="status">
            {progress.label}
          </p>
          {job.problems.length > 0 && (
            <details>
              <summary className="small">Rows refused ({job.invalid})</summary>
              <ul className="small">
                {job.problems.map((p, i) => (
                  <li key={i}>
                    line {p.line}: {p.reason}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
    </section>
  );
}
