// One application: edit company, position and status by hand (they win over later syncs), its
// timeline of events, and the mock interview to prepare with.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { ErrorMessage } from "../../components/ErrorMessage";
import { ApiError, api, messageOf, unwrap } from "../../lib/client";
import { formatDate } from "../../lib/format";
import { STATUS_LABEL, type ApplicationDetail } from "../../lib/tracker";

type Status = "applied" | "assessment" | "interview" | "offer" | "rejected" | "recruiter_outreach";
const STATUSES = Object.keys(STATUS_LABEL) as Status[];

export function ApplicationPage() {
  const { id = "" } = useParams();
  const [app, setApp] = useState<ApplicationDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setApp(await unwrap(api.GET("/api/v1/tracker/applications/{application_id}", { params: { path: { application_id: id } } })));
    } catch (err) {
      setError(messageOf(err));
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  if (!app) return <section className="card">{error ? <ErrorMessage error={error} /> : <p className="muted">Loading…</p>}</section>;
  return (
    <>
      <section className="card" aria-labelledby="app-heading">
        <p className="small">
          <Link to="/tracker">← Board</Link>
        </p>
        <div className="section-head">
          <h2 id="app-heading">
            {app.position || "Position unknown"} at {app.company}
          </h2>
          <span className={`badge badge-${app.status}`}>{STATUS_LABEL[app.status] ?? app.status}</span>
        </div>
        <p className="muted small">
          Applied {app.applied_at ? formatDate(app.applied_at) : "—"} · first response{" "}
          {app.first_response_at ? formatDate(app.first_response_at) : "—"} · from the emails: {STATUS_LABEL[app.extracted_status] ?? app.extracted_status}
        </p>
        <PrepLink app={app} onMade={load} />
      </section>
      <EditForm app={app} onSaved={load} />
      <section className="card" aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        {app.events.length === 0 ? (
          <p className="muted">No events yet.</p>
        ) : (
          <ol className="timeline" aria-label="Timeline">
            {app.events.map((ev) => (
              <li key={ev.id} className="timeline-item">
                <div className="row">
                  <span className={`badge badge-${ev.kind}`}>{STATUS_LABEL[ev.kind] ?? ev.kind}</span>
                  <span className="muted small">{formatDate(ev.occurred_at)}</span>
                  <span className="muted small">{ev.source === "manual" ? "set by you" : ev.source}</span>
                </div>
                {ev.summary && <p>{ev.summary}</p>}
                <p className="small">
                  {ev.interview_at && <>Interview: {formatDate(ev.interview_at)}. </>}
                  {ev.deadline_at && <>Deadline: {formatDate(ev.deadline_at)}. </>}
                  {ev.next_action && <>Next: {ev.next_action}</>}
                </p>
                {(ev.assessment_url || ev.links.length > 0) && (
                  <ul className="small">
                    {ev.assessment_url && (
                      <li>
                        <a href={ev.assessment_url} target="_blank" rel="noreferrer">
                          Assessment
                        </a>
                      </li>
                    )}
                    {ev.links.map((l, i) => (
                      <li key={i}>
                        <a href={l.url} target="_blank" rel="noreferrer">
                          {l.label || l.kind || l.url}
                        </a>
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}

function PrepLink({ app, onMade }: { app: ApplicationDetail; onMade: () => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();

  async function prepare() {
    setBusy(true);
    setError(null);
    try {
      const prep = await unwrap(
        api.POST("/api/v1/tracker/applications/{application_id}/prep", { params: { path: { application_id: app.id } } }),
      );
      navigate(`/interviews/${prep.interview_id}`);
    } catch (err) {
      // 409: a prep interview is still open; the reload shows its link.
      if (err instanceof ApiError && err.status === 409) await onMade();
      setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <div className="row">
      {app.prep_interview_id ? (
        <Link to={`/interviews/${app.prep_interview_id}`} className="button primary">
          Practise for this interview
        </Link>
      ) : (
        <button type="button" onClick={() => void prepare()} disabled={busy}>
          {busy ? "Preparing…" : "Make a practice interview"}
        </button>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}

function EditForm({ app, onSaved }: { app: ApplicationDetail; onSaved: () => Promise<void> }) {
  const [company, setCompany] = useState(app.company);
  const [position, setPosition] = useState(app.position);
  const [status, setStatus] = useState(app.status as Status);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const manual = app.manual ?? {};

  useEffect(() => {
    setCompany(app.company);
    setPosition(app.position);
    setStatus(app.status as Status);
  }, [app]);

  async function patch(body: { company?: string | null; position?: string | null; status?: Status | null }) {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await unwrap(
        api.PATCH("/api/v1/tracker/applications/{application_id}", { params: { path: { application_id: app.id } }, body }),
      );
      await onSaved();
      setSaved(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    // Only what changed: a field sent is pinned by hand.
    const body: { company?: string; position?: string; status?: Status } = {};
    if (company !== app.company) body.company = company;
    if (position !== app.position) body.position = position;
    if (status !== app.status) body.status = status;
    if (Object.keys(body).length > 0) void patch(body);
  }

  const tag = (field: string) =>
    field in manual ? (
      <span className="manual-tag" data-field={field}>
        {field} set by hand ·{" "}
        <button type="button" className="link-button" onClick={() => void patch({ [field]: null })} aria-label={`Hand ${field} back to the emails`}>
          use the emails
        </button>
      </span>
    ) : (
      <span className="muted small">{field} from the emails</span>
    );

  return (
    <section className="card" aria-labelledby="edit-heading">
      <h2 id="edit-heading">Edit</h2>
      <p className="muted small">Fields you set by hand win over everything read from mail later.</p>
      <form className="stack" onSubmit={submit}>
        <div className="field">
          <label>
            Company
            <input value={company} onChange={(e) => setCompany(e.target.value)} required maxLength={300} />
          </label>
          {tag("company")}
        </div>
        <div className="field">
          <label>
            Position
            <input value={position} onChange={(e) => setPosition(e.target.value)} maxLength={300} />
          </label>
          {tag("position")}
        </div>
        <div className="field">
          <label>
            Status
            <select value={status} onChange={(e) => setStatus(e.target.value as Status)}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABEL[s]}
                </option>
              ))}
            </select>
          </label>
          {tag("status")}
        </div>
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>
            Save
          </button>
          {saved && <span className="muted small" role="status">Saved.</span>}
        </div>
      </form>
      <ErrorMessage error={error} />
    </section>
  );
}
