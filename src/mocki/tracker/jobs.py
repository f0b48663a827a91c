"""The job catalogue: reading a JSONL or CSV file of postings, storing the good rows (deduplicated),
and embedding them for recommendations.

A bad row never sinks the file: it is reported with its line number and the good rows are kept.
A posting's identity is its url when it has one, else its company and title; (scope, that key)
is unique, so importing the same file twice adds nothing. Embedding runs on an io worker, batch
by batch, each batch committed with the import's progress: safe to run twice (only postings
still without a vector are embedded).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from mocki.core.db import session_scope
from mocki.core.errors import Invalid, UnsupportedMedia
from mocki.core.timeutil import as_utc, utcnow
from mocki.models.jobs import SHARED_SCOPE, JobImport, JobPosting
from mocki.retrieval.embeddings import Embedder
from mocki.retrieval.indexing import to_bytes
from mocki.tracker import skills
from mocki.tracker.extract import company_key, position_key
from mocki.tracker.timeline import insert_for

FIELDS = ("title", "company", "location", "description", "url", "skills", "posted_at")
MAX_ROWS = 20_000
MAX_PROBLEMS = 200
INSERT_ROWS = 300
EMBED_BATCH = 32
# What a posting's vector is made of: the title, its skills and the head of the description.
DESCRIPTION_HEAD = 700
LIMITS = {"title": 300, "company": 300, "location": 200, "url": 2000, "description": 50_000}


@dataclass(frozen=True)
class PostingIn:
    title: str
    company: str
    location: str
    description: str
    url: str
    skills: list[str]
    posted_at: datetime | None

    @property
    def dedupe_key(self) -> str:
        if self.url:
            basis = "url:" + self.url.strip().lower().rstrip("/")
        else:
            basis = f"ct:{company_key(self.company)}|{position_key(self.title)}"
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()


@dataclass
class Parsed:
    rows: int = 0
    good: list[tuple[int, PostingIn]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, line: int, reason: str) -> None:
        self.problems.append({"line": line, "reason": reason})


# ------------------------------------------------------------------------------------ reading


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"The file is not UTF-8 text (byte {exc.start} cannot be read); save it as UTF-8.",
            code="catalogue_not_utf8",
        ) from exc


def detect_format(filename: str, text: str) -> str:
    lowered = filename.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith((".csv", ".tsv")):
        return "csv"
    head = text.lstrip()[:1]
    if head == "{":
        return "jsonl"
    if head and "," in text.split("\n", 1)[0]:
        return "csv"
    raise UnsupportedMedia("Upload the postings as a .jsonl (one JSON object a line) or a .csv file.")


def _jsonl(text: str, parsed: Parsed) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parsed.rows += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.refuse(number, f"not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(value, dict):
            parsed.refuse(number, "not a JSON object")
            continue
        yield number, value


def _csv(text: str, parsed: Parsed) -> Iterator[tuple[int, dict[str, Any]]]:
    dialect = "excel-tab" if "\t" in text.split("\n", 1)[0] else "excel"
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [name for name in ("title", "company") if name not in header]
    if missing:
        raise Invalid(
            f"The CSV header has no {' or '.join(missing)} column; the columns are: {', '.join(FIELDS)}.",
            code="catalogue_header",
        )
    reader.fieldnames = header
    start = 2  # the line a record starts on: after the header, then after the previous record
    for record in reader:
        number, start = start, reader.line_num + 1
        if not any((v or "").strip() for k, v in record.items() if isinstance(v, str)):
            continue
        parsed.rows += 1
        if None in record:  # more cells than columns
            parsed.refuse(number, f"{len(header) + len(record[None])} cells for {len(header)} columns")
            continue
        yield number, record


def _posted_at(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"posted_at {text[:40]!r} is not an ISO date (2024-05-31 or 2024-05-31T09:00:00Z)"
        ) from exc
    return as_utc(when) if when.tzinfo else when.replace(tzinfo=UTC)


def _posting(row: dict[str, Any]) -> PostingIn:
    """One row as a posting; ValueError says what is wrong with it."""
    values: dict[str, str] = {}
    for name in ("title", "company", "location", "description", "url"):
        raw = row.get(name)
        if raw is not None and not isinstance(raw, (str, int, float)):
            raise ValueError(f"{name} must be text")
        values[name] = " ".join(str(raw or "").split()) if name != "description" else str(raw or "").strip()
    for name in ("title", "company"):
        if not values[name]:
            raise ValueError(f"{name} is missing")
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            raise ValueError(f"{name} is longer than {limit} characters")
    if values["url"] and not values["url"].lower().startswith(("http://", "https://")):
        raise ValueError("url must start with http:// or https://")
    raw_skills = row.get("skills")
    if raw_skills is not None and not isinstance(raw_skills, (str, list)):
        raise ValueError("skills must be a list or a comma-separated string")
    return PostingIn(
        title=values["title"], company=values["company"], location=values["location"],
        description=values["description"], url=values["url"], skills=skills.parse_list(raw_skills),
        posted_at=_posted_at(row.get("posted_at")),
    )  # fmt: skip


def parse_catalogue(filename: str, data: bytes) -> Parsed:
    """Every row read: the good ones with their line numbers, the bad ones with the reason."""
    if not data.strip():
        raise Invalid("The file is empty.", code="catalogue_empty")
    text = _text(data)
    parsed = Parsed()
    rows = _jsonl(text, parsed) if detect_format(filename, text) == "jsonl" else _csv(text, parsed)
    for number, row in rows:
        if parsed.rows > MAX_ROWS:
            raise Invalid(f"The file has more than {MAX_ROWS} postings; split it.", code="catalogue_too_long")
        try:
            parsed.good.append((number, _posting(row)))
        except ValueError as exc:
            parsed.refuse(number, str(exc))
    if parsed.rows == 0:
        raise Invalid("The file has no postings.", code="catalogue_empty")
    return parsed


# ------------------------------------------------------------------------------------ storing


def scope_of(owner_id: uuid.UUID, shared: bool) -> str:
    return SHARED_SCOPE if shared else str(owner_id)


def _row(posting: PostingIn, scope: str, owner: uuid.UUID | None, import_id: uuid.UUID) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": uuid.uuid4(), "owner_id": owner, "scope": scope, "import_id": import_id,
        "dedupe_key": posting.dedupe_key, "title": posting.title, "company": posting.company,
        "company_key": company_key(posting.company) or posting.company.lower()[:300],
        "position_key": position_key(posting.title), "location": posting.location,
        "description": posting.description, "url": posting.url, "skills": posting.skills,
        "posted_at": posting.posted_at, "created_at": now, "updated_at": now,
    }  # fmt: skip


async def store(
    session: AsyncSession, owner_id: uuid.UUID, filename: str, parsed: Parsed, *, shared: bool
) -> JobImport:
    """The import row and its new postings; rows already in the catalogue count as duplicates."""
    job = JobImport(
        id=uuid.uuid4(), owner_id=owner_id, shared=shared, filename=filename[:300], status="queued",
        rows=parsed.rows, invalid=len(parsed.problems), problems=parsed.problems[:MAX_PROBLEMS],
    )  # fmt: skip
    session.add(job)
    await session.flush()
    scope = scope_of(owner_id, shared)
    unique: dict[str, PostingIn] = {}
    for _line, posting in parsed.good:
        unique.setdefault(posting.dedupe_key, posting)
    rows = [_row(p, scope, None if shared else owner_id, job.id) for p in unique.values()]
    added = 0
    for start in range(0, len(rows), INSERT_ROWS):
        stmt = insert_for(session)(JobPosting).values(rows[start : start + INSERT_ROWS])
        stmt = stmt.on_conflict_do_nothing(index_elements=["scope", "dedupe_key"]).returning(JobPosting.id)
        added += len(list((await session.execute(stmt)).scalars()))
    job.added, job.duplicates = added, len(parsed.good) - added
    if added == 0:
        job.status, job.finished_at = "done", utcnow()
    return job


# ---------------------------------------------------------------------------------- embedding


def posting_text(title: str, skill_names: Sequence[str], description: str) -> str:
    parts = [title]
    if skill_names:
        parts.append("Skills: " + ", ".join(skill_names))
    parts.append(" ".join(description.split())[:DESCRIPTION_HEAD])
    return ". ".join(p for p in parts if p)


async def _next_batch(
    session: AsyncSession, import_id: uuid.UUID, size: int
) -> list[tuple[uuid.UUID, str]] | None:
    """The next postings of the import still without a vector; None when the import is gone or over."""
    job = await session.get(JobImport, import_id, with_for_update=True)
    if job is None or job.status in ("done", "failed"):
        return None
    if job.status == "queued":
        job.status = "embedding"
    stmt = (
        select(JobPosting)
        .where(JobPosting.import_id == import_id, JobPosting.embedding.is_(None))
        .options(undefer(JobPosting.description))
        .order_by(JobPosting.id)
        .limit(size)
    )
    postings = (await session.execute(stmt)).scalars().all()
    if not postings:
        job.status, job.finished_at = "done", utcnow()
        return []
    return [(p.id, posting_text(p.title, p.skills, p.description)) for p in postings]


async def _save_batch(
    session: AsyncSession, import_id: uuid.UUID, model_id: str, vectors: dict[uuid.UUID, bytes]
) -> None:
    job = await session.get(JobImport, import_id, with_for_update=True)
    stmt = select(JobPosting).where(JobPosting.id.in_(list(vectors)), JobPosting.embedding.is_(None))
    done = 0
    for posting in (await session.execute(stmt)).scalars():
        posting.embedding, posting.embed_model = vectors[posting.id], model_id
        done += 1
    if job is not None:
        job.embedded += done


async def embed_import(
    factory: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    import_id: uuid.UUID,
    *,
    batch: int = EMBED_BATCH,
) -> int:
    """Embed the import's postings batch by batch (no connection held while the model runs); returns
    how many this call embedded."""
    total = 0
    while True:
        async with session_scope(factory) as session:
            todo = await _next_batch(session, import_id, batch)
        if not todo:
            return total
        vectors = await embedder.embed([text for _, text in todo])
        found = {pid: to_bytes(vec) for (pid, _), vec in zip(todo, vectors, strict=True)}
        async with session_scope(factory) as session:
            await _save_batch(session, import_id, embedder.model_id, found)
        total += len(found)


async def fail_import(session: AsyncSession, import_id: uuid.UUID, message: str) -> None:
    job = await session.get(JobImport, import_id, with_for_update=True)
    if job is not None and job.status not in ("done", "failed"):
        job.status, job.error, job.finished_at = "failed", message[:2000], utcnow()
