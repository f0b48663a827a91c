"""Two requests racing for one slug: one wins, the other gets 409, and one row exists."""

from __future__ import annotations

import asyncio

import httpx
import pytest

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)


async def test_concurrent_creates_with_one_slug(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = {"category": "knowledge", "text": "What does a B-tree index speed up?", "slug": "btree-index"}
    responses = await asyncio.gather(
        *(client.post("/api/v1/questions", headers=auth, json=body) for _ in range(4))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409], [r.text for r in responses]
    assert all(
        r.json()["error"]["code"] in {"slug_taken", "conflict"} for r in responses if r.status_code == 409
    )
    mine = await client.get("/api/v1/questions", headers=auth, params={"scope": "mine"})
    assert mine.json()["total"] == 1
