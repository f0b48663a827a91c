"""Async engine, sessions and the per-request unit of work (services never commit)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# The largest OFFSET a list route accepts: past it the database refuses the number (PostgreSQL's
# BIGINT) with an error that would be a 500; no real page is that far.
MAX_OFFSET = 2**31 - 1


def make_engine(url: str, **kwargs: object) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_pragmas(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(engine: Engine) -> None:
    # WAL lets the worker write while the api reads; foreign keys are off by default in SQLite.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session per request; commit once at the end, roll back on error (a FastAPI dependency).

    Outside FastAPI use `session_scope`: returning from inside `async for` over this generator
    never resumes it, so nothing would be committed.
    """
    async with factory() as session:
        try:
            yield session
            # A request served from the cache began no transaction and added nothing: skip the
            # commit's round through the greenlet bridge.
            if session.in_transaction() or session.new or session.dirty or session.deleted:
                await session.commit()
            run_after_commit(session)
            await run_after_commit_async(session)
        except BaseException:
            await session.rollback()
            raise


session_scope = asynccontextmanager(unit_of_work)
"""`async with session_scope(factory) as session:` commits once when the block ends normally."""


def after_commit(session: AsyncSession, action: Callable[[], object]) -> None:
    """Run `action` (e.g. a Celery send) only once this session's transaction has committed."""
    pending: list[Callable[[], object]] = session.info.setdefault("after_commit", [])
    pending.append(action)


def run_after_commit(session: AsyncSession) -> None:
    for action in session.info.pop("after_commit", []):
        action()


def after_commit_async(session: AsyncSession, action: Callable[[], Awaitable[None]]) -> None:
    """Await `action` (e.g. a cache invalidation) once this session's transaction has committed."""
    pending: list[Callable[[], Awaitable[None]]] = session.info.setdefault("after_commit_async", [])
    pending.append(action)


async def run_after_commit_async(session: AsyncSession) -> None:
    for action in session.info.pop("after_commit_async", []):
        await action()
