"""Sealing of document fields: round trips, row binding, tampering, and the data-key cache."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from mocki.documents import sealing
from mocki.security.keys import LocalKeyFile, WrappedKey


class CountingKeyFile(LocalKeyFile):
    """The real key file, counting unwraps (what the cache is there to save)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.unwraps = 0

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        self.unwraps += 1
        return super().unwrap(wrapped)


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CountingKeyFile:
    provider = CountingKeyFile(tmp_path / "kek.json")
    monkeypatch.setattr(sealing, "provider", lambda: provider)
    monkeypatch.setattr(sealing, "cache", sealing.KeyCache())
    return provider


def test_a_field_round_trips_and_is_not_plaintext(keys: CountingKeyFile) -> None:
    key, _, _ = sealing.new_data_key()
    doc = uuid.uuid4()
    label = sealing.document_ad(doc, "text")
    blob = sealing.seal_text(key, "Built a Kafka pipeline — 40k events/s", label)
    assert (
        b"Kafka" not in blob and len(blob) == 12 + len("Built a Kafka pipeline — 40k events/s".encode()) + 16
    )
    assert sealing.open_text(key, blob, label) == "Built a Kafka pipeline — 40k events/s"
    # A fresh nonce every time: the same text never seals to the same bytes.
    assert sealing.seal_text(key, "same", label) != sealing.seal_text(key, "same", label)


def test_a_blob_moved_to_another_row_or_field_does_not_open(keys: CountingKeyFile) -> None:
    key, _, _ = sealing.new_data_key()
    chunk, other = uuid.uuid4(), uuid.uuid4()
    blob = sealing.seal_text(key, "line", sealing.chunk_ad(chunk))
    with pytest.raises(sealing.SealedUnreadable):
        sealing.open_text(key, blob, sealing.chunk_ad(other))
    pair = uuid.uuid4()
    question = sealing.seal_text(key, "q", sealing.pair_ad(pair, "q"))
    with pytest.raises(sealing.SealedUnreadable):
        sealing.open_text(key, question, sealing.pair_ad(pair, "a"))
    other_key, _, _ = sealing.new_data_key()
    with pytest.raises(sealing.SealedUnreadable):
        sealing.open_text(other_key, blob, sealing.chunk_ad(chunk))


def test_a_tampered_or_truncated_blob_does_not_open(keys: CountingKeyFile) -> None:
    key, _, _ = sealing.new_data_key()
    label = sealing.document_ad(uuid.uuid4(), "content")
    blob = sealing.seal(key, b"%PDF-1.7 ...", label)
    for bad in (blob[:-1] + bytes([blob[-1] ^ 1]), bytes([blob[0] ^ 1]) + blob[1:], blob[:20], b""):
        with pytest.raises(sealing.SealedUnreadable):
            sealing.open_sealed(key, bad, label)


def test_the_wrapped_key_unwraps_to_the_data_key_and_names_its_version(keys: CountingKeyFile) -> None:
    key, packed, version = sealing.new_data_key()
    assert key not in packed and version == keys.current_version() == 1
    assert sealing.unpack_wrapped(packed).version == 1
    sealing.cache.clear()
    assert sealing.unwrap_data_key(packed) == key
    keys.rotate()
    _, newer, version = sealing.new_data_key()
    assert version == 2 and sealing.unpack_wrapped(newer).version == 2
    sealing.cache.clear()
    assert sealing.unwrap_data_key(packed) == key  # the old version still unwraps


async def test_unwrapped_keys_are_cached(keys: CountingKeyFile) -> None:
    key, packed, _ = sealing.new_data_key()
    sealing.cache.clear()
    assert await sealing.data_key(packed) == key
    assert await sealing.data_key(packed) == key
    assert sealing.unwrap_data_key(packed) == key
    assert keys.unwraps == 1


def test_the_cache_is_bounded_and_forgets_after_its_ttl() -> None:
    cache = sealing.KeyCache(max_keys=2, ttl_s=60)
    cache.put(b"a", b"1")
    cache.put(b"b", b"2")
    assert cache.get(b"a") == b"1"  # "a" is now the most recently used
    cache.put(b"c", b"3")
    assert cache.get(b"b") is None and cache.get(b"a") == b"1" and cache.get(b"c") == b"3"
    assert len(cache) == 2
    expired = sealing.KeyCache(ttl_s=-1)
    expired.put(b"a", b"1")
    assert expired.get(b"a") is None


def test_a_damaged_wrapped_key_is_unreadable(keys: CountingKeyFile) -> None:
    _, packed, _ = sealing.new_data_key()
    sealing.cache.clear()
    with pytest.raises(sealing.SealedUnreadable):
        sealing.unwrap_data_key(packed[:-1] + bytes([packed[-1] ^ 1]))
    with pytest.raises(sealing.SealedUnreadable):
        sealing.unwrap_data_key(b"\x01")
