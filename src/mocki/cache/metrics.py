"""Prometheus series of the two-level cache, on the app's /metrics (hit ratio = hit / (hit + miss))."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "mocki_cache_requests_total",
    "Cache look-ups by key family, level (l1 in-process, l2 Redis) and result (hit, miss)",
    ["family", "level", "result"],
)
LOAD_SECONDS = Histogram(
    "mocki_cache_load_seconds",
    "Time to load a missing value from the database, by key family",
    ["family"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
EVICTIONS = Counter(
    "mocki_cache_evictions_total", "In-process entries dropped, by reason (size, expired)", ["reason"]
)
INVALIDATIONS = Counter("mocki_cache_invalidations_total", "Keys invalidated, by key family", ["family"])
L1_BYTES = Gauge("mocki_cache_l1_bytes", "Bytes held by the in-process cache level (all instances)")
