"""FastAPI dependencies shared by every router: the unit of work and app-wide clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from celery import Celery
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.db import unit_of_work
from mocki.core.errors import Unavailable
from mocki.llm.base import LLM
from mocki.retrieval.service import Retriever
from mocki.settings import Settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async for session in unit_of_work(request.app.state.sessionmaker):
        yield session


# The dependencies below are `async def` though they do not wait: FastAPI runs a plain `def`
# dependency in a worker thread, a hop that cost more than a cached read on every request.
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_llm(request: Request) -> LLM:
    llm: LLM = request.app.state.llm
    return llm


async def get_celery(request: Request) -> Celery:
    celery: Celery = request.app.state.celery
    return celery


async def get_retriever(request: Request) -> Retriever:
    retriever: Retriever | None = request.app.state.retriever
    if retriever is None:
        raise Unavailable(
            "Search is off in this api process: the embedded vector store belongs to another process. "
            "Run one api process, or set MOCKI_QDRANT_URL to share a Qdrant server.",
            code="retrieval_unavailable",
        )
    return retriever


# scope="function": commit before the response is sent, so a client never reads ahead of its write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
LLMDep = Annotated[LLM, Depends(get_llm)]
CeleryDep = Annotated[Celery, Depends(get_celery)]
RetrieverDep = Annotated[Retriever, Depends(get_retriever)]
