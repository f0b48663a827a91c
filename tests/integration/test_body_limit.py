"""Oversized request bodies are refused with 413 before any parsing, by length or while streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from mocki.settings import Settings


async def test_declared_length_over_limit_is_413(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings
) -> None:
    big = b"x" * (settings.documents.max_bytes + 200 * 1024)
    resp = await client.post(
        "/api/v1/documents",
        headers=auth,
        files={"file": ("cv.txt", big, "text/plain")},
        data={"kind": "resume"},
    )
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] in {"request_too_large", "file_too_large"}
    listed = await client.get("/api/v1/documents", headers=auth)
    assert listed.json() == []


async def test_streamed_body_without_length_is_cut_off(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(settings.documents.max_bytes // (256 * 1024) + 4):
            yield b"y" * (256 * 1024)

    resp = await client.post(
        "/api/v1/documents/text", headers={**auth, "Content-Type": "application/json"}, content=chunks()
    )
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "request_too_large"
