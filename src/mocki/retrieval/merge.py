"""Merging the two named-vector result lists into one ranking.

Every candidate carries its exact cosine on both vectors (the store computes them), so the
weighted merge needs no guessing for a candidate that only one list found. Reciprocal rank
fusion is the option for providers whose scores are not comparable across vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mocki.retrieval.store import PairHit

Mode = Literal["query", "answer", "merged"]
Fusion = Literal["weighted", "rrf"]


@dataclass(frozen=True)
class Ranked:
    hit: PairHit
    score: float


def _rrf_term(rank: int | None, k: int) -> float:
    return 0.0 if rank is None else 1.0 / (k + rank + 1)


def score(
    hit: PairHit, mode: Mode, *, fusion: Fusion = "weighted", weight_query: float = 0.8, rrf_k: int = 10
) -> float:
    if mode == "query":
        return hit.score_query
    if mode == "answer":
        return hit.score_answer
    if fusion == "rrf":
        return weight_query * _rrf_term(hit.rank_query, rrf_k) + (1 - weight_query) * _rrf_term(
            hit.rank_answer, rrf_k
        )
    return weight_query * hit.score_query + (1 - weight_query) * hit.score_answer


def rank(
    hits: Sequence[PairHit],
    mode: Mode = "merged",
    *,
    fusion: Fusion = "weighted",
    weight_query: float = 0.8,
    rrf_k: int = 10,
    limit: int | None = None,
) -> list[Ranked]:
    """Best first; ties keep the store's order (query-list rank first)."""
    if not 0.0 <= weight_query <= 1.0:
        raise ValueError(f"weight_query must be between 0 and 1, got {weight_query}")
    scored = [Ranked(h, score(h, mode, fusion=fusion, weight_query=weight_query, rrf_k=rrf_k)) for h in hits]
    scored.sort(key=lambda r: -r.score)
    return scored[:limit] if limit is not None else scored
