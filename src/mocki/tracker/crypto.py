"""Mail credentials encrypted at rest: the only two functions that see the plaintext.

`seal` writes an envelope (security/envelope.py): a fresh AES-256-GCM data key per row, wrapped
by the configured key provider (local key file or Vault/OpenBao Transit), with the account id as
associated data, so a ciphertext copied onto another account's row does not decrypt.
`mocki keys rotate` re-wraps the data keys without decrypting the credentials.

`unseal` still reads the first format (version byte 0x01, 12-byte nonce, ciphertext and tag,
under a key derived with HKDF-SHA256 from the app secret); such a row is re-sealed in the new
format the next time its credentials are saved.
"""

from __future__ import annotations

import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mocki.security import envelope
from mocki.security.keys import KeyProviderError, key_provider
from mocki.settings import Settings

VERSION = b"\x01"  # the app-secret format, read only
# The envelope's owner: these rows are bound to their account id, a purpose label names the use.
OWNER = "tracker.mail_account.credentials"
NONCE_BYTES = 12
_INFO = b"mocki tracker mail credentials v1"


class CredentialsUnreadable(Exception):
    """The stored credentials do not decrypt: the app secret changed, or the row was tampered with."""


@lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode("utf-8"))


def seal(settings: Settings, plaintext: bytes, context: str) -> bytes:
    """Encrypt `plaintext` for the row named by `context` (e.g. the account id)."""
    sealed = envelope.encrypt(key_provider(settings), plaintext, owner=OWNER, object_id=context)
    return envelope.pack(sealed)


def unseal(settings: Settings, blob: bytes, context: str) -> bytes:
    """The plaintext `seal` was given for the same `context`, or CredentialsUnreadable."""
    if envelope.is_envelope(blob):
        try:
            sealed = envelope.unpack(blob)
            return envelope.decrypt(key_provider(settings), sealed, owner=OWNER, object_id=context)
        except (envelope.EnvelopeUnreadable, KeyProviderError) as exc:
            raise CredentialsUnreadable(f"The stored credentials do not decrypt ({exc}).") from exc
    return _unseal_v1(settings.secret_key, blob, context)


def _seal_v1(secret: str, plaintext: bytes, context: str) -> bytes:
    """The first format; kept only so tests can make rows as older versions wrote them."""
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(_key(secret)).encrypt(nonce, plaintext, context.encode("utf-8"))


def _unseal_v1(secret: str, blob: bytes, context: str) -> bytes:
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
