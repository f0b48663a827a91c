// The board: applications in columns applied → assessment → interview → offer / rejected.
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router-dom";

import { ErrorMessage } from "../../components/ErrorMessage";
import { api, messageOf, unwrap } from "../../lib/client";
import { formatDate } from "../../lib/format";
import { boardColumns, cardDate, STATUS_LABEL, type Board } from "../../lib/tracker";

export function BoardPage() {
  const [board, setBoard] = useState<Board | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setBoard(await unwrap(api.GET("/api/v1/tracker/board")));
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="card" aria-labelledby="board-heading">
      <div className="section-head">
        <h2 id="board-heading">Applications</h2>
        <button type="button" className="small" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={error} />
      {board === null ? (
        !error && <p className="muted">Loading the board…</p>
      ) : (
        <div className="board">
          {boardColumns(board).map(({ status, cards }) => (
            <section key={status} className="board-col" aria-label={STATUS_LABEL[status]} data-status={status}>
              <h3>
                {STATUS_LABEL[status]} <span className="muted small">{cards.length}</span>
              </h3>
              <ul className="plain-list">
                {cards.map((app) => (
                  <li key={app.id}>
                    <Link to={`/tracker/applications/${app.id}`} className="board-card">
                      <strong>{app.company}</strong>
                      <span>{app.position || "Position unknown"}</span>
                      <span className="muted small">{formatDate(cardDate(app))}</span>
                    </Link>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
    </section>
  );
}
