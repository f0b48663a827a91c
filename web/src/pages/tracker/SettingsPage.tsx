// Which tracker mail arrives: deadline reminders, status-change notices, the weekly digest.
import { useEffect, useState, type FormEvent } from "react";

import { ErrorMessage } from "../../components/ErrorMessage";
import { api, messageOf, unwrap } from "../../lib/client";
import type { NotificationPrefs } from "../../lib/tracker";

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

export function SettingsPage() {
  const [prefs, setPrefs] = useState<NotificationPrefs | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    unwrap(api.GET("/api/v1/tracker/notifications/preferences")).then(setPrefs, (err: unknown) => setError(messageOf(err)));
  }, []);

  if (!prefs) return <section className="card">{error ? <ErrorMessage error={error} /> : <p className="muted">Loading…</p>}</section>;
  const set = (change: Partial<NotificationPrefs>) => {
    setSaved(false);
    setPrefs({ ...prefs, ...change });
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!prefs) return;
    setBusy(true);
    setError(null);
    try {
      setPrefs(await unwrap(api.PUT("/api/v1/tracker/notifications/preferences", { body: { ...prefs, timezone: prefs.timezone.trim() } })));
      setSaved(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="prefs-heading">
      <h2 id="prefs-heading">Notification settings</h2>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <label className="check">
          <input type="checkbox" checked={prefs.reminders} onChange={(e) => set({ reminders: e.target.checked })} />
          Deadline reminders (24 hours and 1 hour before)
        </label>
        <label className="check">
          <input type="checkbox" checked={prefs.notices} onChange={(e) => set({ notices: e.target.checked })} />
          Status-change notices
        </label>
        <label className="check">
          <input type="checkbox" checked={prefs.digest} onChange={(e) => set({ digest: e.target.checked })} />
          Weekly digest
        </label>
        <div className="row">
          <label>
            Digest day
            <select value={prefs.digest_weekday} onChange={(e) => set({ digest_weekday: Number(e.target.value) })} disabled={!prefs.digest}>
              {WEEKDAYS.map((d, i) => (
                <option key={d} value={i}>
                  {d}
                </option>
              ))}
            </select>
          </label>
          <label>
            Hour
            <select value={prefs.digest_hour} onChange={(e) => set({ digest_hour: Number(e.target.value) })} disabled={!prefs.digest}>
              {Array.from({ length: 24 }, (_, h) => (
                <option key={h} value={h}>
                  {String(h).padStart(2, "0")}:00
                </option>
              ))}
            </select>
          </label>
          <label className="grow">
            Time zone
            <input value={prefs.timezone} onChange={(e) => set({ timezone: e.target.value })} placeholder="Europe/Berlin" required />
          </label>
        </div>
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>
            Save
          </button>
          {saved && (
            <span className="muted small" role="status">
              Saved.
            </span>
          )}
        </div>
      </form>
      <ErrorMessage error={error} />
    </section>
  );
}
