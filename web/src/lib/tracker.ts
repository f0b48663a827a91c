// The job tracker's types (from the generated schema) and the pure pieces of its pages: board
// columns, sync and import progress, and todos kept up to date from the live `todo` events.
import type { components } from "../api/schema";

type S = components["schemas"];
export type Account = S["AccountOut"];
export type Sync = S["SyncOut"];
export type Application = S["ApplicationOut"];
export type ApplicationDetail = S["ApplicationDetailOut"];
export type TrackerEvent = S["EventOut"];
export type Board = S["BoardOut"];
export type Analytics = S["AnalyticsOut"];
export type Todo = S["TodoOut"];
export type JobImport = S["JobImportOut"];
export type Recommendations = S["RecommendationsOut"];
export type Recommendation = S["RecommendationOut"];
export type NotificationPrefs = S["NotificationPreferenceOut"];

/** The board's columns, left to right (docs/tracker.md). */
export const BOARD_COLUMNS = ["applied", "assessment", "interview", "offer", "rejected"] as const;
export type BoardColumn = (typeof BOARD_COLUMNS)[number];

export const STATUS_LABEL: Record<string, string> = {
  applied: "Applied",
  assessment: "Assessment",
  interview: "Interview",
  offer: "Offer",
  rejected: "Rejected",
  recruiter_outreach: "Recruiter outreach",
};

/** The date a card shows: its last event, else when it was applied for or created. */
export function cardDate(app: Application): string {
  return app.last_event_at ?? app.applied_at ?? app.created_at;
}

/** Every board column, in order, each with its cards newest first; unknown columns are dropped
 * and missing ones are empty, so the page always shows the same five. */
export function boardColumns(board: Board): { status: BoardColumn; cards: Application[] }[] {
  return BOARD_COLUMNS.map((status) => ({
    status,
    cards: [...(board.columns[status] ?? [])].sort((a, b) => cardDate(b).localeCompare(cardDate(a))),
  }));
}

/** Group a flat list of applications by status into the board (the api's /board does the same). */
export function groupApplications(apps: Application[]): Board {
  const columns: Record<string, Application[]> = {};
  for (const status of BOARD_COLUMNS) columns[status] = [];
  for (const app of apps) columns[app.status]?.push(app);
  return { columns };
}

// ------------------------------------------------------------------------------------ progress

export interface Progress {
  /** 0..1, or null while the total is not known yet. */
  fraction: number | null;
  label: string;
  finished: boolean;
}

const FINISHED = new Set(["done", "failed"]);

/** A sync's progress: fetching counts fetched of total, analysing counts analysed of stored. */
export function syncProgress(sync: Sync): Progress {
  const finished = FINISHED.has(sync.status);
  if (sync.status === "done") return { fraction: 1, label: `Done: ${sync.stored} new, ${sync.analysed} analysed`, finished };
  if (sync.status === "failed") return { fraction: null, label: `Failed: ${sync.error ?? "unknown error"}`, finished };
  if (sync.status === "queued") return { fraction: 0, label: "Waiting for a worker…", finished };
  if (sync.status === "fetching") {
    const fraction = sync.total ? ratio(sync.fetched, sync.total) : null;
    return { fraction, label: `Reading mail: ${sync.fetched}${sync.total ? ` of ${sync.total}` : ""}`, finished };
  }
  const fraction = sync.stored ? ratio(sync.analysed + sync.analysis_failed, sync.stored) : null;
  return { fraction, label: `Analysing: ${sync.analysed} of ${sync.stored}`, finished };
}

/** A catalogue import's progress: postings embedded of those added. */
export function importProgress(job: JobImport): Progress {
  const finished = FINISHED.has(job.status);
  if (job.status === "failed") return { fraction: null, label: `Failed: ${job.error ?? "unknown error"}`, finished };
  if (job.status === "done" || job.added === 0)
    return { fraction: 1, label: `Done: ${job.added} added, ${job.duplicates} duplicates, ${job.invalid} invalid`, finished };
  return { fraction: ratio(job.embedded, job.added), label: `Embedding postings: ${job.embedded} of ${job.added}`, finished };
}

