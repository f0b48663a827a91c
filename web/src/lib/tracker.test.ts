import { describe, expect, it } from "vitest";

import {
  boardColumns,
  groupApplications,
  importProgress,
  isTodoEvent,
  mergeTodoEvent,
  percent,
  responseBars,
  sortTodos,
  syncProgress,
  type Application,
  type JobImport,
  type Sync,
  type Todo,
} from "./tracker";

function app(id: string, status: string, last: string | null, created = "2024-03-01T00:00:00Z"): Application {
  return {
    id,
    company: `Co ${id}`,
    position: "",
    status,
    extracted_status: status,
    manual: {},
    notes: "",
    source: "email",
    applied_at: null,
    first_response_at: null,
    last_event_at: last,
    created_at: created,
    prep_interview_id: null,
  };
}

function sync(over: Partial<Sync>): Sync {
  return {
    id: "s",
    account_id: "a",
    status: "fetching",
    filename: "",
    total: null,
    fetched: 0,
    stored: 0,
    duplicates: 0,
    malformed: 0,
    analysed: 0,
    analysis_failed: 0,
    problems: [],
    error: null,
    created_at: "2024-03-01T00:00:00Z",
    started_at: null,
    finished_at: null,
    ...over,
  };
}

function todo(id: string, over: Partial<Todo> = {}): Todo {
  return {
    id,
    application_id: null,
    kind: "user",
    title: `todo ${id}`,
    notes: "my notes",
    link: "https://example.com/x",
    due_at: null,
    status: "todo",
    done_at: null,
    created_at: "2024-03-01T00:00:00Z",
    updated_at: "2024-03-01T00:00:00Z",
    interview_id: null,
    ...over,
  };
}

describe("board", () => {
  it("always has the five columns in order, cards newest first", () => {
    const board = {
      columns: {
        interview: [app("a", "interview", "2024-03-02T00:00:00Z"), app("b", "interview", "2024-03-09T00:00:00Z")],
        recruiter_outreach: [app("c", "recruiter_outreach", null)],
      },
    };
    const cols = boardColumns(board);
    expect(cols.map((c) => c.status)).toEqual(["applied", "assessment", "interview", "offer", "rejected"]);
    expect(cols[2]!.cards.map((c) => c.id)).toEqual(["b", "a"]);
    expect(cols[0]!.cards).toEqual([]);
  });

  it("falls back to the creation date for cards without events", () => {
    const cols = boardColumns({
      columns: { applied: [app("old", "applied", null, "2024-01-01T00:00:00Z"), app("new", "applied", "2024-02-01T00:00:00Z")] },
    });
    expect(cols[0]!.cards.map((c) => c.id)).toEqual(["new", "old"]);
  });

  it("groups a flat list by status, leaving out statuses without a column", () => {
    const board = groupApplications([app("a", "offer", null), app("b", "applied", null), app("c", "recruiter_outreach", null)]);
    expect(board.columns.offer!.map((a) => a.id)).toEqual(["a"]);
    expect(board.columns.applied!.map((a) => a.id)).toEqual(["b"]);
    expect(board.columns.recruiter_outreach).toBeUndefined();
  });
});

