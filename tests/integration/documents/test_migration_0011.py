"""Migration 0011 seals the documents, chunks and pairs stored in plaintext before it, and keeps
them readable; bank pairs stay as they were."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import undefer

from mocki.core.db import make_engine, make_sessionmaker
from mocki.core.timeutil import utcnow
from mocki.documents import sealing
from mocki.models import Chunk, Document, QAPair
from mocki.settings import Settings
from mocki.users.service import create_user
from tests.conftest import ROOT, _pg_admin
from tests.support.processes import PYTHON

SECRET = f"ZQX{uuid.uuid4().hex}"
TEXT = f"Dana Okafor\n- Built a Kafka pipeline\n- Reference {SECRET}"


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    name = f"mocki_mig_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _alembic(url: str, target: str, key_file: str) -> None:
    env = {**os.environ, "MOCKI_KEYS__KEY_FILE": key_file}
    done = subprocess.run(
        [PYTHON, "-m", "alembic", "-x", f"url={url}", "upgrade", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]


_UUIDS = {"id", "owner_id", "document_id", "chunk_id", "source_id"}


def _col(name: str) -> sa.ColumnClause[object]:
    if name in _UUIDS:
        return sa.column(name, sa.Uuid())
    if name.endswith("_at"):
        return sa.column(name, sa.DateTime(timezone=True))
    return sa.column(name)


async def _old_rows(url: str) -> dict[str, uuid.UUID]:
    """A document with its chunk and pair, and a bank pair, as 0010 stored them (plaintext)."""
    engine = make_engine(url)
    ids = {name: uuid.uuid4() for name in ("document", "chunk", "pair", "bank")}
    now = utcnow()
    stamps = {"created_at": now, "updated_at": now}
    try:
        async with make_sessionmaker(engine)() as session:
            user = await create_user(
                session, f"mig-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
            )
            await session.commit()
            owner = user.id
        docs = sa.table(
            "documents",
            *(_col(c) for c in ("owner_id", "kind", "title", "filename", "media_type", "size_bytes")),
            *(_col(c) for c in ("status", "char_count", "id", "created_at", "updated_at", "text")),
        )
        chunks = sa.table(
            "chunks",
            *(_col(c) for c in ("owner_id", "document_id", "ordinal", "text", "start_line", "end_line")),
            *(_col(c) for c in ("token_count", "id", "created_at", "updated_at")),
        )
        pairs = sa.table(
            "qa_pairs",
            *(_col(c) for c in ("owner_id", "kind", "source_id", "document_id", "chunk_id", "question")),
            *(_col(c) for c in ("answer", "origin", "embed_model", "id", "created_at", "updated_at")),
        )
        async with engine.begin() as conn:
            await conn.execute(
                docs.insert().values(
                    id=ids["document"], owner_id=owner, kind="resume", title="cv", filename="cv.txt",
                    media_type="text/plain", size_bytes=len(TEXT), status="ready", char_count=len(TEXT),
                    text=TEXT, **stamps,
                )
            )  # fmt: skip
            await conn.execute(
                chunks.insert().values(
                    id=ids["chunk"], owner_id=owner, document_id=ids["document"], ordinal=0, text=TEXT,
                    start_line=1, end_line=3, token_count=20, **stamps,
                )
            )  # fmt: skip
            await conn.execute(
                pairs.insert().values(
                    id=ids["pair"], owner_id=owner, kind="resume", source_id=ids["document"],
                    document_id=ids["document"], chunk_id=ids["chunk"], question=f"What is {SECRET}?",
                    answer=TEXT, origin="rule", embed_model="m", **stamps,
                )
            )  # fmt: skip
            await conn.execute(
                pairs.insert().values(
                    id=ids["bank"], owner_id=None, kind="question", source_id=uuid.uuid4(),
                    document_id=None, chunk_id=None, question="Tell me about a conflict.",
                    answer="A rubric", origin="bank", embed_model="m", **stamps,
                )
            )  # fmt: skip
    finally:
        await engine.dispose()
    return ids


async def _check_sealed(url: str, ids: dict[str, uuid.UUID]) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            doc = await session.scalar(
                sa.select(Document)
                .where(Document.id == ids["document"])
                .options(undefer(Document.text_sealed))
            )
            assert doc is not None and doc.data_key is not None and doc.text_sealed is not None
            assert SECRET.encode() not in doc.text_sealed
            key = await sealing.data_key(doc.data_key)
            assert sealing.open_text(key, doc.text_sealed, sealing.document_ad(doc.id, "text")) == TEXT
            chunk = await session.get(Chunk, ids["chunk"])
            assert chunk is not None
            assert sealing.open_text(key, chunk.text_sealed, sealing.chunk_ad(chunk.id)) == TEXT
            pair = await session.get(QAPair, ids["pair"])
            assert pair is not None and pair.question == "" and pair.answer == ""
            assert pair.question_sealed is not None
            assert (
                sealing.open_text(key, pair.question_sealed, sealing.pair_ad(pair.id, "q"))
                == f"What is {SECRET}?"
            )
            bank = await session.get(QAPair, ids["bank"])
            assert (
                bank is not None
                and bank.question == "Tell me about a conflict."
                and bank.question_sealed is None
            )
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: [col["name"] for col in sa.inspect(c).get_columns("documents")]
            )
        assert "text" not in columns
    finally:
        await engine.dispose()


def test_upgrade_seals_existing_plaintext_rows(fresh_url: str, settings: Settings) -> None:
    key_file = settings.keys.key_file
    _alembic(fresh_url, "0010", key_file)
    ids = asyncio.run(_old_rows(fresh_url))
    _alembic(fresh_url, "head", key_file)
    sealing.configure(settings)  # the same key file the migration used
    sealing.cache.clear()
    asyncio.run(_check_sealed(fresh_url, ids))
