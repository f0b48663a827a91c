// Set up an interview: role, company, which resume and job description, type, length, persona and language.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";

import { ErrorMessage } from "../components/ErrorMessage";
import { api, messageOf, unwrap } from "../lib/client";
import type { DocumentOut, InterviewCreate } from "../lib/types";

type Kind = NonNullable<InterviewCreate["kind"]>;
type Persona = NonNullable<InterviewCreate["persona"]>;
type Language = NonNullable<InterviewCreate["language"]>;

// Also used by the interview room's header line.
export const PERSONA_LABEL: Record<Persona, string> = {
  friendly: "Friendly",
  neutral: "Neutral",
  tough: "Tough",
};
export const LANGUAGE_LABEL: Record<Language, string> = { en: "English", zh: "中文 (Chinese)" };

export function NewInterview() {
  const navigate = useNavigate();
  const [documents, setDocuments] = useState<DocumentOut[]>([]);
  const [role, setRole] = useState("");
  const [company, setCompany] = useState("");
  const [resumeId, setResumeId] = useState("");
  const [jdId, setJdId] = useState("");
  const [kind, setKind] = useState<Kind>("mixed");
  const [length, setLength] = useState(5);
  const [persona, setPersona] = useState<Persona>("neutral");
  const [language, setLanguage] = useState<Language>("en");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    unwrap(api.GET("/api/v1/documents"))
      .then((docs) => {
        const ready = docs.filter((d) => d.status === "ready");
        setDocuments(ready);
        // Preselect the newest of each so the common case is one click.
        setResumeId(ready.find((d) => d.kind === "resume")?.id ?? "");
        setJdId(ready.find((d) => d.kind === "job_description")?.id ?? "");
      })
      .catch((err: unknown) => setError(messageOf(err)));
  }, []);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const interview = await unwrap(
        api.POST("/api/v1/interviews", {
          body: {
            target_role: role.trim(),
            company: company.trim(),
            resume_id: resumeId || null,
            job_description_id: jdId || null,
            kind,
            length,
            persona,
            language,
          },
        }),
      );
      navigate(`/interviews/${interview.id}`);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }

  const resumes = documents.filter((d) => d.kind === "resume");
  const jds = documents.filter((d) => d.kind === "job_description");

  return (
    <main className="page narrow">
      <section className="card">
        <h1>New interview</h1>
        <form className="stack" onSubmit={onSubmit}>
          <label>
            Target role
            <input
              value={role}
              onChange={(e) => setRole(e.target.value)}
              required
              maxLength={200}
              placeholder="e.g. Backend engineer"
            />
          </label>
          <label>
            Company
            <input value={company} onChange={(e) => setCompany(e.target.value)} placeholder="Optional" />
          </label>
          <label>
            Resume
            <select value={resumeId} onChange={(e) => setResumeId(e.target.value)}>
              <option value="">None</option>
              {resumes.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.title || d.filename}
                </option>
              ))}
            </select>
          </label>
          <label>
            Job description
            <select value={jdId} onChange={(e) => setJdId(e.target.value)}>
              <option value="">None</option>
              {jds.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.title || d.filename}
                </option>
              ))}
            </select>
          </label>
          {documents.length === 0 && (
            <p className="muted small">
              Only documents that finished processing are listed. <Link to="/">Add one on the dashboard.</Link>
            </p>
          )}
          <div className="row">
            <label className="grow">
              Interview type
              <select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
                <option value="mixed">Mixed</option>
                <option value="behavioural">Behavioural</option>
                <option value="technical">Technical</option>
              </select>
            </label>
            <label className="grow">
              Number of questions
              <input
                type="number"
                min={1}
                max={15}
                value={length}
                onChange={(e) => setLength(Number(e.target.value))}
                required
              />
            </label>
          </div>
          <div className="row">
            <label className="grow">
              Interviewer
              <select value={persona} onChange={(e) => setPersona(e.target.value as Persona)}>
                <option value="friendly">Friendly: warm and encouraging</option>
                <option value="neutral">Neutral</option>
                <option value="tough">Tough: brief, presses for specifics</option>
              </select>
            </label>
            <label className="grow">
              Language
              <select value={language} onChange={(e) => setLanguage(e.target.value as Language)}>
                {(Object.keys(LANGUAGE_LABEL) as Language[]).map((lang) => (
                  <option key={lang} value={lang}>
                    {LANGUAGE_LABEL[lang]}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <ErrorMessage error={error} />
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Creating…" : "Start interview"}
          </button>
        </form>
      </section>
    </main>
  );
}
