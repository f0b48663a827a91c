// The administrators' view of the task system: queue depth per pool and lane, live workers, failed
// tasks (dead letters) that can be sent again, and users' tiers (which decide their task lane).
import { useCallback, useEffect, useState, type FormEvent } from "react";

import type { paths } from "../api/schema";
import { ErrorMessage } from "../components/ErrorMessage";
import { api, messageOf, unwrap } from "../lib/client";
import { formatDate } from "../lib/format";
import { usePolling } from "../lib/usePolling";

type JsonOf<T> = T extends { content: { "application/json": infer J } } ? J : never;
type Queues = JsonOf<paths["/api/v1/admin/queues"]["get"]["responses"][200]>;
type Workers = JsonOf<paths["/api/v1/admin/workers"]["get"]["responses"][200]>;
type DeadLetterPage = JsonOf<paths["/api/v1/admin/dead-letters"]["get"]["responses"][200]>;
type DeadLetter = DeadLetterPage["items"][number];
type UserPage = JsonOf<paths["/api/v1/admin/users"]["get"]["responses"][200]>;
type AdminUser = UserPage["items"][number];
type LetterStatus = "open" | "retried" | "all";

const REFRESH_MS = 5000;

export function AdminPage() {
  return (
    <main className="page">
      <h1>Administration</h1>
      <QueuesAndWorkers />
      <FailedTasks />
      <UserTiers />
    </main>
  );
}

