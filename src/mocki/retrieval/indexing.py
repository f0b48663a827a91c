"""Index construction: documents and bank questions become embedded query–answer pairs.

A ready document is indexed in two steps, each a Celery task:

1. `chunk_document` (cpu queue): token-aware chunks replace the document's old chunks and pairs.
2. `build_pairs` (io queue): each chunk first gets a rule pair (the chunk as the answer), all
   embedded at once, so the document is searchable within seconds; then the model proposes
   interview questions and supported answers one chunk at a time, each chunk's pairs embedded
   and stored as soon as they exist.

A document's chunks and pairs are sealed under the document's data key (documents/sealing.py) as
they are written; the text exists in memory only while a task works on it. Bank pairs stay
plaintext. Every change to a source's pairs writes a `VectorSync` row in the same transaction; the vector
store's owner replays those (see `mocki.retrieval.sync`), so the database and the store can never
disagree for longer than one replay. A task started for an older index generation drops its work.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from celery import Celery
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer
from tokenizers import Tokenizer

from mocki.core.db import session_scope
from mocki.core.errors import DomainError
from mocki.documents import sealing
from mocki.llm.base import LLM, LLMError
from mocki.llm.cache import scoped
from mocki.models import Chunk, Document, QAPair, Question, VectorSync
from mocki.retrieval import pairs as pair_text
from mocki.retrieval.chunking import chunk_text
from mocki.retrieval.embeddings import Embedder, default_tokenizer_path
from mocki.settings import Settings
from mocki.tasks import routing
from mocki.tasks.names import BUILD_PAIRS, CHUNK_DOCUMENT, INDEX_QUESTIONS

log = logging.getLogger(__name__)

# A queued indexing step older than this is dropped by the broker; re-index to try again.
INDEX_EXPIRES_S = 3600
PAIR_MAX_TOKENS = 160


@lru_cache(maxsize=1)
def _tokenizer() -> Tokenizer:
    return Tokenizer.from_file(str(default_tokenizer_path()))


def count_tokens(text: str) -> int:
    """Tokens of the embedding model, the unit its 256-token window is measured in."""
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").copy()


def mark_changed(session: AsyncSession, source_id: uuid.UUID) -> None:
    session.add(VectorSync(source_id=source_id))


# ------------------------------------------------------------------------------ documents


def queue_document(session: AsyncSession, celery: Celery, document: Document) -> None:
    """(Re)index a ready document after this transaction commits."""
    document.index_generation = (document.index_generation or 0) + 1
    document.index_status = "queued"
    document.index_error = None
    doc_id, generation = str(document.id), document.index_generation
    routing.send_after_commit(
        session,
        celery,
        CHUNK_DOCUMENT,
        [doc_id, generation],
        expires=INDEX_EXPIRES_S,
        owner_id=document.owner_id,
    )


def forget_document(session: AsyncSession, document_id: uuid.UUID) -> None:
    """The document is being deleted: its pairs go with it (cascade), its points on the next replay."""
    mark_changed(session, document_id)


async def _current(session: AsyncSession, document_id: uuid.UUID, generation: int) -> Document | None:
    doc = await session.scalar(
        select(Document)
        .where(Document.id == document_id)
        .options(undefer(Document.text_sealed))
        .with_for_update()
    )
    if doc is None or doc.index_generation != generation or doc.status != "ready":
        return None
    return doc


@dataclass(frozen=True)
class ChunkJob:
    document_id: uuid.UUID
    owner_id: uuid.UUID
    kind: str
    chunks: list[tuple[uuid.UUID, str]]


async def chunk_document(
    session: AsyncSession, settings: Settings, document_id: uuid.UUID, generation: int
) -> bool:
    """Replace the document's chunks (cpu work, no model); True when pairs should be built next."""
    doc = await _current(session, document_id, generation)
    if doc is None:
        return False
    cfg = settings.retrieval
    await _clear(session, doc)
    key = await _document_key(doc)
    text = (
        ""
        if doc.text_sealed is None
        else sealing.open_text(key, doc.text_sealed, sealing.document_ad(doc.id, "text"))
    )
    try:
        specs = chunk_text(
            text,
            count_tokens,
            max_tokens=cfg.chunk_tokens,
            overlap_tokens=cfg.chunk_overlap_tokens,
            max_chunks=cfg.max_chunks,
        )
    except DomainError as exc:
        doc.index_status, doc.index_error = "failed", exc.message
        return False
    ids = [uuid.uuid4() for _ in specs]
    session.add_all(
        Chunk(
            id=chunk_id,
            owner_id=doc.owner_id,
            document_id=doc.id,
            ordinal=s.ordinal,
            text_sealed=sealing.seal_text(key, s.text, sealing.chunk_ad(chunk_id)),
            start_line=s.start_line,
            end_line=s.end_line,
            token_count=s.token_count,
        )
        for chunk_id, s in zip(ids, specs, strict=True)
    )
    doc.chunk_count = len(specs)
    doc.index_status = "indexing"
    return True


