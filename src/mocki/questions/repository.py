"""Queries on the question bank: a user sees their own questions and the built-in ones."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, Select, cast, column, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.models import Question
from mocki.questions.schemas import QuestionFilters


def _visible_to(owner_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(Question.owner_id == owner_id, Question.owner_id.is_(None))


def _same_owner(owner_id: uuid.UUID | None) -> ColumnElement[bool]:
    # None means the built-in bank, whose rows have no owner.
    return Question.owner_id.is_(None) if owner_id is None else Question.owner_id == owner_id


def _has_tag(session: AsyncSession, tag: str) -> ColumnElement[bool]:
    # Tags live in a JSON array; each dialect has its own way to look inside one.
    if session.get_bind().dialect.name == "postgresql":
        return cast(Question.tags, JSONB).contains([tag])
    each = func.json_each(Question.tags).table_valued("value")
    return select(literal(1)).select_from(each).where(column("value") == tag).exists()


def _filtered(session: AsyncSession, owner_id: uuid.UUID, f: QuestionFilters) -> Select[Question]:
    if f.scope == "mine":
        stmt = select(Question).where(Question.owner_id == owner_id)
    elif f.scope == "builtin":
        stmt = select(Question).where(Question.owner_id.is_(None))
    else:
        stmt = select(Question).where(_visible_to(owner_id))
    if f.category:
        stmt = stmt.where(Question.category == f.category)
    if f.role:
        stmt = stmt.where(Question.role == f.role)
    if f.level:
        stmt = stmt.where(Question.level == f.level)
    if f.tag:
        stmt = stmt.where(_has_tag(session, f.tag))
    if f.q:
        stmt = stmt.where(func.lower(Question.text).contains(f.q.lower(), autoescape=True))
    return stmt


def _ordered(stmt: Select[Question]) -> Select[Question]:
    # The user's own questions first (newest first), then the built-in bank in a stable order.
    return stmt.order_by(
        Question.owner_id.is_(None),
        Question.category,
        Question.created_at.desc(),
        Question.slug,
        Question.id,
    )


async def search(
    session: AsyncSession, owner_id: uuid.UUID, f: QuestionFilters, *, limit: int, offset: int
) -> tuple[list[Question], int]:
    stmt = _filtered(session, owner_id, f)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await session.execute(_ordered(stmt).limit(limit).offset(offset))).scalars().all()
    return list(rows), int(total)


async def all_matching(session: AsyncSession, owner_id: uuid.UUID, f: QuestionFilters) -> list[Question]:
    return list((await session.execute(_ordered(_filtered(session, owner_id, f)))).scalars().all())


async def get(session: AsyncSession, question_id: uuid.UUID) -> Question | None:
    return await session.get(Question, question_id)


async def get_visible_many(
    session: AsyncSession, owner_id: uuid.UUID, ids: Collection[uuid.UUID]
) -> list[Question]:
    if not ids:
        return []
    stmt = select(Question).where(_visible_to(owner_id), Question.id.in_(list(ids)))
    return list((await session.execute(stmt)).scalars().all())


async def by_slugs(
    session: AsyncSession, owner_id: uuid.UUID | None, slugs: Collection[str]
) -> dict[str, Question]:
    found: dict[str, Question] = {}
    wanted = sorted(set(slugs))
    # Chunked so a 5,000-line import stays under every driver's bind-parameter limit.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        stmt = select(Question).where(_same_owner(owner_id), Question.slug.in_(chunk))
        for row in (await session.execute(stmt)).scalars():
            if row.slug is not None:
                found.setdefault(row.slug, row)
    return found


async def slug_taken(
    session: AsyncSession, owner_id: uuid.UUID | None, slug: str, *, except_id: uuid.UUID | None = None
) -> bool:
    stmt = select(Question.id).where(_same_owner(owner_id), Question.slug == slug)
    if except_id is not None:
        stmt = stmt.where(Question.id != except_id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def candidates(
    session: AsyncSession,
    owner_id: uuid.UUID,
    categories: Sequence[str],
    exclude: Collection[uuid.UUID],
) -> list[Question]:
    stmt = select(Question).where(_visible_to(owner_id), Question.category.in_(list(categories)))
    if exclude:
        stmt = stmt.where(Question.id.not_in(list(exclude)))
    return list((await session.execute(stmt)).scalars().all())


def add(session: AsyncSession, question: Question) -> None:
    session.add(question)


async def delete(session: AsyncSession, question: Question) -> None:
    await session.delete(question)
