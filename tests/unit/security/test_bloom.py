"""Bloom filter sizing math and bit positions, checked against the textbook formulas and by
measuring a filter built in memory with the same positions the Redis script sets."""

from __future__ import annotations

import hashlib
import math

import pytest

from mocki.security.bloom import BloomSizing, per_filter_rate, positions, size_for


@pytest.mark.parametrize("capacity", [1_000, 100_000, 1_000_000])
@pytest.mark.parametrize("target", [0.01, 0.001, 0.0001])
def test_sizing_meets_the_target_for_two_windows(capacity: int, target: float) -> None:
    sizing = size_for(capacity, target)
    assert sizing.combined_false_positive_rate() <= target
    # Near the optimum m = -n ln p / (ln 2)^2 for the per-filter rate (within 2 %).
    p = per_filter_rate(target)
    optimum = -capacity * math.log(p) / math.log(2) ** 2
    assert optimum <= sizing.bits <= optimum * 1.02
    assert sizing.hashes == round(-math.log2(p))


def test_default_sizing_figures() -> None:
    sizing = size_for(1_000_000, 0.001)
    assert sizing.hashes == 11
    assert 15.8 < sizing.bits / 1_000_000 < 15.9  # bits per fingerprint
    assert sizing.bytes < 2_000_000  # under 2 MB per window
    assert sizing.false_positive_rate() == pytest.approx(per_filter_rate(0.001), rel=1e-3)


def test_per_filter_rate_combines_back_to_the_target() -> None:
    p = per_filter_rate(0.001)
    assert 1 - (1 - p) ** 2 == pytest.approx(0.001)
    assert 0.0005 < p < 0.00051


def test_rate_grows_with_fill() -> None:
    sizing = size_for(10_000, 0.001)
    rates = [sizing.false_positive_rate(n) for n in (0, 1_000, 5_000, 10_000, 20_000)]
    assert rates[0] == 0.0
    assert rates == sorted(rates)
    assert rates[-1] > 0.001  # past capacity the filter degrades (the exact check still decides)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        size_for(0, 0.001)
    with pytest.raises(ValueError):
        size_for(100, 1.5)
    with pytest.raises(ValueError, match="Redis allows"):
        size_for(10**12, 0.001)


def _digest(i: int) -> bytes:
    return hashlib.sha256(f"fingerprint-{i}".encode()).digest()


def test_positions_are_deterministic_in_range_and_spread() -> None:
    sizing = BloomSizing(capacity=100, bits=1_009, hashes=7)
    first = positions(_digest(1), sizing)
    assert first == positions(_digest(1), sizing)
    assert len(first) == 7 and all(0 <= p < 1_009 for p in first)
    assert first != positions(_digest(2), sizing)
    with pytest.raises(ValueError):
        positions(b"short", sizing)


def test_measured_rate_of_an_in_memory_filter_matches_the_math() -> None:
    # The same positions into a plain bit array: fill to capacity, then probe fresh items.
    sizing = size_for(20_000, 0.01)
    bits = bytearray(sizing.bytes)

    def add(digest: bytes) -> None:
        for p in positions(digest, sizing):
            bits[p >> 3] |= 1 << (p & 7)

    def maybe(digest: bytes) -> bool:
        return all(bits[p >> 3] & (1 << (p & 7)) for p in positions(digest, sizing))

    for i in range(20_000):
        add(_digest(i))
    assert all(maybe(_digest(i)) for i in range(0, 20_000, 97))  # no false negatives
    probes = 50_000
    hits = sum(maybe(_digest(i)) for i in range(1_000_000, 1_000_000 + probes))
    expected = sizing.false_positive_rate()  # ~0.005 for one filter
    assert hits / probes < 2 * expected
    assert hits > 0  # the filter is really that full: some false positives do occur