function ratio(part: number, whole: number): number {
  return Math.min(1, Math.max(0, part / whole));
}

export function percent(fraction: number | null): string {
  return fraction === null ? "" : `${Math.round(fraction * 100)}%`;
}

// --------------------------------------------------------------------------------------- todos

/** A `todo` event of the user's live room (docs/realtime.md). */
export interface TodoEvent {
  action: "created" | "updated" | "deleted";
  id: string;
  kind?: Todo["kind"];
  title?: string;
  status?: Todo["status"];
  due_at?: string | null;
  application_id?: string | null;
  interview_id?: string | null;
}

export function isTodoEvent(data: unknown): data is TodoEvent {
  if (!data || typeof data !== "object") return false;
  const { action, id } = data as Record<string, unknown>;
  return typeof id === "string" && (action === "created" || action === "updated" || action === "deleted");
}

/** Open todos first, by due date (none last), then done ones, most recently done first. */
export function sortTodos(todos: Todo[]): Todo[] {
  const due = (t: Todo) => t.due_at ?? "9999";
  return [...todos].sort((a, b) => {
    if (a.status !== b.status) return a.status === "todo" ? -1 : 1;
    if (a.status === "done") return (b.done_at ?? "").localeCompare(a.done_at ?? "");
    return due(a).localeCompare(due(b)) || a.title.localeCompare(b.title);
  });
}

/** Apply a live event to the list, by id: the event carries only some fields, so an update keeps
 * the rest (notes, link) and a todo first heard of live gets empty ones until the next load. */
export function mergeTodoEvent(todos: Todo[], ev: TodoEvent, now = new Date().toISOString()): Todo[] {
  if (ev.action === "deleted") return todos.filter((t) => t.id !== ev.id);
  const changes: Partial<Todo> = {};
  if (ev.kind !== undefined) changes.kind = ev.kind;
  if (ev.title !== undefined) changes.title = ev.title;
  if (ev.status !== undefined) changes.status = ev.status;
  if (ev.due_at !== undefined) changes.due_at = ev.due_at;
  if (ev.application_id !== undefined) changes.application_id = ev.application_id;
  if (ev.interview_id !== undefined) changes.interview_id = ev.interview_id;
  const existing = todos.find((t) => t.id === ev.id);
  if (existing) {
    const doneAt = changes.status === "done" ? (existing.done_at ?? now) : changes.status === "todo" ? null : existing.done_at;
    return sortTodos(todos.map((t) => (t.id === ev.id ? { ...t, ...changes, done_at: doneAt, updated_at: now } : t)));
  }
  const fresh: Todo = {
    id: ev.id,
    kind: "user",
    title: "",
    notes: "",
    link: null,
    due_at: null,
    status: "todo",
    done_at: null,
    application_id: null,
    interview_id: null,
    created_at: now,
    updated_at: now,
    ...changes,
  };
  if (fresh.status === "done") fresh.done_at = now;
  return sortTodos([...todos, fresh]);
}

/** Replace (or add) one todo with the api's answer to a change made on this page. */
export function upsertTodo(todos: Todo[], todo: Todo): Todo[] {
  return sortTodos([...todos.filter((t) => t.id !== todo.id), todo]);
}

// ------------------------------------------------------------------------------------ analytics

/** Companies by days to a first response, quickest first, with each bar's share of the slowest. */
export function responseBars(byCompany: Record<string, number>): { company: string; days: number; share: number }[] {
  const rows = Object.entries(byCompany).map(([company, days]) => ({ company, days }));
  const slowest = Math.max(0, ...rows.map((r) => r.days));
  return rows
    .sort((a, b) => a.days - b.days || a.company.localeCompare(b.company))
    .map((r) => ({ ...r, share: slowest > 0 ? r.days / slowest : 0 }));
}

/** A `datetime-local` input's value for an ISO time (local clock), and back to ISO (UTC). */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
