"""Bloom filter sizing and bit positions for the replay guard (the bits themselves live in Redis).

A fingerprint is looked up in two filters, the current time window's and the previous one's, so
a false positive can come from either: each filter is sized for half the allowed rate, which
keeps the combined rate (1 - (1 - p)^2, just under 2p) below the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Redis bitmaps hold at most 2^32 bits (512 MB).
MAX_BITS = 2**32


@dataclass(frozen=True)
class BloomSizing:
    capacity: int
    bits: int
    hashes: int

    @property
    def bytes(self) -> int:
        return -(-self.bits // 8)

    def false_positive_rate(self, items: int | None = None) -> float:
        """Expected rate of one filter holding `items` (default: its capacity)."""
        n = self.capacity if items is None else items
        if n <= 0:
            return 0.0
        return float((1 - math.exp(-self.hashes * n / self.bits)) ** self.hashes)

    def combined_false_positive_rate(self, items: int | None = None) -> float:
        """Expected rate of the check against two filters that each hold `items`."""
        one = self.false_positive_rate(items)
        return float(1 - (1 - one) ** 2)


def per_filter_rate(target: float, filters: int = 2) -> float:
    """The rate each of `filters` independent filters may have so that any-of-them stays at `target`."""
    return float(1 - (1 - target) ** (1 / filters))


def size_for(capacity: int, target_rate: float, filters: int = 2) -> BloomSizing:
    """Hashes k = -log2 p (the optimum, rounded), then the fewest bits m for which k hashes keep
    one filter at rate p: m = -k n / ln(1 - p^(1/k)) (close to -n ln p / (ln 2)^2)."""
    if capacity < 1:
        raise ValueError("capacity must be at least 1")
    if not 0 < target_rate < 1:
        raise ValueError("the false-positive rate must be between 0 and 1")
    p = per_filter_rate(target_rate, filters)
    hashes = max(1, round(-math.log2(p)))
    bits = math.ceil(-hashes * capacity / math.log(1 - p ** (1 / hashes)))
    if bits > MAX_BITS:
        raise ValueError(
            f"{capacity} fingerprints at rate {target_rate} need {bits} bits; Redis allows {MAX_BITS}"
        )
    return BloomSizing(capacity=capacity, bits=bits, hashes=hashes)


def hash_pair(digest: bytes, sizing: BloomSizing) -> tuple[int, int]:
    """The two base hashes of double hashing (Kirsch-Mitzenmacher), from 16 bytes of a SHA-256
    digest, already reduced below the filter size (so the Lua script's arithmetic stays exact)."""
    if len(digest) < 32:
        raise ValueError("expected a 32-byte digest")
    h1 = int.from_bytes(digest[16:24], "big") % sizing.bits
    # Never 0, so the k positions never collapse onto one.
    h2 = 1 + int.from_bytes(digest[24:32], "big") % (sizing.bits - 1)
    return h1, h2


def positions(digest: bytes, sizing: BloomSizing) -> list[int]:
    """The k bit positions (h1 + i h2) mod m, i = 0..k-1, as the Lua script computes them."""
    h1, h2 = hash_pair(digest, sizing)
    return [(h1 + i * h2) % sizing.bits for i in range(sizing.hashes)]
