"""Compact serialisation of cached values: MessagePack, with UUIDs and datetimes as extension types."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgpack  # type: ignore[import-untyped]  # ships no type hints

_UUID = 1
_DATETIME = 2
_DATE = 3


def _default(value: object) -> msgpack.ExtType:
    if isinstance(value, uuid.UUID):
        return msgpack.ExtType(_UUID, value.bytes)
    if isinstance(value, datetime):
        return msgpack.ExtType(_DATETIME, value.isoformat().encode())
    if isinstance(value, date):
        return msgpack.ExtType(_DATE, value.isoformat().encode())
    raise TypeError(f"cannot cache a value of type {type(value).__name__}")


def _ext_hook(code: int, data: bytes) -> object:
    if code == _UUID:
        return uuid.UUID(bytes=data)
    if code == _DATETIME:
        return datetime.fromisoformat(data.decode())
    if code == _DATE:
        return date.fromisoformat(data.decode())
    return msgpack.ExtType(code, data)


def encode(value: Any) -> bytes:
    return msgpack.packb(value, default=_default, use_bin_type=True)  # type: ignore[no-any-return]


def decode(blob: bytes) -> Any:
    return msgpack.unpackb(blob, ext_hook=_ext_hook, raw=False, strict_map_key=False)
