"""The documents service as other domains and the worker use it, on a real database."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.errors import Invalid, NotFound
from mocki.core.timeutil import utcnow
from mocki.documents import sealing, service
from mocki.models import Document
from tests.conftest import register
from tests.unit.documents.samples import RESUME_LINES, resume_pdf

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)

JD_TEXT = "We are hiring a backend engineer to build Python services on PostgreSQL."


async def user_id(client: httpx.AsyncClient) -> tuple[uuid.UUID, dict[str, str]]:
    headers = await register(client)
    me = await client.get("/api/v1/users/me", headers=headers)
    return uuid.UUID(me.json()["id"]), headers


def session_of(app: Any) -> AsyncSession:
    session: AsyncSession = app.state.sessionmaker()
    return session


async def pending_pdf(app: Any, owner: uuid.UUID, **extra: Any) -> uuid.UUID:
    """A row as an upload leaves it, without sending a task, so no worker races the test."""
    key, wrapped, version = sealing.new_data_key()
    doc_id = uuid.uuid4()
    async with session_of(app) as session:
        document = Document(
            id=doc_id,
            owner_id=owner,
            kind="resume",
            title="cv",
            filename="cv.pdf",
            media_type="application/pdf",
            size_bytes=len(resume_pdf()),
            data_key=wrapped,
            key_version=version,
            content=sealing.seal(key, resume_pdf(), sealing.document_ad(doc_id, "content")),
            **extra,
        )
        session.add(document)
        await session.commit()
        return document.id


async def test_create_from_text_and_get_ready_text(client: httpx.AsyncClient, app: Any) -> None:
    owner, _ = await user_id(client)
    stranger, _ = await user_id(client)
    async with session_of(app) as session:
        document = await service.create_from_text(
            session, owner, "job_description", "Acme", "  " + JD_TEXT, celery=None
        )
        await session.commit()
    assert document.status == "ready" and document.char_count == len(JD_TEXT)

    async with session_of(app) as session:
        found, text = await service.get_ready_text(session, owner, document.id, kind="job_description")
        assert found.id == document.id and text == JD_TEXT
        assert (await service.get_ready_text(session, owner, document.id))[1] == JD_TEXT

        with pytest.raises(Invalid) as wrong:
            await service.get_ready_text(session, owner, document.id, kind="resume")
        assert wrong.value.code == "wrong_kind"
        with pytest.raises(NotFound):
            await service.get_ready_text(session, stranger, document.id)
        with pytest.raises(NotFound):
            await service.get_ready_text(session, owner, uuid.uuid4())
        with pytest.raises(Invalid) as bad_kind:
            await service.create_from_text(session, owner, "poem", "", JD_TEXT, celery=None)
        assert bad_kind.value.code == "invalid_kind"


async def test_pending_document_is_not_ready(client: httpx.AsyncClient, app: Any) -> None:
    owner, headers = await user_id(client)
    doc_id = await pending_pdf(app, owner)
    async with session_of(app) as session:
        with pytest.raises(Invalid) as exc:
            await service.get_ready_text(session, owner, doc_id, kind="resume")
    assert exc.value.code == "document_not_ready"
    resp = await client.get(f"/api/v1/documents/{doc_id}/text", headers=headers)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "not_ready"


async def test_extraction_steps_are_safe_to_repeat(
    client: httpx.AsyncClient, app: Any, settings: Any
) -> None:
    owner, _ = await user_id(client)
    doc_id = await pending_pdf(app, owner)

    async with session_of(app) as session:
        job = await service.begin_extraction(session, doc_id)
        await session.commit()
    assert job is not None and job.data == resume_pdf()
    async with session_of(app) as session:
        assert (await service.get_document(session, owner, doc_id)).status == "processing"

    result = service.extract_text(job.data, job.filename, job.media_type, settings.documents)
    for _ in range(2):  # a duplicate delivery finishing second changes nothing
        async with session_of(app) as session:
            await service.finish_extraction(session, app.state.celery, doc_id, result)
            await session.commit()
    async with session_of(app) as session:
        await service.finish_extraction(session, app.state.celery, doc_id, "late failure from a stale run")
        await session.commit()
        assert await service.begin_extraction(session, doc_id) is None

    async with session_of(app) as session:
        document, text = await service.get_ready_text(session, owner, doc_id)
        assert document.status == "ready" and document.error is None and document.page_count == 2
        assert RESUME_LINES[0] in text
        # The upload is dropped once its text is safe.
        await session.refresh(document, ["content"])
        assert document.content is None


async def test_failed_extraction_keeps_the_upload(client: httpx.AsyncClient, app: Any) -> None:
    owner, _ = await user_id(client)
    doc_id = await pending_pdf(app, owner)
    async with session_of(app) as session:
        await service.begin_extraction(session, doc_id)
        await service.finish_extraction(session, app.state.celery, doc_id, "No text could be read.")
        await session.commit()
    async with session_of(app) as session:
        document = await service.get_document(session, owner, doc_id)
        assert document.status == "failed" and document.error == "No text could be read."
        await session.refresh(document, ["content"])
        assert document.content is not None and resume_pdf() not in document.content  # sealed
        key = await sealing.data_key(document.data_key or b"")
        opened = sealing.open_sealed(key, document.content, sealing.document_ad(document.id, "content"))
        assert opened == resume_pdf()


async def test_document_stuck_in_pending_is_reported_failed(client: httpx.AsyncClient, app: Any) -> None:
    owner, headers = await user_id(client)
    long_ago = utcnow() - service.STALE_AFTER - timedelta(minutes=1)
    doc_id = await pending_pdf(app, owner, created_at=long_ago, updated_at=long_ago)
    resp = await client.get(f"/api/v1/documents/{doc_id}", headers=headers)
    assert resp.json()["status"] == "failed"
    assert resp.json()["error"] == service.STALE_MESSAGE
