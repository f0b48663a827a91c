// The user's resumes and job descriptions: add one (file or pasted text), watch it get processed.
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";

import { api, messageOf, postForm, unwrap } from "../lib/client";
import { formatBytes, formatDate, KIND_LABEL } from "../lib/format";
import { canSealInBrowser, sealFile } from "../lib/sealUpload";
import type { DocumentKind, DocumentOut } from "../lib/types";
import { usePolling } from "../lib/usePolling";
import { ErrorMessage } from "./ErrorMessage";

const POLL_MS = 1500;

export function DocumentsPanel() {
  const [documents, setDocuments] = useState<DocumentOut[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Without crypto.subtle (plain http off localhost) files go as they are and the api seals them.
  const sealing = canSealInBrowser();

  const load = useCallback(async () => {
    try {
      setDocuments(await unwrap(api.GET("/api/v1/documents")));
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const working =
    documents?.some(
      (d) =>
        d.status === "pending" ||
        d.status === "processing" ||
        d.index_status === "queued" ||
        d.index_status === "indexing" ||
        (d.index_status === "ready" && d.index_done < d.chunk_count),
    ) ?? false;
  usePolling(load, POLL_MS, working);

  async function remove(doc: DocumentOut) {
    try {
      await unwrap(api.DELETE("/api/v1/documents/{document_id}", { params: { path: { document_id: doc.id } } }));
      setDocuments((docs) => docs?.filter((d) => d.id !== doc.id) ?? null);
    } catch (err) {
      setError(messageOf(err));
    }
  }

  return (
    <section className="card" aria-labelledby="documents-heading">
      <h2 id="documents-heading">Your documents</h2>
      <p className="muted">
        Add your resume and the job description; the interviewer tailors questions to them.
        {sealing && " Files are encrypted in this browser before they are sent; pasted text is sent as typed, over TLS."}
      </p>
      <AddDocumentForm sealing={sealing} onAdded={(doc) => setDocuments((docs) => [doc, ...(docs ?? [])])} />
      <ErrorMessage error={error} />
      {documents === null ? (
        <p className="muted">Loading documents…</p>
      ) : documents.length === 0 ? (
        <p className="muted">No documents yet.</p>
      ) : (
        <ul className="doc-list" aria-label="Documents">
          {documents.map((doc) => (
            <li key={doc.id} className="doc" data-status={doc.status}>
              <div className="doc-main">
                <strong>{doc.title || doc.filename || "Untitled"}</strong>
                <span className="muted small">
                  {KIND_LABEL[doc.kind] ?? doc.kind}
                  {doc.filename ? ` · ${doc.filename}` : ""}
                  {doc.size_bytes ? ` · ${formatBytes(doc.size_bytes)}` : ""}
                  {doc.page_count ? ` · ${doc.page_count} page${doc.page_count === 1 ? "" : "s"}` : ""}
                  {` · ${formatDate(doc.created_at)}`}
                  {doc.encrypted_upload && (
                    <span className="badge badge-sealed" title="Only ciphertext left this browser">
                      encrypted in your browser
                    </span>
                  )}
                </span>
                {doc.status === "failed" && (
                  <p className="error small" role="alert">
                    {doc.error || "Processing failed."}
                  </p>
                )}
                {doc.status === "ready" && <IndexProgress doc={doc} />}
              </div>
              <span className={`badge badge-${doc.status}`} aria-label={`Status: ${doc.status}`}>
                {doc.status}
              </span>
              <button
                type="button"
                className="ghost small"
                aria-label={`Delete ${doc.title || doc.filename || "document"}`}
                onClick={() => void remove(doc)}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function AddDocumentForm({ sealing, onAdded }: { sealing: boolean; onAdded: (doc: DocumentOut) => void }) {
  const [kind, setKind] = useState<DocumentKind>("resume");
  const [source, setSource] = useState<"file" | "text">("file");
  const [title, setTitle] = useState("");
  const [text, setText] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      let doc: DocumentOut;
      if (source === "file") {
        if (!file) throw new Error("Choose a file to upload.");
        const form = new FormData();
        if (sealing) {
          const sealed = await sealFile(file);
          form.append("file", sealed.file);
          form.append("key_id", sealed.key_id);
          form.append("nonce", sealed.nonce);
        } else {
          form.append("file", file);
        }
        form.append("kind", kind);
        if (title.trim()) form.append("title", title.trim());
        doc = await postForm<DocumentOut>("/documents", form);
      } else {
        const fallback = kind === "resume" ? "Pasted resume" : "Pasted job description";
        doc = await unwrap(
          api.POST("/api/v1/documents/text", { body: { kind, title: title.trim() || fallback, text } }),
        );
      }
      onAdded(doc);
      setTitle("");
      setText("");
      setFile(null);
      if (fileInput.current) fileInput.current.value = "";
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="add-doc" onSubmit={onSubmit} aria-label="Add a document">
      <div className="row">
        <label>
          Document type
          <select value={kind} onChange={(e) => setKind(e.target.value as DocumentKind)}>
            <option value="resume">Resume</option>
            <option value="job_description">Job description</option>
          </select>
        </label>
        <label className="grow">
          Title
          <input value={title} onChange={(e) => setTitle(e.target.value)} placeholder="Optional" maxLength={200} />
        </label>
      </div>
      <fieldset className="segmented">
        <legend className="sr-only">Source</legend>
        <label>
          <input type="radio" name="source" checked={source === "file"} onChange={() => setSource("file")} />
          Upload a file
        </label>
        <label>
          <input type="radio" name="source" checked={source === "text"} onChange={() => setSource("text")} />
          Paste text
        </label>
      </fieldset>
      {source === "file" ? (
        <label>
          File (PDF, DOCX or TXT)
          <input
            ref={fileInput}
            type="file"
            accept=".pdf,.docx,.txt,application/pdf,text/plain,application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
          {!sealing && (
            <span className="muted small" role="note">
              Your browser cannot encrypt here (not a secure context); the server encrypts the file on arrival.
            </span>
          )}
        </label>
      ) : (
        <label>
          Text
          <textarea value={text} onChange={(e) => setText(e.target.value)} rows={6} required />
        </label>
      )}
      <ErrorMessage error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Adding…" : "Add document"}
      </button>
    </form>
  );
}

/** The retrieval index: searchable once "ready"; the model's extra questions keep arriving after. */
function IndexProgress({ doc }: { doc: DocumentOut }) {
  if (doc.index_status === "failed") {
    return (
      <p className="error small" role="alert">
        {doc.index_error || "Indexing failed."}
      </p>
    );
  }
  let text: string;
  if (doc.index_status === "queued") text = "Waiting to be indexed…";
  else if (doc.index_status === "indexing") text = `Indexing ${doc.chunk_count} sections…`;
  else if (doc.index_status === "ready" && doc.index_done < doc.chunk_count)
    text = `Indexed · writing practice questions ${doc.index_done}/${doc.chunk_count}`;
  else if (doc.index_status === "ready") text = `Indexed · ${doc.pair_count} question–answer pairs`;
  else return null;
  return (
    <span className="muted small" role="status" data-index-status={doc.index_status}>
      {text}
    </span>
  );
}
