"""`mocki bench mail`: 1,000 emails from sync to timeline with the local default, and the LLM path's
throughput at concurrency 1, 8 and 32 against a local stand-in endpoint with a fixed latency.

Local: a 1,000-message .mbox of synthetic job-search mail (tracker/data/generate.py, a seed the
training set does not use) is uploaded into a fresh SQLite database and taken through the same
code the Celery tasks run, in this one process: read and parse, store with Message-ID dedupe,
classify and extract (MiniLM + cues + rules), place on the timeline. The time starts when the
sync starts and stops when the last analysis has committed (`seconds_1000_local`); the status
model is loaded (or trained) before. With several io workers the analysis runs in parallel.

LLM: the stand-in speaks the OpenAI chat API, sleeps `--latency` seconds and answers a valid
JSON analysis. The same emails are analysed with `llm=always` and the semaphore at 1, 8 and 32;
the baseline is concurrency 1, measured in the same run.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from mocki.core.db import make_engine, make_sessionmaker, session_scope
from mocki.models import User
from mocki.models.tracker import Application, ApplicationEvent, Email, MailAccount, MailSync
from mocki.retrieval.embeddings import make_embedder
from mocki.settings import Settings, get_settings
from mocki.tracker.analysis import Analyzer, MailInput
from mocki.tracker.classifier import STATUSES
from mocki.tracker.data.generate import generate
from mocki.tracker.llm import StructuredLLM
from mocki.tracker.tasks import analyse_once, sync_once

ROOT = Path(__file__).resolve().parents[1]
SEED = 2024  # the training set uses 7
TARGET_S = 60.0


def mailbox(count: int) -> tuple[bytes, list[MailInput]]:
    per_label = -(-count // len(STATUSES))
    emails = generate(per_label, SEED)[:count]
    parts = []
    for number, item in enumerate(emails):
        raw = item.rfc822(f"<bench-{number}@mail.example>")
        parts.append(
            b"From bench@example.com Mon Mar 11 10:00:00 2024\n"
            + raw.replace(b"\nFrom ", b"\n>From ")
            + b"\n"
        )
    inputs = [MailInput(e.subject, e.sender.split(" <")[0], "", e.date, e.body) for e in emails]
    return b"".join(parts), inputs


def _migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    command.upgrade(cfg, "head")


async def _local(settings: Settings, data: bytes, count: int) -> dict[str, Any]:
    engine = make_engine(settings.resolved_database_url)
    factory = make_sessionmaker(engine)
    embedder = make_embedder(settings, inline=True)
    try:
        analyzer = Analyzer(settings, embedder, mode="off")
        started = time.perf_counter()
        await analyzer.model()
        model_s = time.perf_counter() - started
        owner, sync_id = uuid.uuid4(), uuid.uuid4()
        async with session_scope(factory) as session:
            session.add(User(id=owner, email=f"bench-{owner.hex[:8]}@example.com", name="bench"))
            await session.flush()
            account = MailAccount(
                id=uuid.uuid4(), owner_id=owner, kind="upload", label="bench", config={}, cursor={}
            )
            session.add(account)
            await session.flush()
            session.add(
                MailSync(
                    id=sync_id,
                    owner_id=owner,
                    account_id=account.id,
                    filename="bench.mbox",
                    payload=data,
                    problems=[],
                )
            )
        sent: list[list[Any]] = []
        started = time.perf_counter()
        await sync_once(factory, settings, sync_id, lambda _name, args: sent.append(args))
        fetched_s = time.perf_counter() - started
        for sid, ids in sent:
            await analyse_once(factory, analyzer, uuid.UUID(sid), [uuid.UUID(i) for i in ids])
        total_s = time.perf_counter() - started
        async with session_scope(factory) as session:
            sync = await session.get(MailSync, sync_id)
            assert sync is not None
            figures = {
                "emails": count,
                "stored": sync.stored,
                "analysed": sync.analysed,
                "sync_status": sync.status,
                "applications": await _count(session, Application),
                "events": await _count(session, ApplicationEvent),
                "emails_in_db": await _count(session, Email),
            }
        return figures | {
            "seconds_1000_local": round(total_s * 1000 / count, 2),
            "seconds_local": round(total_s, 2),
            "fetch_store_s": round(fetched_s, 2),
            "analyse_s": round(total_s - fetched_s, 2),
            "emails_per_s_local": round(count / total_s, 1),
            "model_ready_s": round(model_s, 2),
        }
    finally:
        await embedder.aclose()
        await engine.dispose()


async def _count(session: Any, model: Any) -> int:
    from sqlalchemy import func, select

    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


# ------------------------------------------------------------------------- the LLM stand-in

ANSWER = json.dumps(
    {
        "status": "applied", "company": "Northwind Labs", "position": "Data Engineer", "interview_at": None,
        "deadline_at": None, "assessment_url": None, "next_action": "Wait for a reply.",
    }
)  # fmt: skip


MESSAGE = {"role": "assistant", "content": ANSWER}


def stand_in(latency_s: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(latency_s)
            body = json.dumps(
                {
                    "id": "bench", "object": "chat.completion", "created": 0, "model": "stand-in",
                    "choices": [{"index": 0, "finish_reason": "stop", "message": MESSAGE}],
                    "usage": {"prompt_tokens": 300, "completion_tokens": 60, "total_tokens": 360},
                }
            ).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def _llm(
    settings: Settings, inputs: list[MailInput], latency_s: float, levels: list[int]
) -> dict[str, Any]:
    server = stand_in(latency_s)
    embedder = make_embedder(settings, inline=True)
    figures: dict[str, Any] = {"llm_latency_s": latency_s, "llm_emails": len(inputs)}
    try:
        for level in levels:
            tracker = settings.tracker.model_copy(update={"llm_concurrency": level, "llm": "always"})
            llm = StructuredLLM(f"http://127.0.0.1:{server.server_address[1]}/v1", "bench", "stand-in")
            analyzer = Analyzer(
                settings.model_copy(update={"tracker": tracker}), embedder, llm=llm, mode="always"
            )
            await analyzer.model()
            started = time.perf_counter()
            results, usages = await analyzer.analyse(inputs)
            elapsed = time.perf_counter() - started
            await llm.aclose()
            assert len(usages) == len(inputs) and all(r.source == "llm" for r in results)
            figures[f"llm_emails_per_s_c{level}"] = round(len(inputs) / elapsed, 2)
            figures[f"seconds_1000_llm_c{level}"] = round(elapsed * 1000 / len(inputs), 1)
        base = figures[f"llm_emails_per_s_c{levels[0]}"]
        for level in levels[1:]:
            figures[f"llm_speedup_c{level}"] = round(figures[f"llm_emails_per_s_c{level}"] / base, 2)
        return figures
    finally:
        server.shutdown()
        server.server_close()
        await embedder.aclose()


def _print(console: Console, figures: dict[str, Any], levels: list[int]) -> None:
    table = Table(
        title=f"mail: {figures['emails']} emails from sync to timeline (local default, one process)"
    )
    for column in ("what", "value"):
        table.add_column(column, justify="left" if column == "what" else "right")
    verdict = "met" if figures["seconds_1000_local"] <= TARGET_S else "NOT met"
    table.add_row(
        "seconds per 1,000 emails",
        f"{figures['seconds_1000_local']:.1f} s (target ≤ {TARGET_S:.0f} s: {verdict})",
    )
    table.add_row("  read, parse, store (sync)", f"{figures['fetch_store_s']:.1f} s")
    table.add_row("  classify, extract, timeline", f"{figures['analyse_s']:.1f} s")
    table.add_row("emails per second", f"{figures['emails_per_s_local']:.1f}")
    table.add_row(
        "stored / analysed / sync", f"{figures['stored']} / {figures['analysed']} / {figures['sync_status']}"
    )
    table.add_row("applications / events", f"{figures['applications']} / {figures['events']}")
    table.add_row("status model ready in", f"{figures['model_ready_s']:.1f} s (before the clock)")
    console.print(table)
    llm = Table(
        title=f"LLM path: {figures['llm_emails']} emails, a stand-in endpoint answering after "
        f"{figures['llm_latency_s']} s"
    )
    for column in ("concurrency", "emails/s", "s per 1,000", "× concurrency 1"):
        llm.add_column(column, justify="right")
    for level in levels:
        speedup = figures.get(f"llm_speedup_c{level}", 1.0)
        llm.add_row(
            str(level),
            f"{figures[f'llm_emails_per_s_c{level}']:.2f}",
            f"{figures[f'seconds_1000_llm_c{level}']:.0f}",
            f"{speedup:.2f}",
        )
    console.print(llm)


def run(
    *, count: int = 1000, latency_s: float = 0.25, llm_emails: int = 96, levels: tuple[int, ...] = (1, 8, 32)
) -> dict[str, Any]:
    """Entry point of `mocki bench mail`."""
    console = Console(width=120)
    data, inputs = mailbox(count)
    with tempfile.TemporaryDirectory(prefix="mocki-bench-mail-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        _migrate(url)
        base = get_settings()
        settings = base.model_copy(
            update={"database_url": url, "tracker": base.tracker.model_copy(update={"llm": "off"})}
        )
        figures = asyncio.run(_local(settings, data, count))
        figures |= asyncio.run(_llm(settings, inputs[:llm_emails], latency_s, list(levels)))
    figures["target_seconds_1000_local"] = TARGET_S
    _print(console, figures, list(levels))
    return figures
