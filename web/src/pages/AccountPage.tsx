// The signed-in user's account: change the password, delete the account and everything in it.
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";

import { ErrorMessage } from "../components/ErrorMessage";
import { useAuth } from "../lib/auth";
import { api, messageOf, unwrap } from "../lib/client";

export function AccountPage() {
  const { user } = useAuth();
  if (!user) return null;
  return (
    <main className="page narrow">
      <div>
        <h1>Account</h1>
        <p className="muted">Signed in as {user.name ? `${user.name} (${user.email})` : user.email}.</p>
      </div>
      <ChangePassword email={user.email} />
      <DeleteAccount email={user.email} />
    </main>
  );
}

function ChangePassword({ email }: { email: string }) {
  const { signIn, signOut } = useAuth();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setDone(false);
    if (next !== repeat) {
      setError("The two new passwords differ.");
      return;
    }
    setBusy(true);
    try {
      // The api answers with its policy's reasons (too short, your email, too common) as the message.
      await unwrap(
        api.POST("/api/v1/users/me/password", { body: { current_password: current, new_password: next } }),
      );
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
      return;
    }
    // The change ends every session at its next refresh, this one included: start a new one here.
    try {
      await signIn(email, next);
    } catch {
      await signOut("Your password was changed. Sign in with the new one.");
      return;
    }
    setCurrent("");
    setNext("");
    setRepeat("");
    setDone(true);
    setBusy(false);
  }

  return (
    <section className="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <form className="stack" onSubmit={onSubmit} aria-label="Change password">
        <label>
          Current password
          <input
            type="password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
            autoComplete="current-password"
            required
          />
        </label>
        <label>
          New password
          <input
            type="password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
            autoComplete="new-password"
            required
          />
        </label>
        <label>
          Repeat the new password
          <input
            type="password"
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
            autoComplete="new-password"
            required
          />
        </label>
        <ErrorMessage error={error} />
        {done && (
          <p className="notice" role="status">
            Password changed. Your other sessions are signed out; this one stays signed in.
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Changing…" : "Change password"}
        </button>
      </form>
    </section>
  );
}

function DeleteAccount({ email }: { email: string }) {
  const { signOut } = useAuth();
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const [typedEmail, setTypedEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const emailMatches = typedEmail.trim().toLowerCase() === email.trim().toLowerCase();

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!emailMatches) return;
    setError(null);
    setBusy(true);
    try {
      await unwrap(api.DELETE("/api/v1/users/me", { body: { password } }));
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
      return;
    }
    await signOut("Your account and everything in it were deleted.");
    void navigate("/signin", { replace: true });
  }

  return (
    <section className="card" aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete account</h2>
      <p className="muted">
        Deletes your account and everything in it: documents, interviews and reports, the job tracker and its
        mailboxes. This cannot be undone.
      </p>
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete account…
        </button>
      ) : (
        <form className="stack" onSubmit={onSubmit} aria-label="Confirm account deletion">
          <label>
            Type your email address to confirm
            <input
              type="email"
              value={typedEmail}
              onChange={(e) => setTypedEmail(e.target.value)}
              placeholder={email}
              autoComplete="off"
              required
            />
          </label>
          <label>
            Your password
            <input
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="current-password"
              required
            />
          </label>
          <ErrorMessage error={error} />
          <div className="row">
            <button type="submit" className="danger" disabled={busy || !emailMatches}>
              {busy ? "Deleting…" : "Delete my account"}
            </button>
            <button
              type="button"
              className="ghost"
              onClick={() => {
                setConfirming(false);
                setTypedEmail("");
                setPassword("");
                setError(null);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