describe("progress", () => {
  it("counts fetched of total while reading, unknown total without a fraction", () => {
    expect(syncProgress(sync({ fetched: 5, total: 20 })).fraction).toBe(0.25);
    expect(syncProgress(sync({ fetched: 5, total: null })).fraction).toBeNull();
    expect(syncProgress(sync({ fetched: 5, total: 0 })).fraction).toBeNull();
  });

  it("counts analysed (and failed analyses) of stored while analysing, clamped to 1", () => {
    const p = syncProgress(sync({ status: "analysing", stored: 4, analysed: 2, analysis_failed: 1 }));
    expect(p.fraction).toBe(0.75);
    expect(p.finished).toBe(false);
    expect(syncProgress(sync({ status: "analysing", stored: 2, analysed: 5 })).fraction).toBe(1);
  });

  it("is finished when done or failed, with the reason", () => {
    expect(syncProgress(sync({ status: "done", stored: 2, analysed: 2 }))).toEqual({
      fraction: 1,
      label: "Done: 2 new, 2 analysed",
      finished: true,
    });
    const failed = syncProgress(sync({ status: "failed", error: "login refused" }));
    expect(failed.finished).toBe(true);
    expect(failed.label).toContain("login refused");
  });

  it("counts embedded of added for an import; nothing added is done at once", () => {
    const job: JobImport = {
      id: "j",
      filename: "jobs.csv",
      shared: false,
      status: "embedding",
      rows: 10,
      added: 8,
      duplicates: 1,
      invalid: 1,
      embedded: 2,
      problems: [],
      error: null,
      created_at: "2024-03-01T00:00:00Z",
      finished_at: null,
    };
    expect(importProgress(job).fraction).toBe(0.25);
    expect(importProgress(job).finished).toBe(false);
    expect(importProgress({ ...job, status: "queued", added: 0 }).fraction).toBe(1);
    expect(percent(0.256)).toBe("26%");
    expect(percent(null)).toBe("");
  });
});

describe("todos from live events", () => {
  it("updates by id and keeps the fields the event does not carry", () => {
    const list = [todo("1"), todo("2")];
    const next = mergeTodoEvent(list, { action: "updated", id: "1", status: "done", title: "todo 1" }, "2024-03-05T00:00:00Z");
    const one = next.find((t) => t.id === "1")!;
    expect(one.status).toBe("done");
    expect(one.done_at).toBe("2024-03-05T00:00:00Z");
    expect(one.notes).toBe("my notes");
    expect(one.link).toBe("https://example.com/x");
    // Done ones sort after the open ones.
    expect(next.map((t) => t.id)).toEqual(["2", "1"]);
    const reopened = mergeTodoEvent(next, { action: "updated", id: "1", status: "todo" });
    expect(reopened.find((t) => t.id === "1")!.done_at).toBeNull();
  });

  it("adds a todo first heard of live once, and removes a deleted one", () => {
    const ev = { action: "created" as const, id: "3", kind: "interview" as const, title: "Prepare", status: "todo" as const, due_at: "2024-03-11T14:00:00Z" };
    const once = mergeTodoEvent([todo("1")], ev);
    const twice = mergeTodoEvent(once, ev);
    expect(twice.filter((t) => t.id === "3")).toHaveLength(1);
    expect(twice[0]!.id).toBe("3"); // a due date sorts before none
    expect(mergeTodoEvent(twice, { action: "deleted", id: "3" }).map((t) => t.id)).toEqual(["1"]);
    expect(mergeTodoEvent([todo("1")], { action: "deleted", id: "unknown" })).toHaveLength(1);
  });

  it("recognises todo events and sorts open todos by due date", () => {
    expect(isTodoEvent({ action: "updated", id: "x" })).toBe(true);
    expect(isTodoEvent({ action: "moved", id: "x" })).toBe(false);
    expect(isTodoEvent(null)).toBe(false);
    const sorted = sortTodos([
      todo("none"),
      todo("late", { due_at: "2024-03-20T00:00:00Z" }),
      todo("soon", { due_at: "2024-03-02T00:00:00Z" }),
      todo("done", { status: "done", done_at: "2024-03-01T00:00:00Z" }),
    ]);
    expect(sorted.map((t) => t.id)).toEqual(["soon", "late", "none", "done"]);
  });
});

describe("analytics bars", () => {
  it("orders companies quickest first, bars as a share of the slowest", () => {
    expect(responseBars({ Slow: 10, Quick: 2.5 })).toEqual([
      { company: "Quick", days: 2.5, share: 0.25 },
      { company: "Slow", days: 10, share: 1 },
    ]);
    expect(responseBars({ Same: 0 })).toEqual([{ company: "Same", days: 0, share: 0 }]);
  });
});