async def _document_key(doc: Document) -> bytes:
    if doc.data_key is None:
        raise sealing.SealedUnreadable(f"Document {doc.id} has no data key.")
    return await sealing.data_key(doc.data_key)


async def _clear(session: AsyncSession, doc: Document) -> None:
    await session.execute(delete(QAPair).where(QAPair.source_id == doc.id))
    await session.execute(delete(Chunk).where(Chunk.document_id == doc.id))
    doc.chunk_count = doc.pair_count = doc.index_done = 0
    mark_changed(session, doc.id)


async def _add_pairs(
    session: AsyncSession,
    embedder: Embedder,
    settings: Settings,
    doc: Document,
    items: Sequence[tuple[uuid.UUID, pair_text.PairSpec]],
) -> None:
    if not items:
        return
    queries = await embedder.embed([p.question for _, p in items])
    answers = await embedder.embed(
        [p.answer for _, p in items], max_tokens=settings.embeddings.answer_max_tokens
    )
    key = await _document_key(doc)
    for (chunk_id, spec), q, a in zip(items, queries, answers, strict=True):
        row = _pair_row(
            spec, q, a, embedder.model_id, owner_id=doc.owner_id, kind=doc.kind, source_id=doc.id, key=key
        )
        row.document_id, row.chunk_id = doc.id, chunk_id
        session.add(row)
    mark_changed(session, doc.id)


def _pair_row(
    spec: pair_text.PairSpec,
    query_vec: np.ndarray,
    answer_vec: np.ndarray,
    model_id: str,
    *,
    owner_id: uuid.UUID | None,
    kind: str,
    source_id: uuid.UUID,
    key: bytes | None = None,
) -> QAPair:
    """`key`: the document's data key, under which the question and answer are sealed; None for a
    bank pair, whose text stays plaintext."""
    row = QAPair(
        id=uuid.uuid4(),
        owner_id=owner_id,
        kind=kind,
        source_id=source_id,
        question=spec.question,
        answer=spec.answer,
        origin=spec.origin,
        embed_model=model_id,
        query_vec=to_bytes(query_vec),
        answer_vec=to_bytes(answer_vec),
    )
    if key is not None:
        row.question_sealed = sealing.seal_text(key, spec.question, sealing.pair_ad(row.id, "q"))
        row.answer_sealed = sealing.seal_text(key, spec.answer, sealing.pair_ad(row.id, "a"))
        row.question = row.answer = ""
    return row


async def _locked_current(session: AsyncSession, document_id: uuid.UUID, generation: int) -> Document | None:
    doc = await session.scalar(select(Document).where(Document.id == document_id).with_for_update())
    if doc is None or doc.index_generation != generation or doc.status != "ready":
        return None
    return doc


async def build_pairs(
    factory: async_sessionmaker[AsyncSession],
    llm: LLM,
    embedder: Embedder,
    settings: Settings,
    document_id: uuid.UUID,
    generation: int,
) -> int:
    """Rule pairs for every chunk at once (searchable within seconds), then the model's pairs one
    chunk at a time; no database connection is held while the model writes. Returns pairs stored."""
    async with session_scope(factory) as session:
        doc = await _locked_current(session, document_id, generation)
        if doc is None or doc.index_status != "indexing":
            return 0
        rows = await session.execute(
            select(Chunk.id, Chunk.text_sealed)
            .where(Chunk.document_id == document_id)
            .order_by(Chunk.ordinal)
        )
        key = await _document_key(doc)
        texts = [(cid, sealing.open_text(key, sealed, sealing.chunk_ad(cid))) for cid, sealed in rows]
        job = ChunkJob(doc.id, doc.owner_id, doc.kind, texts)
        await _add_pairs(
            session,
            embedder,
            settings,
            doc,
            [(cid, pair_text.rule_pair(doc.kind, t)) for cid, t in job.chunks],
        )
        doc.pair_count = len(job.chunks)
        doc.index_status = "ready"
    added = len(job.chunks)
    n = settings.retrieval.pairs_per_chunk
    if n <= 0:
        return added
    # Re-indexing the same text is answered from the cache; only this user's entries are used.
    llm = scoped(llm, str(job.owner_id))
    for chunk_id, text in job.chunks:
        try:
            done = await llm.complete(
                pair_text.prompt(job.kind, text, n), max_tokens=PAIR_MAX_TOKENS, temperature=0.2
            )
            specs = pair_text.parse(done.text, text, n)
        except LLMError as exc:
            log.warning("pairs for chunk %s: model unavailable (%s); the rule pair stays", chunk_id, exc)
            specs = []
        async with session_scope(factory) as session:
            doc = await _locked_current(session, document_id, generation)
            if doc is None:
                return added  # re-indexed or deleted meanwhile: this work is stale
            await _add_pairs(session, embedder, settings, doc, [(chunk_id, s) for s in specs])
            doc.pair_count += len(specs)
            doc.index_done += 1
            added += len(specs)
    return added


