"""Read-through helpers for domain services: plain data in the cache, their own types out.

The api's hot GETs keep the response's JSON bytes in the cache (`read_json`): the response model is
validated and serialised once, when the value is loaded, and a hit is sent as it is (`json_response`,
with an ETag) instead of being validated and serialised again on every request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.cache.core import Family
from mocki.cache.hooks import cache_of

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


async def read_through(
    session: AsyncSession, family: Family, ident: object, load: Callable[[], Awaitable[Any]]
) -> Any:
    """`load()`'s plain-data result (dicts, lists, str, numbers, UUIDs, datetimes, None), cached."""
    cache = cache_of(session)
    if cache is None:
        return await load()
    return await cache.get_or_load(family, str(ident), load)


async def read_json(
    session: AsyncSession,
    family: Family,
    ident: object,
    adapter: TypeAdapter[T],
    load: Callable[[], Awaitable[T]],
) -> bytes:
    """The JSON of `load()`'s result (validated by `adapter`), cached as bytes."""

    async def dumped() -> bytes:
        return adapter.dump_json(await load())

    found = await read_through(session, family, ident, dumped)
    if not isinstance(found, bytes):
        # An entry written in another shape (an older release) during a rolling deploy.
        found = adapter.dump_json(adapter.validate_python(found))
    return found


async def read_model(
    session: AsyncSession, family: Family, ident: object, model: type[M], load: Callable[[], Awaitable[M]]
) -> M:
    if cache_of(session) is None:
        return await load()
    adapter = _adapter(model)
    return adapter.validate_json(await read_json(session, family, ident, adapter, load))


async def read_models(
    session: AsyncSession,
    family: Family,
    ident: object,
    model: type[M],
    load: Callable[[], Awaitable[Sequence[M]]],
) -> list[M]:
    if cache_of(session) is None:
        return list(await load())

    async def listed() -> list[M]:
        return list(await load())

    adapter = _list_adapter(model)
    return adapter.validate_json(await read_json(session, family, ident, adapter, listed))


_ADAPTERS: dict[object, TypeAdapter[Any]] = {}


def _adapter(model: type[M]) -> TypeAdapter[M]:
    # Building a TypeAdapter compiles a schema: once per type, not per request.
    found = _ADAPTERS.get(model)
    if found is None:
        found = _ADAPTERS[model] = TypeAdapter(model)
    return found


def _list_adapter(model: type[M]) -> TypeAdapter[list[M]]:
    key = ("list", model)
    found = _ADAPTERS.get(key)
    if found is None:
        found = _ADAPTERS[key] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return found


def adapter_of(model: type[M]) -> TypeAdapter[M]:
    return _adapter(model)


def list_adapter_of(model: type[M]) -> TypeAdapter[list[M]]:
    return _list_adapter(model)


# For the OpenAPI document of the routes answering with json_response.
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Unchanged since the ETag sent in If-None-Match."}
}


def json_response(request: Request, body: bytes) -> Response:
    """`body` as an application/json response with a strong ETag; 304 when the client has it."""
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    if etag in _if_none_match(request):
        return Response(status_code=304, headers={"etag": etag})
    return Response(body, media_type="application/json", headers={"etag": etag})


def _if_none_match(request: Request) -> list[str]:
    value = request.headers.get("if-none-match")
    if not value:
        return []
    return [tag.strip().removeprefix("W/") for tag in value.split(",")]
