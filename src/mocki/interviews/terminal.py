"""A text interview in the terminal: the same engine, services and report as the web app.

The terminal is one local user ("terminal@localhost") on the configured database; answers are
read from `input_fn`, the interviewer's words are streamed to `output_fn`, "/end" ends early,
and the report is written in-process (no worker needed) and printed with rich.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import secrets
import socket
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocki.core.db import make_engine, make_sessionmaker, session_scope
from mocki.core.errors import Conflict, DomainError
from mocki.documents import service as documents
from mocki.interviews import report as reports
from mocki.interviews import service, streaming
from mocki.interviews.schemas import InterviewIn, ReportOut
from mocki.llm.base import LLM
from mocki.llm.factory import make_llm
from mocki.questions import service as questions
from mocki.settings import Settings
from mocki.users import service as users

LOCAL_EMAIL = "terminal@localhost"
END_COMMANDS = {"/end", "/quit", "/exit"}
MAX_ANSWER_CHARS = 5000

InputFn = Callable[[str], str]
OutputFn = Callable[[str], None]


async def _local_user(session: AsyncSession) -> uuid.UUID:
    existing = await users.get_by_email(session, LOCAL_EMAIL)
    if existing is not None:
        return existing.id
    try:
        user = await users.create_user(session, LOCAL_EMAIL, secrets.token_urlsafe(24), "Terminal")
    except Conflict:
        found = await users.get_by_email(session, LOCAL_EMAIL)
        if found is None:
            raise
        return found.id
    return user.id


async def _document(
    session: AsyncSession, owner_id: uuid.UUID, kind: str, path: Path, settings: Settings
) -> uuid.UUID:
    data = await asyncio.to_thread(path.read_bytes)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    extracted = await asyncio.to_thread(
        documents.extract_text, data, path.name, media_type, settings.documents
    )
    doc = await documents.create_from_text(
        session, owner_id, kind, path.name, extracted.text, celery=None, limits=settings.documents
    )
    return doc.id


async def _speak(
    factory: async_sessionmaker[AsyncSession], llm: LLM, prepared: service.PreparedTurn, output_fn: OutputFn
) -> bool:
    output_fn("\ninterviewer> ")
    finished = False
    streamed = ""
    async for event in streaming.run_turn(factory, llm, prepared):
        if event.name == "token":
            streamed += event.data["text"]
            output_fn(event.data["text"])
        elif event.name == "error":
            output_fn(f"\n[{event.data['message']}]\n")
        elif event.name == "done":
            finished = bool(event.data["finished"])
            if event.data["turn"] is None:  # a human interviewer took over (interviews/handoff.py)
                output_fn("[a human interviewer has the floor; they answer in the web app]")
                continue
            final = str(event.data["turn"]["text"])
            if final.startswith(streamed):
                output_fn(final[len(streamed) :])
            else:
                # The guard replaced what the model said (garbage or off-plan): show what counts.
                output_fn(("\n" if streamed else "") + final)
    output_fn("\n")
    return finished


def render_report(report: ReportOut) -> Group:
    head = f"Overall: {report.overall_score:.0f}/100" if report.overall_score is not None else "Overall: -"
    table = Table(show_lines=True, expand=True)
    table.add_column("#", justify="right", width=3)
    table.add_column("question / feedback", ratio=3)
    table.add_column("rel", justify="right", width=4)
    table.add_column("str", justify="right", width=4)
    table.add_column("dep", justify="right", width=4)
    table.add_column("com", justify="right", width=4)
    for n, item in enumerate(report.items, start=1):
        s = item.scores
        table.add_row(
            str(n),
            f"{item.question}\n[italic]{item.feedback}[/italic]\n[dim]turns {item.turn_seqs}[/dim]",
            f"{s.relevance:.1f}",
            f"{s.structure:.1f}",
            f"{s.depth:.1f}",
            f"{s.communication:.1f}",
        )
    parts: list[Any] = [Panel(f"[bold]{head}[/bold]\n{report.summary}", title="Interview report")]
    if report.items:
        parts.append(table)
    return Group(*parts)


async def run_terminal_interview(
    settings: Settings,
    resume_path: Path,
    jd_path: Path,
    role: str,
    kind: str,
    length: int,
    input_fn: InputFn,
    output_fn: OutputFn,
    *,
    llm: LLM | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Run one interview end to end and return the report as a plain dict (plus interview_id)."""
    engine = make_engine(settings.resolved_database_url)
    factory = make_sessionmaker(engine)
    own_llm = llm is None
    model = llm or make_llm(settings)
    try:
        async with session_scope(factory) as session:
            await questions.seed_builtin(session)
            owner = await _local_user(session)
            resume_id = await _document(session, owner, "resume", resume_path, settings)
            jd_id = await _document(session, owner, "job_description", jd_path, settings)
            body = InterviewIn(
                target_role=role,
                kind=kind,
                length=length,
                resume_id=resume_id,
                job_description_id=jd_id,
            )
            interview_id = (await service.create_interview(session, owner, body)).id
        output_fn(f"Interview for {role}: {length} questions. Type /end to finish early.\n")
        interviewer = service.build_engine(settings)
        finished = await _speak(
            factory, model, await streaming.open_start(factory, owner, interview_id, interviewer), output_fn
        )
        while not finished:
            try:
                answer = (await asyncio.to_thread(input_fn, "\nyou> ")).strip()
            except EOFError:
                break
            if answer.lower() in END_COMMANDS:
                break
            if not answer:
                continue
            prepared = await streaming.open_answer(
                factory, owner, interview_id, answer[:MAX_ANSWER_CHARS], interviewer
            )
            finished = await _speak(factory, model, prepared, output_fn)
        output_fn("\nWriting your report ...\n")
        async with session_scope(factory) as session:
            await service.end_interview(session, owner, interview_id, celery=None)
        async with session_scope(factory) as session:
            await reports.generate_report(session, model, interview_id)
        async with session_scope(factory) as session:
            result = await service.get_report(session, owner, interview_id)
        if console is not None:
            console.print(render_report(result))
        else:
            buffer = io.StringIO()
            Console(file=buffer, width=100, force_terminal=False).print(render_report(result))
            output_fn(buffer.getvalue())
        return {"interview_id": str(interview_id), **result.model_dump(mode="json")}
    finally:
        if own_llm:
            await model.aclose()
        await engine.dispose()


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def main(
    settings: Settings, resume: Path, jd: Path, *, role: str, kind: str, length: int, model: str = "default"
) -> int:
    """`mocki interview`: migrate, start the packaged model unless one is configured or running, run."""
    from mocki.cli import upgrade_database
    from mocki.embedded import Stack

    console = Console()
    upgrade_database(settings)
    stack = Stack(settings, model=model, say=lambda line: console.print(f"[dim]{line}[/dim]"))
    if not settings.llm.base_url and _port_open(settings.local_model.port):
        console.print(f"[dim]llm        reusing the model server on port {settings.local_model.port}[/dim]")
    else:
        stack.start_llm()

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    try:
        asyncio.run(
            run_terminal_interview(settings, resume, jd, role, kind, length, input, write, console=console)
        )
    except DomainError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        return 1
    except KeyboardInterrupt:
        console.print("\n[dim]interrupted[/dim]")
        return 130
    finally:
        stack.stop()
    return 0
