"""Envelope encryption of one byte string: a fresh AES-256-GCM data key per object, wrapped.

The data key is wrapped by the key provider (security/keys.py) and stored beside the ciphertext
with its key version, so rotation re-wraps a few dozen bytes and never touches the content. The
associated data binds the ciphertext to its owner and object id: a blob copied onto another
row does not decrypt.

Packed layout: magic 0x02, provider kind (1 byte), key version (4 bytes), wrapped-key length
(2 bytes), wrapped key, 12-byte nonce, ciphertext with its 16-byte tag.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, replace

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mocki.security.keys import DATA_KEY_BYTES, NONCE_BYTES, KeyProvider, WrappedKey

MAGIC = b"\x02"
_HEADER = struct.Struct(">BIH")
TAG_BYTES = 16


class EnvelopeUnreadable(Exception):
    """The envelope is malformed, was tampered with, or belongs to another owner or object."""


@dataclass(frozen=True)
class Envelope:
    wrapped_key: WrappedKey
    nonce: bytes
    ciphertext: bytes  # with the GCM tag


def encrypt(provider: KeyProvider, plaintext: bytes, *, owner: str, object_id: str) -> Envelope:
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, associated_data(owner, object_id))
    return Envelope(provider.wrap(data_key), nonce, ciphertext)


def decrypt(provider: KeyProvider, envelope: Envelope, *, owner: str, object_id: str) -> bytes:
    data_key = provider.unwrap(envelope.wrapped_key)
    if len(data_key) != DATA_KEY_BYTES:
        raise EnvelopeUnreadable("The unwrapped data key has the wrong size.")
    try:
        return AESGCM(data_key).decrypt(
            envelope.nonce, envelope.ciphertext, associated_data(owner, object_id)
        )
    except InvalidTag as exc:
        raise EnvelopeUnreadable(
            "The encrypted data does not decrypt for this owner and object (tampered or moved)."
        ) from exc


def rewrap(provider: KeyProvider, envelope: Envelope) -> Envelope:
    """The same envelope with its data key wrapped under the provider's current version."""
    return replace(envelope, wrapped_key=provider.rewrap(envelope.wrapped_key))


def associated_data(owner: str, object_id: str) -> bytes:
    # Length-prefixed, so ("ab", "c") and ("a", "bc") bind differently.
    parts = [b"mocki/envelope/v1", owner.encode("utf-8"), object_id.encode("utf-8")]
    return b"".join(struct.pack(">I", len(p)) + p for p in parts)


def pack(envelope: Envelope) -> bytes:
    wrapped = envelope.wrapped_key
    header = _HEADER.pack(wrapped.kind, wrapped.version, len(wrapped.blob))
    return MAGIC + header + wrapped.blob + envelope.nonce + envelope.ciphertext


def unpack(blob: bytes) -> Envelope:
    start = len(MAGIC) + _HEADER.size
    if len(blob) < start or blob[:1] != MAGIC:
        raise EnvelopeUnreadable("Not an encrypted envelope this version can read.")
    kind, version, wrapped_len = _HEADER.unpack(blob[len(MAGIC) : start])
    body = blob[start + wrapped_len :]
    if len(body) < NONCE_BYTES + TAG_BYTES:
        raise EnvelopeUnreadable("The encrypted envelope is truncated.")
    wrapped = WrappedKey(kind, version, blob[start : start + wrapped_len])
    return Envelope(wrapped, body[:NONCE_BYTES], body[NONCE_BYTES:])


def is_envelope(blob: bytes) -> bool:
    return blob[:1] == MAGIC