function QueuesAndWorkers() {
  const [queues, setQueues] = useState<Queues | null>(null);
  const [workers, setWorkers] = useState<Workers | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [q, w] = await Promise.all([
        unwrap(api.GET("/api/v1/admin/queues")),
        unwrap(api.GET("/api/v1/admin/workers")),
      ]);
      setQueues(q);
      setWorkers(w);
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  usePolling(load, REFRESH_MS, true);

  return (
    <section className="card" aria-labelledby="queues-heading">
      <h2 id="queues-heading">Queues and workers</h2>
      <ErrorMessage error={error} />
      {queues && (
        <>
          <p className="muted small">
            High lane by {queues.lanes === "queues" ? "separate queues" : queues.lanes === "priority" ? "message priority" : "nothing (off)"};
            tiers on it: {queues.high_tiers.join(", ") || "none"}. Held by workers now: {queues.unacked}.
          </p>
          <table className="admin-table" aria-label="Queue depth">
            <thead>
              <tr>
                <th>Pool</th>
                <th>Lane</th>
                <th className="num">Waiting</th>
              </tr>
            </thead>
            <tbody>
              {queues.queues.map((q) => (
                <tr key={`${q.queue}-${q.lane}`}>
                  <td>{q.queue}</td>
                  <td>{q.lane}</td>
                  <td className="num">{q.depth}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {workers && workers.workers.length === 0 && <p className="error small">No worker answered: no task runs.</p>}
      {workers && workers.workers.length > 0 && (
        <table className="admin-table" aria-label="Workers">
          <thead>
            <tr>
              <th>Worker</th>
              <th>Queues</th>
              <th>Pool</th>
              <th className="num">Running</th>
              <th className="num">Done</th>
            </tr>
          </thead>
          <tbody>
            {workers.workers.map((w) => (
              <tr key={w.name}>
                <td>{w.name}</td>
                <td>{w.queues.join(", ")}</td>
                <td>
                  {w.pool} × {w.concurrency}
                </td>
                <td className="num">{w.active}</td>
                <td className="num">{w.processed}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function FailedTasks() {
  const [status, setStatus] = useState<LetterStatus>("open");
  const [page, setPage] = useState<DeadLetterPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setPage(await unwrap(api.GET("/api/v1/admin/dead-letters", { params: { query: { status, limit: 50 } } })));
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [status]);
  useEffect(() => {
    void load();
  }, [load]);

  const retry = async (letter: DeadLetter) => {
    setBusy(letter.id);
    try {
      await unwrap(api.POST("/api/v1/admin/dead-letters/{letter_id}/retry", { params: { path: { letter_id: letter.id } } }));
      await load();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="card" aria-labelledby="failed-heading">
      <div className="row admin-head">
        <h2 id="failed-heading">Failed tasks</h2>
        <label className="small">
          Show{" "}
          <select value={status} onChange={(e) => setStatus(e.target.value as LetterStatus)}>
            <option value="open">waiting for a decision</option>
            <option value="retried">sent again</option>
            <option value="all">all</option>
          </select>
        </label>
      </div>
      <ErrorMessage error={error} />
      {page && page.items.length === 0 && <p className="muted">No failed tasks.</p>}
      {page && page.items.length > 0 && (
        <ul className="dead-letters" aria-label="Failed tasks">
          {page.items.map((letter) => (
            <li key={letter.id} className="dead-letter">
              <div className="row admin-head">
                <strong>{letter.task_name}</strong>
                <span className={`badge badge-${letter.status === "open" ? "failed" : "ready"}`}>{letter.reason}</span>
                <span className="muted small">{formatDate(letter.created_at)}</span>
                {letter.status === "open" ? (
                  <button type="button" className="small" disabled={busy === letter.id} onClick={() => void retry(letter)}>
                    {busy === letter.id ? "Sending…" : "Retry"}
                  </button>
                ) : (
                  <span className="muted small">sent again {formatDate(letter.retried_at)}</span>
                )}
              </div>
              <p className="small">
                {letter.error_type}: {letter.error}
              </p>
              <p className="muted small">
                queue {letter.queue || "?"}, {letter.retries} retries, arguments {JSON.stringify(letter.task_args)}
              </p>
              {letter.traceback && (
                <details>
                  <summary className="small">Traceback</summary>
                  <pre className="small">{letter.traceback}</pre>
                </details>
              )}
            </li>
          ))}
        </ul>
      )}
      {page && page.total > page.items.length && (
        <p className="muted small">
          Showing the newest {page.items.length} of {page.total}.
        </p>
      )}
    </section>
  );
}

function UserTiers() {
  const [query, setQuery] = useState("");
  const [page, setPage] = useState<UserPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  const load = useCallback(async (text: string) => {
    try {
      setPage(await unwrap(api.GET("/api/v1/admin/users", { params: { query: { q: text, limit: 50 } } })));
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);
  useEffect(() => {
    void load("");
  }, [load]);

  const search = (event: FormEvent) => {
    event.preventDefault();
    void load(query);
  };

  const setTier = async (user: AdminUser, tier: string) => {
    setSaved(null);
    try {
      const updated = await unwrap(
        api.PATCH("/api/v1/admin/users/{user_id}", { params: { path: { user_id: user.id } }, body: { tier } }),
      );
      setPage((current) =>
        current && { ...current, items: current.items.map((u) => (u.id === updated.id ? updated : u)) },
      );
      setSaved(`${updated.email} is now ${updated.tier}.`);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <section className="card" aria-labelledby="tiers-heading">
      <h2 id="tiers-heading">Users and tiers</h2>
      <p className="muted small">A user's tier sets their rate limits; the high tiers' tasks take the high lane.</p>
      <form className="row" onSubmit={search} role="search">
        <input
          aria-label="Search users by email or name"
          placeholder="email or name"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <button type="submit">Search</button>
      </form>
      <ErrorMessage error={error} />
      {saved && (
        <p className="muted small" role="status">
          {saved}
        </p>
      )}
      {page && (
        <table className="admin-table" aria-label="Users">
          <thead>
            <tr>
              <th>Email</th>
              <th>Name</th>
              <th>Role</th>
              <th>Tier</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((user) => (
              <tr key={user.id}>
                <td>{user.email}</td>
                <td>{user.name}</td>
                <td>{user.role}</td>
                <td>
                  <select
                    aria-label={`Tier of ${user.email}`}
                    value={user.tier}
                    onChange={(e) => void setTier(user, e.target.value)}
                  >
                    {page.tiers.map((tier) => (
                      <option key={tier} value={tier}>
                        {tier}
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page && page.total > page.items.length && (
        <p className="muted small">
          Showing {page.items.length} of {page.total}; search to narrow.
        </p>
      )}
    </section>
  );
}
