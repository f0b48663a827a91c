// Mail: connect an IMAP mailbox or Gmail, upload .eml/.mbox files, and watch each sync's progress.
import { useCallback, useEffect, useState, type FormEvent } from "react";

import { ErrorMessage } from "../../components/ErrorMessage";
import { ApiError, api, messageOf, postForm, unwrap } from "../../lib/client";
import { formatDate } from "../../lib/format";
import { percent, syncProgress, type Account, type Sync } from "../../lib/tracker";
import { usePolling } from "../../lib/usePolling";

export function MailPage() {
  const [accounts, setAccounts] = useState<Account[] | null>(null);
  const [syncs, setSyncs] = useState<Sync[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [a, s] = await Promise.all([
        unwrap(api.GET("/api/v1/tracker/accounts")),
        unwrap(api.GET("/api/v1/tracker/syncs", { params: { query: { limit: 10 } } })),
      ]);
      setAccounts(a);
      setSyncs(s);
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const started = (sync: Sync) => setSyncs((list) => [sync, ...list.filter((s) => s.id !== sync.id)]);
  const finished = (sync: Sync) => {
    setSyncs((list) => list.map((s) => (s.id === sync.id ? sync : s)));
    void load();
  };

  return (
    <>
      <section className="card" aria-labelledby="accounts-heading">
        <h2 id="accounts-heading">Mail accounts</h2>
        <ErrorMessage error={error} />
        <AccountList accounts={accounts} onChange={load} onSync={started} />
      </section>
      <UploadForm onStarted={started} />
      <ImapForm onAdded={load} />
      <GmailConnect />
      <section className="card" aria-labelledby="syncs-heading">
        <h2 id="syncs-heading">Recent syncs</h2>
        {syncs.length === 0 ? (
          <p className="muted">No syncs yet.</p>
        ) : (
          <ul className="plain-list" aria-label="Syncs">
            {syncs.map((s) => (
              <SyncRow key={s.id} sync={s} onFinished={finished} />
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

function AccountList({
  accounts,
  onChange,
  onSync,
}: {
  accounts: Account[] | null;
  onChange: () => Promise<void>;
  onSync: (sync: Sync) => void;
}) {
  const [error, setError] = useState<string | null>(null);
  if (accounts === null) return <p className="muted">Loading accounts…</p>;
  if (accounts.length === 0) return <p className="muted">No mail connected yet: add a mailbox or upload a file below.</p>;

  async function act(run: () => Promise<unknown>) {
    setError(null);
    try {
      await run();
      await onChange();
    } catch (err) {
      setError(messageOf(err));
    }
  }
  const path = (a: Account) => ({ params: { path: { account_id: a.id } } });

  return (
    <>
      <ErrorMessage error={error} />
      <ul className="iv-list" aria-label="Accounts">
        {accounts.map((a) => (
          <li key={a.id} className="iv">
            <div className="doc-main">
              <strong>{a.label || a.address || a.kind}</strong>
              <span className="muted small">
                {a.kind} {a.address && `· ${a.address}`} ·{" "}
                {a.last_synced_at ? `synced ${formatDate(a.last_synced_at)}` : "never synced"}
                {a.error && ` · ${a.error}`}
              </span>
            </div>
            <span className={`badge badge-${a.status}`}>{a.status}</span>
            {a.kind !== "upload" && a.status === "active" && (
              <>
                <button
                  type="button"
                  className="button small"
                  onClick={() => void act(async () => onSync(await unwrap(api.POST("/api/v1/tracker/accounts/{account_id}/sync", path(a)))))}
                >
                  Sync now
                </button>
                <button
                  type="button"
                  className="ghost small"
                  onClick={() => void act(() => unwrap(api.POST("/api/v1/tracker/accounts/{account_id}/revoke", path(a))))}
                >
                  Revoke
                </button>
              </>
            )}
            <button
              type="button"
              className="ghost small"
              aria-label={`Delete account ${a.label || a.address || a.kind}`}
              onClick={() => {
                if (window.confirm("Delete this account? The emails read from it stay on the board.")) {
                  void act(() => unwrap(api.DELETE("/api/v1/tracker/accounts/{account_id}", path(a))));
                }
              }}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

function UploadForm({ onStarted }: { onStarted: (sync: Sync) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const form = new FormData();
      form.append("file", file);
      onStarted(await postForm<Sync>("/tracker/uploads", form));
      setFile(null);
      (e.target as HTMLFormElement).reset();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="upload-heading">
      <h2 id="upload-heading">Upload mail</h2>
      <form className="row" onSubmit={(e) => void submit(e)}>
        <label className="grow">
          Mailbox file (.eml or .mbox)
          <input type="file" accept=".eml,.mbox,message/rfc822" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <button type="submit" className="primary" disabled={!file || busy}>
          {busy ? "Uploading…" : "Upload"}
        </button>
      </form>
      <ErrorMessage error={error} />
    </section>
  );
}

function ImapForm({ onAdded }: { onAdded: () => Promise<void> }) {
  const [label, setLabel] = useState("");
  const [host, setHost] = useState("");
  const [port, setPort] = useState("993");
  const [security, setSecurity] = useState<"ssl" | "starttls" | "none">("ssl");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [folders, setFolders] = useState("INBOX");
  const [since, setSince] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await unwrap(
        api.POST("/api/v1/tracker/accounts/imap", {
          body: {
            label: label.trim(),
            host: host.trim(),
            port: Number(port),
            security,
            username: username.trim(),
            password,
            folders: folders.split(",").map((f) => f.trim()).filter(Boolean),
            since: since || null,
          },
        }),
      );
      setPassword("");
      await onAdded();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="imap-heading">
      <h2 id="imap-heading">Connect a mailbox (IMAP)</h2>
      <p className="muted small">Use an app password for Gmail, Outlook or Fastmail. MOCKI signs in once to check it.</p>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <label>
          Label (optional)
          <input value={label} onChange={(e) => setLabel(e.target.value)} placeholder="Work mail" maxLength={200} />
        </label>
        <div className="row">
          <label className="grow">
            Host
            <input value={host} onChange={(e) => setHost(e.target.value)} placeholder="imap.example.com" required />
          </label>
          <label>
            Port
            <input type="number" min={1} max={65535} value={port} onChange={(e) => setPort(e.target.value)} required />
          </label>
          <label>
            Security
            <select value={security} onChange={(e) => setSecurity(e.target.value as typeof security)}>
              <option value="ssl">SSL/TLS</option>
              <option value="starttls">STARTTLS</option>
              <option value="none">None</option>
            </select>
          </label>
        </div>
        <div className="row">
          <label className="grow">
            User
            <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" required />
          </label>
          <label className="grow">
            App password
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" required />
          </label>
        </div>
        <div className="row">
          <label className="grow">
            Folders (comma separated)
            <input value={folders} onChange={(e) => setFolders(e.target.value)} />
          </label>
          <label>
            Since
            <input type="date" value={since} onChange={(e) => setSince(e.target.value)} />
          </label>
        </div>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Checking…" : "Connect mailbox"}
        </button>
      </form>
      <ErrorMessage error={error} />
    </section>
  );
}

// The api answers 503 when Gmail is not configured on this server; then the button goes away.
function GmailConnect() {
  const [error, setError] = useState<string | null>(null);
  const [unavailable, setUnavailable] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function connect() {
    setBusy(true);
    setError(null);
    try {
      const { authorization_url } = await unwrap(api.POST("/api/v1/tracker/accounts/gmail/authorize", { body: { label: "Gmail" } }));
      window.location.assign(authorization_url);
    } catch (err) {
      if (err instanceof ApiError && err.status === 503) setUnavailable(err.message);
      else setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="gmail-heading">
      <h2 id="gmail-heading">Gmail</h2>
      {unavailable ? (
        <p className="muted">{unavailable} An IMAP app password works for Gmail too.</p>
      ) : (
        <button type="button" onClick={() => void connect()} disabled={busy}>
          Connect Gmail (read-only)
        </button>
      )}
      <ErrorMessage error={error} />
    </section>
  );
}

function SyncRow({ sync: initial, onFinished }: { sync: Sync; onFinished: (sync: Sync) => void }) {
  const [sync, setSync] = useState(initial);
  useEffect(() => setSync(initial), [initial]);
  const progress = syncProgress(sync);

  usePolling(
    async () => {
      const next = await unwrap(api.GET("/api/v1/tracker/syncs/{sync_id}", { params: { path: { sync_id: sync.id } } }));
      setSync(next);
      if (syncProgress(next).finished) onFinished(next);
    },
    1000,
    !progress.finished,
  );

  return (
    <li className="sync" aria-label={`Sync ${sync.filename || formatDate(sync.created_at)}`}>
      <div className="row sync-head">
        <strong className="grow">{sync.filename || "Mailbox sync"}</strong>
        <span className={`badge badge-${sync.status}`}>{sync.status}</span>
      </div>
      <div className="meter" aria-hidden="true">
        <div className="meter-fill" style={{ width: percent(progress.fraction ?? (progress.finished ? 1 : 0)) }} />
      </div>
      <p className="small sync-status" role="status">
        {progress.label}
      </p>
      <p className="muted small">
        fetched {sync.fetched}
        {sync.total != null && ` of ${sync.total}`} · stored {sync.stored} · duplicates {sync.duplicates} · malformed{" "}
        {sync.malformed} · analysed {sync.analysed}
        {sync.analysis_failed > 0 && ` · analysis failed ${sync.analysis_failed}`}
      </p>
      {sync.problems.length > 0 && (
        <details>
          <summary className="small">Problems ({sync.problems.length})</summary>
          <ul className="small">
            {sync.problems.map((p, i) => (
              <li key={i}>
                {p.ref}: {p.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </li>
  );
}