def send_model_pairs(celery: Celery, document_id: uuid.UUID, generation: int) -> None:
    # Sent from the chunking task: it keeps that task's lane.
    routing.send(celery, BUILD_PAIRS, [str(document_id), generation], expires=INDEX_EXPIRES_S)


# ------------------------------------------------------------------------------ bank questions


def question_pair(question: Question) -> pair_text.PairSpec:
    """A bank question is a pair already: what to ask, and its rubric as what a good answer holds."""
    return pair_text.PairSpec(question.text, question.rubric.strip() or question.text, "bank")


async def stale_questions(
    session: AsyncSession, embedder: Embedder, owner_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """Questions of this owner (None: the built-in bank) with no pair from this embedding model, or
    edited since their pair was made."""
    fresh = (
        select(QAPair.id)
        .where(
            QAPair.source_id == Question.id,
            QAPair.embed_model == embedder.model_id,
            QAPair.created_at >= Question.updated_at,
        )
        .exists()
    )
    owner = Question.owner_id.is_(None) if owner_id is None else Question.owner_id == owner_id
    return list((await session.scalars(select(Question.id).where(owner, ~fresh))).all())


async def index_questions(
    session: AsyncSession, embedder: Embedder, settings: Settings, question_ids: Sequence[uuid.UUID]
) -> int:
    """Embed bank questions as pairs, replacing their old ones (a deleted question is skipped)."""
    questions = list(
        (await session.scalars(select(Question).where(Question.id.in_(list(question_ids))))).all()
    )
    if not questions:
        return 0
    specs = [question_pair(q) for q in questions]
    queries = await embedder.embed([s.question for s in specs])
    answers = await embedder.embed(
        [s.answer for s in specs], max_tokens=settings.embeddings.answer_max_tokens
    )
    ids = [q.id for q in questions]
    await session.execute(delete(QAPair).where(QAPair.source_id.in_(ids)))
    for question, spec, q, a in zip(questions, specs, queries, answers, strict=True):
        row = _pair_row(
            spec, q, a, embedder.model_id, owner_id=question.owner_id, kind="question", source_id=question.id
        )
        row.question_id = question.id
        session.add(row)
        mark_changed(session, question.id)
    return len(questions)


def queue_stale_questions(session: AsyncSession, celery: Celery, owner_id: uuid.UUID | None) -> None:
    """After this transaction commits, embed whatever of this owner's bank changed (None: built-in)."""
    owner = str(owner_id) if owner_id is not None else None
    routing.send_after_commit(
        session, celery, INDEX_QUESTIONS, [owner], expires=INDEX_EXPIRES_S, owner_id=owner_id
    )


def forget_question(session: AsyncSession, question_id: uuid.UUID) -> None:
    mark_changed(session, question_id)


async def forget_owner(session: AsyncSession, owner_id: uuid.UUID) -> int:
    """The account is being deleted: every source of its pairs, documents and questions is marked
    changed, so the replay deletes their points once the cascade has removed the pairs. Returns how
    many sources were marked."""
    sources = set(await session.scalars(select(QAPair.source_id).where(QAPair.owner_id == owner_id)))
    sources |= set(await session.scalars(select(Document.id).where(Document.owner_id == owner_id)))
    sources |= set(await session.scalars(select(Question.id).where(Question.owner_id == owner_id)))
    for source_id in sources:
        mark_changed(session, source_id)
    return len(sources)
