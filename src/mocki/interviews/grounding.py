"""Grounding an interview in the candidate's documents through retrieval.

Each chunk of the resume and job description is already embedded (its rule pair's answer vector
is the chunk itself). Searching the bank with those vectors finds the questions that fit what the
candidate actually did and what the job asks for; each such question remembers the chunk that
led to it, and the line of that chunk it shares most with becomes its provenance.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.interviews.engine import SourceLine, best_line
from mocki.models import Chunk, QAPair
from mocki.retrieval.indexing import from_bytes
from mocki.retrieval.service import ChunkText, Retriever, open_chunks, search_vector

# Bank questions fetched per chunk; a resume has a handful of chunks.
PER_CHUNK = 6
MAX_CHUNKS = 24


@dataclass(frozen=True)
class Match:
    score: float
    chunk: ChunkText


@dataclass(frozen=True)
class _Text:
    text: str
    category: str = ""
    tags: list[str] = field(default_factory=list)


async def bank_matches(
    session: AsyncSession, retriever: Retriever, owner_id: uuid.UUID, document_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Match]:
    """Bank question id -> its best similarity to any chunk of these documents, and that chunk."""
    if not document_ids:
        return {}
    rows = await session.execute(
        select(QAPair.answer_vec, Chunk)
        .join(Chunk, Chunk.id == QAPair.chunk_id)
        .where(
            QAPair.document_id.in_(list(document_ids)), QAPair.owner_id == owner_id, QAPair.origin == "rule"
        )
        .order_by(Chunk.ordinal)
        .limit(MAX_CHUNKS)
    )
    found_rows = list(rows)
    opened = await open_chunks(session, [chunk for _, chunk in found_rows])
    best: dict[uuid.UUID, Match] = {}
    for (vector, _), chunk in zip(found_rows, opened, strict=True):
        for found in await search_vector(
            session, retriever, owner_id, from_bytes(vector), ["question"], k=PER_CHUNK
        ):
            qid = found.pair.question_id
            if qid is not None and (qid not in best or found.score > best[qid].score):
                best[qid] = Match(found.score, chunk)
    return best


def ground_in_chunk(
    match: Match, question_text: str, lines: Sequence[SourceLine], keywords: Sequence[str]
) -> SourceLine:
    """The chunk's line that shares most with the question; the chunk's first line otherwise."""
    chunk = match.chunk
    doc = str(chunk.document_id)
    inside = [ln for ln in lines if ln.document_id == doc and chunk.start_line <= ln.line <= chunk.end_line]
    line = best_line(inside, _Text(question_text), keywords, set())
    if line is None:
        first = chunk.text.splitlines()[0] if chunk.text else ""
        source = inside[0].source if inside else "resume"
        line = SourceLine(source, doc, chunk.start_line, first[:300])
    return SourceLine(
        line.source,
        line.document_id,
        line.line,
        line.text,
        chunk_start=chunk.start_line,
        chunk_end=chunk.end_line,
        score=round(match.score, 4),
    )
