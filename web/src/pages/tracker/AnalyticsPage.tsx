// Analytics: response rate, days to a first response by company, the active pipeline.
import { useEffect, useState } from "react";

import { ErrorMessage } from "../../components/ErrorMessage";
import { api, messageOf, unwrap } from "../../lib/client";
import { BOARD_COLUMNS, percent, responseBars, STATUS_LABEL, type Analytics } from "../../lib/tracker";

export function AnalyticsPage() {
  const [data, setData] = useState<Analytics | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    unwrap(api.GET("/api/v1/tracker/analytics")).then(setData, (err: unknown) => setError(messageOf(err)));
  }, []);

  if (!data) return <section className="card">{error ? <ErrorMessage error={error} /> : <p className="muted">Loading…</p>}</section>;
  const pipelineMax = Math.max(1, ...Object.values(data.pipeline));
  const bars = responseBars(data.days_to_response_by_company);

  return (
    <>
      <section className="card" aria-labelledby="rates-heading">
        <h2 id="rates-heading">Responses</h2>
        <dl className="stats">
          <div>
            <dt>Applications</dt>
            <dd>{data.applications}</dd>
          </div>
          <div>
            <dt>Response rate</dt>
            <dd>{data.response_rate === null ? "—" : percent(data.response_rate)}</dd>
            <dd className="muted small">
              {data.responded} of {data.applied} applied
            </dd>
          </div>
          <div>
            <dt>Median days to a response</dt>
            <dd>{data.median_days_to_response === null ? "—" : data.median_days_to_response.toFixed(1)}</dd>
          </div>
          <div>
            <dt>Active</dt>
            <dd>{data.active}</dd>
          </div>
        </dl>
      </section>
      <section className="card" aria-labelledby="pipeline-heading">
        <h2 id="pipeline-heading">Pipeline</h2>
        <table className="admin-table bar-table">
          <tbody>
            {[...BOARD_COLUMNS, ...Object.keys(data.pipeline).filter((k) => !(BOARD_COLUMNS as readonly string[]).includes(k))].map((status) => {
              const n = data.pipeline[status] ?? 0;
              return (
                <tr key={status}>
                  <th scope="row">{STATUS_LABEL[status] ?? status}</th>
                  <td className="num">{n}</td>
                  <td className="bar-cell">
                    <div className="bar" style={{ width: `${(n / pipelineMax) * 100}%` }} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      <section className="card" aria-labelledby="days-heading">
        <h2 id="days-heading">Days to a first response, by company</h2>
        {bars.length === 0 ? (
          <p className="muted">No responses yet.</p>
        ) : (
          <table className="admin-table bar-table">
            <tbody>
              {bars.map((b) => (
                <tr key={b.company}>
                  <th scope="row">{b.company}</th>
                  <td className="num">{b.days.toFixed(1)}</td>
                  <td className="bar-cell">
                    <div className="bar" style={{ width: `${b.share * 100}%` }} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
