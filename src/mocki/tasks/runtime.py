"""Run a task's async body with its own engine and one unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from mocki.core.db import make_engine, make_sessionmaker, session_scope
from mocki.settings import get_settings

T = TypeVar("T")


def run_in_unit_of_work(body: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Each task call gets a fresh event loop, engine and session; the session commits once."""

    async def main() -> T:
        # NullPool: connections must not outlive this call's event loop.
        engine = make_engine(get_settings().resolved_database_url, poolclass=NullPool)
        try:
            async with session_scope(make_sessionmaker(engine)) as session:
                return await body(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())
