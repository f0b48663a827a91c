"""Live-room fixtures: the test's app served by uvicorn on a free port, a second api process on
the same database and Redis, and signed-in accounts with an interview each."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from mocki.settings import Settings
from tests.conftest import process_env, register
from tests.integration.interviews.helpers import create
from tests.support.processes import PYTHON, Child, free_port


@pytest.fixture
async def live(app: Any) -> AsyncIterator[str]:
    """The test's app (its lifespan already entered by the `app` fixture) on a real port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def second_api(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """Another api process on the test's database and Redis, stopped by the PID we started."""
    port = free_port()
    env = {**process_env(settings), "MOCKI_DATA_DIR": str(tmp_path / "second")}
    child = Child(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "mocki.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        log=tmp_path / "second-api.log",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        child.wait_until(lambda: _healthy(url), 90, "second api")
        yield url
    finally:
        child.stop()


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def new_interview(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    return str((await create(client, auth))["id"])


@pytest.fixture
async def owner(client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """A signed-in account and one interview of theirs (not started)."""
    headers = await register(client, f"owner-{uuid.uuid4().hex[:8]}@example.com")
    return headers, await new_interview(client, headers)
