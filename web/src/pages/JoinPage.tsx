// /join/:code — accept an invite to interview someone, then open the interviewer's view.
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { ErrorMessage } from "../components/ErrorMessage";
import { messageOf } from "../lib/client";
import { live } from "../lib/live";

export function JoinPage() {
  const { code = "" } = useParams();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  // An invite is single use: StrictMode's second run must not spend it again.
  const tried = useRef(false);

  useEffect(() => {
    if (tried.current) return;
    tried.current = true;
    live
      .acceptInvite(code)
      .then((accepted) => navigate(`/interviews/${accepted.interview_id}/interviewer`, { replace: true }))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [code, navigate]);

  return (
    <main className="page narrow">
      <h1>Joining the interview</h1>
      {error ? <ErrorMessage error={error} /> : <p className="muted">Accepting the invite…</p>}
      {error && <Link to="/">Back to the dashboard</Link>}
    </main>
  );
}
