"""Deleting an account while a worker writes to the user's documents: the deletion waits, it does
not deadlock (PostgreSQL: SQLite has no row locks).

The "worker" here is a second transaction doing what an indexing task does: it locks its document
row first, then inserts a chunk, whose foreign key takes a key-share lock on the user's row. With
the user's row locked first by the deletion's cascade, the two waited on each other and PostgreSQL
killed one of them (a 500 in a browser test); the deletion now locks the user's documents first.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mocki.models import Chunk, Document, User
from tests.integration.retrieval.test_indexing import paste

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_deletion_waits_for_a_worker_holding_a_document_instead_of_deadlocking(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    doc_id = uuid.UUID(await paste(client, auth, "Backend engineer.\nFive years of Python and PostgreSQL."))
    me = (await client.get("/api/v1/users/me", headers=auth)).json()
    user_id = uuid.UUID(me["id"])

    async with app.state.sessionmaker() as worker:
        # As retrieval.indexing does: the document row first, under FOR UPDATE.
        await worker.scalar(select(Document).where(Document.id == doc_id).with_for_update())
        deletion = asyncio.create_task(
            client.request("DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=auth)
        )
        # Let the deletion get as far as it can (before the fix: the user's row, then a wait on
        # this document); the outcome below does not depend on how far it got.
        await asyncio.sleep(1.5)
        assert not deletion.done(), (await deletion).text
        # Then a row with a foreign key to the user: a key-share lock on the user's row.
        worker.add(
            Chunk(
                owner_id=user_id,
                document_id=doc_id,
                ordinal=99,
                text_sealed=b"\x00" * 28,
                start_line=1,
                end_line=1,
                token_count=1,
            )
        )
        await worker.commit()

    resp = await asyncio.wait_for(deletion, 60)  # bounds a hang; not a timing check
    assert resp.status_code == 204, resp.text
    async with app.state.sessionmaker() as session:
        assert await session.get(User, user_id) is None
        left = await session.scalar(select(func.count()).select_from(Chunk).where(Chunk.owner_id == user_id))
        assert left == 0
