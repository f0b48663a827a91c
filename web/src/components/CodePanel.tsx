// The editor beside a coding question: the problem, a language choice, the code, a run of the
// examples in the sandbox, and "Submit", which sends the code to the interviewer as the answer.
import { useEffect, useState } from "react";

import { api, messageOf, unwrap } from "../lib/client";
import type { paths } from "../api/schema";
import { ErrorMessage } from "./ErrorMessage";

type JsonOf<R> = R extends { content: { "application/json": infer B } } ? B : never;
type Problem = JsonOf<paths["/api/v1/coding/problems/{problem_id}"]["get"]["responses"][200]>;
type RunResult = JsonOf<paths["/api/v1/coding/problems/{problem_id}/run"]["post"]["responses"][200]>;
export type CodeLanguage = "python" | "javascript";

export const LANGUAGES: { value: CodeLanguage; label: string }[] = [
  { value: "python", label: "Python" },
  { value: "javascript", label: "JavaScript" },
];
// The interview takes answers of at most this many characters (AnswerIn.text).
export const MAX_ANSWER_CHARS = 5000;

/** The code as an interview answer: a fenced block the interviewer recognises and runs. */
export function fenced(language: CodeLanguage, code: string): string {
  return "```" + language + "\n" + code.replace(/\s+$/, "") + "\n```";
}

/** A test's value as the chosen language writes it (True/None in Python, true/null in JavaScript). */
export function formatValue(value: unknown, language: CodeLanguage): string {
  const json = JSON.stringify(value) ?? String(value);
  if (language === "javascript") return json;
  return json.replace(/("(?:[^"\\]|\\.)*")|\b(true|false|null)\b/g, (match, str: string | undefined) => {
    if (str) return str;
    return match === "true" ? "True" : match === "false" ? "False" : "None";
  });
}

/** The call a test makes, e.g. two_sum([3, 9], 12). */
export function formatCall(name: string, args: unknown[] | null | undefined, language: CodeLanguage): string {
  return `${name}(${(args ?? []).map((a) => formatValue(a, language)).join(", ")})`;
}

export function CodePanel({
  problemId,
  language: initialLanguage,
  disabled,
  onSubmit,
}: {
  problemId: string;
  language: CodeLanguage;
  disabled: boolean;
  onSubmit: (answer: string) => void;
}) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [language, setLanguage] = useState<CodeLanguage>(initialLanguage);
  // One draft per language, so switching back and forth keeps what was written.
  const [drafts, setDrafts] = useState<Partial<Record<CodeLanguage, string>>>({});
  const [result, setResult] = useState<RunResult | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setProblem(null);
    setError(null);
    unwrap(api.GET("/api/v1/coding/problems/{problem_id}", { params: { path: { problem_id: problemId } } }))
      .then((p) => live && setProblem(p))
      .catch((err: unknown) => live && setError(messageOf(err)));
    return () => {
      live = false;
    };
  }, [problemId]);

  if (!problem) {
    return (
      <section className="card code-panel" aria-label="Coding problem">
        {error ? <ErrorMessage error={error} /> : <p className="muted">Loading the problem…</p>}
      </section>
    );
  }

  const code = drafts[language] ?? problem.starter[language] ?? "";
  const answer = fenced(language, code);
  const tooLong = answer.length > MAX_ANSWER_CHARS;
  const name = problem.function[language] ?? "";

  async function runExamples() {
    setRunning(true);
    setError(null);
    try {
      setResult(
        await unwrap(
          api.POST("/api/v1/coding/problems/{problem_id}/run", {
            params: { path: { problem_id: problemId } },
            body: { language, code, hidden: false },
          }),
        ),
      );
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setRunning(false);
    }
  }

  return (
    <section className="card code-panel" aria-labelledby="code-panel-title" style={{ display: "grid", gap: "0.75rem" }}>
      <div>
        <h2 id="code-panel-title" style={{ margin: 0 }}>
          {problem.title} <span className="muted small">({problem.difficulty})</span>
        </h2>
        <p style={{ whiteSpace: "pre-wrap" }}>{problem.statement}</p>
        <ul className="small" aria-label="Examples">
          {problem.examples.map((ex, i) => (
            <li key={i}>
              <code>{formatCall(name, ex.args, language)}</code> → <code>{formatValue(ex.expected, language)}</code>
            </li>
          ))}
        </ul>
        <p className="muted small">
          Your code also runs against {problem.hidden_tests} hidden tests when you submit it.
        </p>
      </div>

      <label className="small">
        Language{" "}
        <select
          value={language}
          onChange={(e) => {
            setLanguage(e.target.value as CodeLanguage);
            setResult(null);
          }}
        >
          {LANGUAGES.map((l) => (
            <option key={l.value} value={l.value}>
              {l.label}
            </option>
          ))}
        </select>
      </label>

      <label htmlFor="code-editor" className="sr-only">
        Your code
      </label>
      <textarea
        id="code-editor"
        value={code}
        onChange={(e) => setDrafts((d) => ({ ...d, [language]: e.target.value }))}
        onKeyDown={(e) => {
          // Tab indents instead of leaving the editor.
          if (e.key !== "Tab" || e.shiftKey) return;
          e.preventDefault();
          const el = e.currentTarget;
          const { selectionStart: start, selectionEnd: end } = el;
          const next = code.slice(0, start) + "    " + code.slice(end);
          setDrafts((d) => ({ ...d, [language]: next }));
          requestAnimationFrame(() => el.setSelectionRange(start + 4, start + 4));
        }}
        rows={14}
        spellCheck={false}
        style={{ fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", fontSize: "0.9rem" }}
      />

      <div style={{ display: "flex", gap: "0.75rem", flexWrap: "wrap" }}>
        <button type="button" onClick={() => void runExamples()} disabled={running || !code.trim()}>
          {running ? "Running…" : "Run examples"}
        </button>
        <button
          type="button"
          className="primary"
          onClick={() => onSubmit(answer)}
          disabled={disabled || !code.trim() || tooLong}
        >
          Submit
        </button>
      </div>
      {tooLong && (
        <p className="error small" role="alert">
          Your code is too long to send as an answer ({MAX_ANSWER_CHARS.toLocaleString()} characters at most).
        </p>
      )}
      <ErrorMessage error={error} />
      {result && <RunResults result={result} name={name} language={language} />}
    </section>
  );
}

function RunResults({ result, name, language }: { result: RunResult; name: string; language: CodeLanguage }) {
  return (
    <div aria-label="Run results" role="status">
      <p>
        <strong>{result.verdict === "passed" ? "All examples pass." : result.message}</strong>{" "}
        <span className="muted small">
          {result.passed} of {result.total} passed
        </span>
      </p>
      <ul className="small">
        {result.tests.map((t) => (
          <li key={t.index} data-status={t.status}>
            {t.status === "passed" ? "✓" : t.status === "not_run" ? "–" : "✗"}{" "}
            <code>{formatCall(name, t.args, language)}</code>
            {t.status === "failed" && (
              <>
                {" "}
                returned <code>{formatValue(t.actual, language)}</code>, expected{" "}
                <code>{formatValue(t.expected, language)}</code>
              </>
            )}
            {t.status === "error" && <> raised {t.error}</>}
            {t.status === "not_run" && <> not run</>}
          </li>
        ))}
      </ul>
      {(result.stdout || result.stderr) && (
        <pre className="small" style={{ whiteSpace: "pre-wrap", maxHeight: "12rem", overflow: "auto" }}>
          {result.stdout}
          {result.stderr}
        </pre>
      )}
    </div>
  );
}
