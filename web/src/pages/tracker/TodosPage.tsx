// Todos from the emails (assessments, interviews, follow-ups) and your own; every change made on
// another device arrives live through the account's room.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";

import { ErrorMessage } from "../../components/ErrorMessage";
import { api, messageOf, unwrap } from "../../lib/client";
import { formatDate } from "../../lib/format";
import { fromLocalInput, isTodoEvent, mergeTodoEvent, sortTodos, toLocalInput, upsertTodo, type Todo } from "../../lib/tracker";
import { useUserRoom } from "../../lib/useUserRoom";

export function TodosPage() {
  const [todos, setTodos] = useState<Todo[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setTodos(sortTodos(await unwrap(api.GET("/api/v1/tracker/todos"))));
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const status = useUserRoom(
    "todo",
    (data) => {
      if (isTodoEvent(data)) setTodos((list) => (list ? mergeTodoEvent(list, data) : list));
    },
    () => void load(),
  );

  async function change(run: () => Promise<Todo | void>, id?: string, optimistic?: Todo) {
    setError(null);
    // A tick shows at once; the api's answer (or a reload on error) settles it.
    if (optimistic) setTodos((list) => upsertTodo(list ?? [], optimistic));
    try {
      const todo = await run();
      if (todo) setTodos((list) => upsertTodo(list ?? [], todo));
      else if (id) setTodos((list) => list?.filter((t) => t.id !== id) ?? null);
    } catch (err) {
      setError(messageOf(err));
      if (optimistic) void load();
    }
  }

  const open = todos?.filter((t) => t.status === "todo") ?? [];
  const done = todos?.filter((t) => t.status === "done") ?? [];

  return (
    <>
      <section className="card" aria-labelledby="todos-heading">
        <div className="section-head">
          <h2 id="todos-heading">Todos</h2>
          <span className="muted small" aria-label="Live updates">
            {status === "live" ? "● live" : status}
          </span>
        </div>
        <ErrorMessage error={error} />
        {todos === null ? (
          !error && <p className="muted">Loading todos…</p>
        ) : (
          <>
            <TodoList label="Open todos" todos={open} onChange={change} empty="Nothing to do." />
            {done.length > 0 && (
              <>
                <h3>Done</h3>
                <TodoList label="Done todos" todos={done} onChange={change} empty="" />
              </>
            )}
          </>
        )}
      </section>
      <AddTodo onAdd={(body) => change(() => unwrap(api.POST("/api/v1/tracker/todos", { body })))} />
    </>
  );
}

type Change = (run: () => Promise<Todo | void>, id?: string, optimistic?: Todo) => Promise<void>;

function TodoList({ label, todos, onChange, empty }: { label: string; todos: Todo[]; onChange: Change; empty: string }) {
  if (todos.length === 0) return empty ? <p className="muted">{empty}</p> : null;
  return (
    <ul className="iv-list" aria-label={label}>
      {todos.map((t) => (
        <TodoRow key={t.id} todo={t} onChange={onChange} />
      ))}
    </ul>
  );
}

function TodoRow({ todo, onChange }: { todo: Todo; onChange: Change }) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(todo.title);
  const [due, setDue] = useState(toLocalInput(todo.due_at));
  const path = { params: { path: { todo_id: todo.id } } };
  const overdue = todo.status === "todo" && todo.due_at && new Date(todo.due_at) < new Date();

  function save(e: FormEvent) {
    e.preventDefault();
    setEditing(false);
    void onChange(() =>
      unwrap(api.PATCH("/api/v1/tracker/todos/{todo_id}", { ...path, body: { title, due_at: fromLocalInput(due) } })),
    );
  }

  if (editing) {
    return (
      <li className="iv">
        <form className="row grow" onSubmit={save}>
          <label className="grow">
            Title
            <input value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={500} />
          </label>
          <label>
            Due
            <input type="datetime-local" value={due} onChange={(e) => setDue(e.target.value)} />
          </label>
          <button type="submit" className="primary small">
            Save
          </button>
          <button type="button" className="ghost small" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      </li>
    );
  }

  return (
    <li className="iv todo" data-status={todo.status}>
      <input
        type="checkbox"
        checked={todo.status === "done"}
        aria-label={`Done: ${todo.title}`}
        onChange={(e) => {
          const status = e.target.checked ? "done" : "todo";
          const shown = { ...todo, status, done_at: status === "done" ? new Date().toISOString() : null } as Todo;
          void onChange(() => unwrap(api.PATCH("/api/v1/tracker/todos/{todo_id}", { ...path, body: { status } })), undefined, shown);
        }}
      />
      <div className="doc-main">
        <span className="todo-title">{todo.title}</span>
        <span className={`small ${overdue ? "overdue" : "muted"}`}>
          {todo.due_at ? `due ${formatDate(todo.due_at)}` : "no due date"} · {todo.kind.replace("_", " ")}
          {todo.link && (
            <>
              {" · "}
              <a href={todo.link} target="_blank" rel="noreferrer">
                link
              </a>
            </>
          )}
          {todo.interview_id && (
            <>
              {" · "}
              <Link to={`/interviews/${todo.interview_id}`}>practise</Link>
            </>
          )}
          {todo.application_id && (
            <>
              {" · "}
              <Link to={`/tracker/applications/${todo.application_id}`}>application</Link>
            </>
          )}
        </span>
      </div>
      <button
        type="button"
        className="ghost small"
        onClick={() => {
          setTitle(todo.title);
          setDue(toLocalInput(todo.due_at));
          setEditing(true);
        }}
      >
        Edit
      </button>
      <button
        type="button"
        className="ghost small"
        aria-label={`Delete todo ${todo.title}`}
        onClick={() => void onChange(() => unwrap(api.DELETE("/api/v1/tracker/todos/{todo_id}", path)).then(() => undefined), todo.id)}
      >
        Delete
      </button>
    </li>
  );
}

function AddTodo({ onAdd }: { onAdd: (body: { title: string; notes: string; due_at: string | null }) => Promise<void> }) {
  const [title, setTitle] = useState("");
  const [due, setDue] = useState("");

  async function submit(e: FormEvent) {
    e.preventDefault();
    await onAdd({ title: title.trim(), notes: "", due_at: fromLocalInput(due) });
    setTitle("");
    setDue("");
  }

  return (
    <section className="card" aria-labelledby="add-todo-heading">
      <h2 id="add-todo-heading">Add a todo</h2>
      <form className="row" onSubmit={(e) => void submit(e)}>
        <label className="grow">
          New todo
          <input value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={500} />
        </label>
        <label>
          Due
          <input type="datetime-local" value={due} onChange={(e) => setDue(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={!title.trim()}>
          Add
        </button>
      </form>
    </section>
  );
}
