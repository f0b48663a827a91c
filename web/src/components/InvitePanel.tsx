// The owner invites a human interviewer: one single-use link, shown with a copy button.
import { useState } from "react";

import { messageOf } from "../lib/client";
import { inviteLink, live, type Invite } from "../lib/live";
import { ErrorMessage } from "./ErrorMessage";

export function InvitePanel({ interviewId }: { interviewId: string }) {
  const [invite, setInvite] = useState<Invite | null>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function create() {
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      setInvite(await live.createInvite(interviewId));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  const link = invite ? inviteLink(invite, window.location.origin) : "";

  async function copy() {
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
    } catch {
      // No clipboard permission (or not a secure page): the link is selectable in the box.
      setError("Could not copy; select the link and copy it yourself.");
    }
  }

  return (
    <section className="invite card" aria-label="Invite a human interviewer">
      <div className="section-head">
        <strong>Invite a human interviewer</strong>
        <button type="button" className="small" onClick={() => void create()} disabled={busy}>
          {invite ? "New link" : "Create invite link"}
        </button>
      </div>
      {invite && (
        <div className="row">
          <label className="grow">
            Invite link (single use)
            <input readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
          </label>
          <button type="button" className="small" onClick={() => void copy()}>
            {copied ? "Copied" : "Copy link"}
          </button>
        </div>
      )}
      {invite && (
        <p className="muted small">
          Expires {new Date(invite.expires_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}. Whoever
          opens it (signed in) joins as your interviewer.
        </p>
      )}
      <ErrorMessage error={error} />
    </section>
  );
}
