"""Documents encrypted at rest: the only module that turns their ciphertext into text and back.

Every document has its own AES-256 data key (DEK), stored only wrapped by the key-encryption key
(security/keys.py) on the document row, with its key version so `mocki keys rotate` finds it. The
upload, the extracted text, every chunk's text and every pair's question and answer written from
the document are sealed under that DEK, each with a fresh 96-bit nonce and associated data naming
its row and field ("document:<id>:text", "chunk:<id>", "pair:<id>:q"), so a blob moved onto another
row or field does not decrypt. Bank pairs (kind "question") are not user data and stay plaintext.

Sealed field layout: 12-byte nonce, then the ciphertext with its 16-byte GCM tag.
Wrapped DEK layout: provider kind (1 byte), key version (4 bytes), the provider's wrapped blob.

Unwrapping through Vault/OpenBao Transit is an HTTP call: unwrapped DEKs are kept in a small
in-process cache (LRU, with a time to live) and unwrapped off the event loop.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from threading import Lock

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.models import Document
from mocki.security.keys import (
    DATA_KEY_BYTES,
    NONCE_BYTES,
    KeyProvider,
    KeyProviderError,
    WrappedKey,
    key_provider,
)
from mocki.settings import Settings, get_settings

TAG_BYTES = 16
_WRAPPED_HEADER = struct.Struct(">BI")
CACHE_KEYS = 1024
CACHE_TTL_S = 300.0


class SealedUnreadable(Exception):
    """A sealed field does not open: tampered, moved to another row, or its key is unavailable."""


# --- which key provider ---------------------------------------------------------------------------

_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """The settings whose key provider this process uses (the api calls this at start-up; a worker
    or the command line without it uses the environment's settings)."""
    global _settings
    _settings = settings


def provider() -> KeyProvider:
    return key_provider(_settings if _settings is not None else get_settings())


# --- wrapped data keys ----------------------------------------------------------------------------


def pack_wrapped(wrapped: WrappedKey) -> bytes:
    return _WRAPPED_HEADER.pack(wrapped.kind, wrapped.version) + wrapped.blob


def unpack_wrapped(blob: bytes) -> WrappedKey:
    if len(blob) <= _WRAPPED_HEADER.size:
        raise SealedUnreadable("The stored data key is truncated.")
    kind, version = _WRAPPED_HEADER.unpack(blob[: _WRAPPED_HEADER.size])
    return WrappedKey(kind, version, blob[_WRAPPED_HEADER.size :])


class KeyCache:
    """Unwrapped data keys by their wrapped form: least recently used out first, none kept past `ttl_s`."""

    def __init__(self, max_keys: int = CACHE_KEYS, ttl_s: float = CACHE_TTL_S) -> None:
        self.max_keys, self.ttl_s = max_keys, ttl_s
        self._keys: OrderedDict[bytes, tuple[float, bytes]] = OrderedDict()
        self._lock = Lock()
        self.hits = self.misses = 0

    def get(self, wrapped: bytes) -> bytes | None:
        with self._lock:
            entry = self._keys.get(wrapped)
            if entry is None or entry[0] < time.monotonic():
                self._keys.pop(wrapped, None)
                self.misses += 1
                return None
            self._keys.move_to_end(wrapped)
            self.hits += 1
            return entry[1]

    def put(self, wrapped: bytes, key: bytes) -> None:
        with self._lock:
            self._keys[wrapped] = (time.monotonic() + self.ttl_s, key)
            self._keys.move_to_end(wrapped)
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()

    def __len__(self) -> int:
        return len(self._keys)


cache = KeyCache()


def new_data_key() -> tuple[bytes, bytes, int]:
    """A fresh DEK, its packed wrapped form and the key version that wrapped it (blocking: may call
    Transit)."""
    key = AESGCM.generate_key(bit_length=256)
    wrapped = provider().wrap(key)
    packed = pack_wrapped(wrapped)
    cache.put(packed, key)
    return key, packed, wrapped.version


def wrap_data_key(key: bytes) -> tuple[bytes, int]:
    """An existing DEK (a browser upload's) wrapped by the current key version: (packed, version)."""
    wrapped = provider().wrap(key)
    packed = pack_wrapped(wrapped)
    cache.put(packed, key)
    return packed, wrapped.version


def unwrap_data_key(packed: bytes) -> bytes:
    """Blocking: may call Transit. Use `data_key` from async code."""
    key = cache.get(packed)
    if key is not None:
        return key
    try:
        key = provider().unwrap(unpack_wrapped(packed))
    except KeyProviderError as exc:
        raise SealedUnreadable(f"The document's data key does not unwrap: {exc}") from exc
    if len(key) != DATA_KEY_BYTES:
        raise SealedUnreadable("The document's data key has the wrong size.")
    cache.put(packed, key)
    return key


async def data_key(packed: bytes) -> bytes:
    key = cache.get(packed)
    return key if key is not None else await asyncio.to_thread(unwrap_data_key, packed)


async def fresh_data_key() -> tuple[bytes, bytes, int]:
    return await asyncio.to_thread(new_data_key)


# --- sealed fields --------------------------------------------------------------------------------


def document_ad(document_id: uuid.UUID, field: str) -> str:
    return f"document:{document_id}:{field}"


def chunk_ad(chunk_id: uuid.UUID) -> str:
    return f"chunk:{chunk_id}"


def pair_ad(pair_id: uuid.UUID, field: str) -> str:
    return f"pair:{pair_id}:{field}"


def _ad(label: str) -> bytes:
    return b"mocki/document/v1:" + label.encode("utf-8")


def seal(key: bytes, plaintext: bytes, label: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, _ad(label))


def open_sealed(key: bytes, blob: bytes, label: str) -> bytes:
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise SealedUnreadable(f"The sealed {label.split(':')[0]} is truncated.")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _ad(label))
    except InvalidTag as exc:
        raise SealedUnreadable(
            f"The sealed {label.split(':')[0]} does not decrypt here (tampered, or moved from another row)."
        ) from exc


def seal_text(key: bytes, text: str, label: str) -> bytes:
    return seal(key, text.encode("utf-8"), label)


def open_text(key: bytes, blob: bytes, label: str) -> str:
    return open_sealed(key, blob, label).decode("utf-8")


async def document_keys(session: AsyncSession, document_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bytes]:
    """The unwrapped DEKs of these documents (missing or keyless ones are left out)."""
    ids = list(dict.fromkeys(document_ids))
    if not ids:
        return {}
    rows = await session.execute(select(Document.id, Document.data_key).where(Document.id.in_(ids)))
    return {doc_id: await data_key(packed) for doc_id, packed in rows if packed is not None}
