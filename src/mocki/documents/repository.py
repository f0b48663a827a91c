"""Queries on documents; every read by a user filters by its owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from mocki.models import Document


async def get_owned(
    session: AsyncSession, owner_id: uuid.UUID, document_id: uuid.UUID, *, with_text: bool = False
) -> Document | None:
    stmt = select(Document).where(Document.id == document_id, Document.owner_id == owner_id)
    if with_text:
        stmt = stmt.options(undefer(Document.text))
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_owned(
    session: AsyncSession, owner_id: uuid.UUID, kind: str | None = None
) -> Sequence[Document]:
    stmt = select(Document).where(Document.owner_id == owner_id)
    if kind is not None:
        stmt = stmt.where(Document.kind == kind)
    return (
        (await session.execute(stmt.order_by(Document.created_at.desc(), Document.id.desc()))).scalars().all()
    )


async def get_for_extraction(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    """The row a worker is about to process, with its upload, locked against a concurrent run."""
    stmt = (
        select(Document)
        .where(Document.id == document_id)
        .options(undefer(Document.content))
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_for_update(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    stmt = select(Document).where(Document.id == document_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def delete(session: AsyncSession, document: Document) -> None:
    await session.delete(document)
    await session.flush()
