"""Envelope encryption: a fresh data key per object, bound to owner and object, re-wrappable."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mocki.security import envelope
from mocki.security.envelope import EnvelopeUnreadable
from mocki.security.keys import LocalKeyFile, UnwrapFailed, WrappedKey
from mocki.settings import Settings
from mocki.tracker import crypto

SECRET = b"resume of Ada: ada@example.org, +44 20 7946 0000"


@pytest.fixture
def provider(tmp_path: Path) -> LocalKeyFile:
    return LocalKeyFile(tmp_path / "kek.json")


def _flip(data: bytes, at: int = -1) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + (data[at + 1 :] if at != -1 else b"")


def test_round_trip_through_the_packed_form(provider: LocalKeyFile) -> None:
    blob = envelope.pack(envelope.encrypt(provider, SECRET, owner="user-1", object_id="doc-1"))
    assert SECRET not in blob
    assert envelope.decrypt(provider, envelope.unpack(blob), owner="user-1", object_id="doc-1") == SECRET
    empty = envelope.encrypt(provider, b"", owner="user-1", object_id="doc-2")
    assert envelope.decrypt(provider, empty, owner="user-1", object_id="doc-2") == b""


def test_each_object_gets_its_own_data_key(provider: LocalKeyFile) -> None:
    a = envelope.encrypt(provider, SECRET, owner="user-1", object_id="doc-1")
    b = envelope.encrypt(provider, SECRET, owner="user-1", object_id="doc-1")
    assert provider.unwrap(a.wrapped_key) != provider.unwrap(b.wrapped_key)
    assert a.ciphertext != b.ciphertext


@pytest.mark.parametrize(
    ("owner", "object_id"), [("user-2", "doc-1"), ("user-1", "doc-2"), ("user-", "1doc-1")]
)
def test_another_owner_or_object_does_not_decrypt(provider: LocalKeyFile, owner: str, object_id: str) -> None:
    sealed = envelope.encrypt(provider, SECRET, owner="user-1", object_id="doc-1")
    with pytest.raises(EnvelopeUnreadable, match="owner and object"):
        envelope.decrypt(provider, sealed, owner=owner, object_id=object_id)


def test_tampering_is_detected(provider: LocalKeyFile) -> None:
    sealed = envelope.encrypt(provider, SECRET, owner="u", object_id="o")
    for bad in (
        replace(sealed, ciphertext=_flip(sealed.ciphertext, 0)),
        replace(sealed, ciphertext=_flip(sealed.ciphertext)),
        replace(sealed, nonce=_flip(sealed.nonce, 0)),
    ):
        with pytest.raises(EnvelopeUnreadable):
            envelope.decrypt(provider, bad, owner="u", object_id="o")
    wrapped = sealed.wrapped_key
    bad_key = replace(sealed, wrapped_key=WrappedKey(wrapped.kind, wrapped.version, _flip(wrapped.blob)))
    with pytest.raises(UnwrapFailed):
        envelope.decrypt(provider, bad_key, owner="u", object_id="o")


def test_malformed_blobs_are_refused() -> None:
    for blob in (b"", b"\x02", b"\x03" + bytes(60), b"\x02\x01\x00\x00\x00\x01\x00\x30" + bytes(20)):
        with pytest.raises(EnvelopeUnreadable):
            envelope.unpack(blob)


def test_rewrap_after_rotation_keeps_the_ciphertext_and_old_envelopes_readable(
    provider: LocalKeyFile,
) -> None:
    old = envelope.encrypt(provider, SECRET, owner="u", object_id="o")
    provider.rotate()
    assert envelope.decrypt(provider, old, owner="u", object_id="o") == SECRET
    moved = envelope.rewrap(provider, old)
    assert (old.wrapped_key.version, moved.wrapped_key.version) == (1, 2)
    assert (moved.nonce, moved.ciphertext) == (old.nonce, old.ciphertext)
    assert (
        envelope.decrypt(provider, envelope.unpack(envelope.pack(moved)), owner="u", object_id="o") == SECRET
    )


def test_tracker_credentials_use_the_envelope_and_still_read_the_old_format(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="a-secret-key-of-enough-length-0123456789")
    sealed = crypto.seal(settings, b"app-password", "account-1")
    assert envelope.is_envelope(sealed)
    assert crypto.unseal(settings, sealed, "account-1") == b"app-password"
    legacy = crypto._seal_v1(settings.secret_key, b"app-password", "account-1")
    assert crypto.unseal(settings, legacy, "account-1") == b"app-password"
    with pytest.raises(crypto.CredentialsUnreadable):
        crypto.unseal(settings, legacy, "account-2")
    with pytest.raises(crypto.CredentialsUnreadable):
        crypto.unseal(settings, sealed, "account-2")
