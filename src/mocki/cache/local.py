"""The in-process level (L1): an LRU of encoded values with a TTL each, bounded in entries and bytes."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# Per-entry overhead beyond the value's bytes (key string, tuple, dict slot), so many tiny values
# still count against the memory bound.
ENTRY_OVERHEAD = 200


@dataclass(frozen=True)
class Entry:
    blob: bytes
    expires_at: float


class LocalLRU:
    """Least recently used entries go first once `max_entries` or `max_bytes` would be exceeded.

    Not thread-safe: one per event loop, which is how the api uses it.
    """

    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_evict: Callable[[str], None] = lambda reason: None,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.clock = clock
        self.on_evict = on_evict
        self._data: OrderedDict[str, Entry] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self.clock():
            self._drop(key)
            self.on_evict("expired")
            return None
        self._data.move_to_end(key)
        return entry.blob

    def set(self, key: str, blob: bytes, ttl_s: float) -> None:
        size = len(blob) + ENTRY_OVERHEAD
        if size > self.max_bytes or ttl_s <= 0:
            return
        self._drop(key)
        self._data[key] = Entry(blob, self.clock() + ttl_s)
        self.bytes += size
        while len(self._data) > self.max_entries or self.bytes > self.max_bytes:
            oldest = next(iter(self._data))
            self._drop(oldest)
            self.on_evict("size")

    def delete(self, key: str) -> None:
        self._drop(key)

    def clear(self) -> None:
        self._data.clear()
        self.bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._data.pop(key, None)
        if entry is not None:
            self.bytes -= len(entry.blob) + ENTRY_OVERHEAD
