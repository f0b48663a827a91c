// Where Google sends the browser back after consent: hand code and state to the api, then go to Mail.
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";

import { ErrorMessage } from "../../components/ErrorMessage";
import { api, messageOf, unwrap } from "../../lib/client";

export function GmailCallback() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  // The state is single use: React's development double effect must not send it twice.
  const sent = useRef(false);

  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    const code = params.get("code");
    const state = params.get("state");
    if (params.get("error") || !code || !state) {
      setError(`Gmail was not connected: ${params.get("error") ?? "the answer from Google is incomplete"}.`);
      return;
    }
    unwrap(api.POST("/api/v1/tracker/accounts/gmail/callback", { body: { code, state } })).then(
      () => navigate("/tracker/mail", { replace: true }),
      (err: unknown) => setError(messageOf(err)),
    );
  }, [params, navigate]);

  return (
    <section className="card">
      <h2>Connecting Gmail…</h2>
      <ErrorMessage error={error} />
      {error && <Link to="/tracker/mail">Back to Mail</Link>}
    </section>
  );
}
