"""`mocki jobs import FILE`: a job catalogue imported from the command line, embedded in-process.

Registered in cli.py as `jobs_app.command("import")(jobs_import)` on a `jobs` Typer group.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from mocki.settings import Settings, get_settings


def jobs_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help=".jsonl or .csv")],
    user: Annotated[str, typer.Option("--user", help="the account (email) the postings belong to")],
    shared: Annotated[
        bool, typer.Option("--shared", help="share with every user (the account must be an admin)")
    ] = False,
) -> None:
    """Import job postings (title, company, location, description, url, skills, posted_at) and embed them."""
    from mocki.core.errors import DomainError

    try:
        summary = asyncio.run(import_file(get_settings(), file.name, file.read_bytes(), user, shared=shared))
    except DomainError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    typer.echo(summary)


async def import_file(settings: Settings, filename: str, data: bytes, email: str, *, shared: bool) -> str:
    """Parse, store and embed (inline: no worker needed); a summary line plus one line per bad row."""
    from mocki.core.db import make_engine, make_sessionmaker, session_scope
    from mocki.core.errors import Forbidden, NotFound
    from mocki.retrieval.embeddings import make_embedder
    from mocki.tracker import jobs
    from mocki.users import repository as users

    parsed = jobs.parse_catalogue(filename, data)
    engine = make_engine(settings.resolved_database_url)
    embedder = make_embedder(settings, inline=True)
    try:
        factory = make_sessionmaker(engine)
        async with session_scope(factory) as session:
            owner = await users.by_email(session, email.strip().lower())
            if owner is None:
                raise NotFound(f"No account {email}.")
            if shared and owner.role != "admin":
                raise Forbidden("Only an administrator's import is shared.")
            job = await jobs.store(session, owner.id, filename, parsed, shared=shared)
            import_id, added, dupes, invalid = job.id, job.added, job.duplicates, job.invalid
        embedded = await jobs.embed_import(factory, embedder, import_id)
    finally:
        await embedder.aclose()
        await engine.dispose()
    lines = [
        f"{parsed.rows} rows: {added} added ({embedded} embedded), {dupes} duplicates, {invalid} refused"
    ]
    lines += [f"  line {p['line']}: {p['reason']}" for p in parsed.problems]
    return "\n".join(lines)
