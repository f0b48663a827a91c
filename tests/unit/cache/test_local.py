"""The in-process level: TTL expiry, LRU eviction by entry count and by bytes."""

from __future__ import annotations

from mocki.cache.local import ENTRY_OVERHEAD, LocalLRU


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entry_expires_after_its_ttl() -> None:
    clock, evicted = Clock(), []
    lru = LocalLRU(10, 10_000, clock=clock, on_evict=evicted.append)
    lru.set("a", b"1", ttl_s=5)
    clock.now += 4.9
    assert lru.get("a") == b"1"
    clock.now += 0.2
    assert lru.get("a") is None
    assert evicted == ["expired"]
    assert len(lru) == 0 and lru.bytes == 0


def test_least_recently_used_goes_first_when_full() -> None:
    evicted: list[str] = []
    lru = LocalLRU(3, 10_000, clock=Clock(), on_evict=evicted.append)
    for key in "abc":
        lru.set(key, key.encode(), 60)
    assert lru.get("a") == b"a"  # "b" is now the least recently used
    lru.set("d", b"d", 60)
    assert lru.get("b") is None
    assert [lru.get(k) for k in "acd"] == [b"a", b"c", b"d"]
    assert evicted == ["size"]


def test_memory_bound_counts_bytes() -> None:
    entry = 1000 + ENTRY_OVERHEAD
    lru = LocalLRU(1000, 3 * entry, clock=Clock())
    for key in "abcd":
        lru.set(key, b"x" * 1000, 60)
    assert len(lru) == 3 and lru.bytes == 3 * entry
    assert lru.get("a") is None


def test_value_larger_than_the_bound_is_not_kept() -> None:
    lru = LocalLRU(10, 500, clock=Clock())
    lru.set("big", b"x" * 1000, 60)
    assert lru.get("big") is None and lru.bytes == 0


def test_overwrite_and_delete_keep_the_byte_count_right() -> None:
    lru = LocalLRU(10, 100_000, clock=Clock())
    lru.set("a", b"x" * 10, 60)
    lru.set("a", b"x" * 20, 60)
    assert lru.bytes == 20 + ENTRY_OVERHEAD
    lru.delete("a")
    assert lru.bytes == 0 and lru.get("a") is None
