"""Retrieval for the api and the interviewer: embed once, search both vectors, merge, load rows.

Ownership is enforced twice: the store filters on the owner in its payload, and the rows loaded
from the database are filtered on the owner again, so a stray point can never leak another
user's text. A document's pairs and chunks are sealed in the database: they are opened here
(`open_pairs`, `open_chunks`) into plain in-memory views, which is what every reader gets.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.errors import Invalid, Unavailable
from mocki.documents import sealing
from mocki.models import Chunk, QAPair
from mocki.retrieval import merge
from mocki.retrieval.embeddings import Embedder, EmbeddingError
from mocki.retrieval.store import PUBLIC_OWNER, VectorStore
from mocki.settings import RetrievalSettings

SCOPES = ("resume", "job_description", "question")
MAX_QUERY_CHARS = 2000


@dataclass
class Retriever:
    """What a search needs, built once per process (see app.py)."""

    store: VectorStore
    embedder: Embedder
    settings: RetrievalSettings


@dataclass(frozen=True)
class PairText:
    """A pair with its question and answer readable (opened, for a document's pair)."""

    id: uuid.UUID
    owner_id: uuid.UUID | None
    kind: str
    source_id: uuid.UUID
    document_id: uuid.UUID | None
    question_id: uuid.UUID | None
    chunk_id: uuid.UUID | None
    origin: str
    question: str
    answer: str


@dataclass(frozen=True)
class ChunkText:
    """A chunk with its text opened."""

    id: uuid.UUID
    document_id: uuid.UUID
    ordinal: int
    start_line: int
    end_line: int
    text: str


@dataclass(frozen=True)
class Found:
    pair: PairText
    score: float
    score_query: float
    score_answer: float
    chunk: ChunkText | None  # the resume/JD lines the pair came from; None for bank questions


async def open_pairs(session: AsyncSession, pairs: Sequence[QAPair]) -> list[PairText]:
    """The pairs readable, in order: a document's opened under its data key, the bank's as they are."""
    keys = await sealing.document_keys(
        session, (p.document_id for p in pairs if p.document_id is not None and p.question_sealed is not None)
    )
    out = []
    for p in pairs:
        question, answer = p.question, p.answer
        if p.question_sealed is not None and p.answer_sealed is not None and p.document_id is not None:
            key = keys[p.document_id]
            question = sealing.open_text(key, p.question_sealed, sealing.pair_ad(p.id, "q"))
            answer = sealing.open_text(key, p.answer_sealed, sealing.pair_ad(p.id, "a"))
        out.append(
            PairText(
                p.id,
                p.owner_id,
                p.kind,
                p.source_id,
                p.document_id,
                p.question_id,
                p.chunk_id,
                p.origin,
                question,
                answer,
            )
        )
    return out


async def open_chunks(session: AsyncSession, chunks: Sequence[Chunk]) -> list[ChunkText]:
    """The chunks with their text opened under their documents' data keys, in order."""
    keys = await sealing.document_keys(session, (c.document_id for c in chunks))
    return [
        ChunkText(
            c.id,
            c.document_id,
            c.ordinal,
            c.start_line,
            c.end_line,
            sealing.open_text(keys[c.document_id], c.text_sealed, sealing.chunk_ad(c.id)),
        )
        for c in chunks
    ]


def _check_scopes(scopes: Sequence[str]) -> list[str]:
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise Invalid(f"Unknown scope {bad[0]!r}; use {', '.join(SCOPES)}.", code="bad_scope")
    if not scopes:
        raise Invalid("Give at least one scope.", code="bad_scope")
    return list(dict.fromkeys(scopes))


async def search_vector(
    session: AsyncSession,
    retriever: Retriever,
    owner_id: uuid.UUID,
    vector: np.ndarray,
    scopes: Sequence[str],
    *,
    k: int = 5,
    mode: merge.Mode = "merged",
) -> list[Found]:
    kinds = _check_scopes(scopes)
    cfg = retriever.settings
    owners = [str(owner_id)] + ([PUBLIC_OWNER] if "question" in kinds else [])
    hits = await asyncio.to_thread(
        retriever.store.search_pairs, vector, owners=owners, kinds=kinds, limit=max(cfg.candidates, k)
    )
    ranked = merge.rank(hits, mode, fusion=cfg.fusion, weight_query=cfg.weight_query, rrf_k=cfg.rrf_k)
    ids = [uuid.UUID(r.hit.id) for r in ranked[: k * 2]]  # some may be gone from the database already
    rows = await session.scalars(
        select(QAPair).where(
            QAPair.id.in_(ids),
            or_(QAPair.owner_id == owner_id, QAPair.owner_id.is_(None)),
            QAPair.kind.in_(kinds),
        )
    )
    pairs = {p.id: p for p in await open_pairs(session, list(rows))}
    chunk_ids = [p.chunk_id for p in pairs.values() if p.chunk_id is not None]
    chunks = (
        {
            c.id: c
            for c in await open_chunks(
                session, list(await session.scalars(select(Chunk).where(Chunk.id.in_(chunk_ids))))
            )
        }
        if chunk_ids
        else {}
    )
    out: list[Found] = []
    for r in ranked:
        pair = pairs.get(uuid.UUID(r.hit.id))
        if pair is None:
            continue
        chunk = chunks.get(pair.chunk_id) if pair.chunk_id is not None else None
        out.append(Found(pair, r.score, r.hit.score_query, r.hit.score_answer, chunk))
        if len(out) >= k:
            break
    return out


async def search(
    session: AsyncSession,
    retriever: Retriever,
    owner_id: uuid.UUID,
    text: str,
    scopes: Sequence[str],
    *,
    k: int = 5,
    mode: merge.Mode = "merged",
) -> list[Found]:
    """The user's question embedded once, both named vectors searched, merged, rows loaded."""
    text = text.strip()
    if not text:
        raise Invalid("The search text is empty.", code="empty_query")
    if len(text) > MAX_QUERY_CHARS:
        raise Invalid(f"The search text is longer than {MAX_QUERY_CHARS} characters.", code="query_too_long")
    try:
        vector = (await retriever.embedder.embed([text]))[0]
    except EmbeddingError as exc:
        raise Unavailable(f"Search is unavailable right now: {exc}", code="embeddings_unavailable") from exc
    return await search_vector(session, retriever, owner_id, vector, scopes, k=k, mode=mode)
