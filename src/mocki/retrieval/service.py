"""Retrieval for the api and the interviewer: embed once, search both vectors, merge, load rows.

Ownership is enforced twice: the store filters on the owner in its payload, and the rows loaded
from the database are filtered on the owner again, so a stray point can never leak another
user's text.
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
class Found:
    pair: QAPair
    score: float
    score_query: float
    score_answer: float
    chunk: Chunk | None  # the resume/JD lines the pair came from; None for bank questions


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
    pairs = {p.id: p for p in rows}
    chunk_ids = [p.chunk_id for p in pairs.values() if p.chunk_id is not None]
    chunks = (
        {c.id: c for c in await session.scalars(select(Chunk).where(Chunk.id.in_(chunk_ids)))}
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
