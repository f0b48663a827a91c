"""Mail credentials encrypted at rest: the only two functions that see the key.

AES-256-GCM under a key derived (HKDF-SHA256) from the app secret, with the account id as
associated data, so a ciphertext copied onto another account's row does not decrypt. A key
provider (Vault/OpenBao Transit or a local key file) replaces the derivation later; callers only
ever use `seal` and `unseal`.

Blob layout: version byte, 12-byte nonce, ciphertext with its 16-byte tag.
"""

from __future__ import annotations

import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"
NONCE_BYTES = 12
_INFO = b"mocki tracker mail credentials v1"


class CredentialsUnreadable(Exception):
    """The stored credentials do not decrypt: the app secret changed, or the row was tampered with."""


@lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode("utf-8"))


def seal(secret: str, plaintext: bytes, context: str) -> bytes:
    """Encrypt `plaintext` for the row named by `context` (e.g. the account id)."""
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(_key(secret)).encrypt(nonce, plaintext, context.encode("utf-8"))


def unseal(secret: str, blob: bytes, context: str) -> bytes:
    """The plaintext `seal` was given for the same `context`, or CredentialsUnreadable."""
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != VERSION:
        raise CredentialsUnreadable("The stored credentials are not in a format this version can read.")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(_key(secret)).decrypt(nonce, body, context.encode("utf-8"))
    except InvalidTag as exc:
        raise CredentialsUnreadable(
            "The stored credentials do not decrypt (the server's secret key changed?); connect the "
            "account again."
        ) from exc
