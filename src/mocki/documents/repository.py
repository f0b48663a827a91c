"""Queries on documents; every read by a user filters by its owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from mocki.models import Document
from mocki.models.document import UploadKey


async def get_owned(
    session: AsyncSession, owner_id: uuid.UUID, document_id: uuid.UUID, *, with_text: bool = False
) -> Document | None:
    stmt = select(Document).where(Document.id == document_id, Document.owner_id == owner_id)
    if with_text:
        stmt = stmt.options(undefer(Document.text_sealed))
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


async def get_upload_key(session: AsyncSession, owner_id: uuid.UUID, key_id: uuid.UUID) -> UploadKey | None:
    stmt = select(UploadKey).where(UploadKey.id == key_id, UploadKey.owner_id == owner_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def mark_upload_key_used(session: AsyncSession, key_id: uuid.UUID, at: datetime) -> bool:
    """True when this call spent the key; False when it was spent already."""
    stmt = update(UploadKey).where(UploadKey.id == key_id, UploadKey.used_at.is_(None)).values(used_at=at)
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return _rowcount(result) == 1


async def purge_upload_keys(session: AsyncSession, owner_id: uuid.UUID, *, before: datetime) -> int:
    stmt = sql_delete(UploadKey).where(UploadKey.owner_id == owner_id, UploadKey.expires_at < before)
    return _rowcount(await session.execute(stmt))


async def delete_upload_keys(session: AsyncSession, owner_id: uuid.UUID) -> int:
    return _rowcount(await session.execute(sql_delete(UploadKey).where(UploadKey.owner_id == owner_id)))


def _rowcount(result: object) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
