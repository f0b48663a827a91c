"""merge.rank: the merged score of the two named vectors, RRF, the single modes and their guards."""

from __future__ import annotations

import pytest

from mocki.retrieval import merge
from mocki.retrieval.store import PairHit


def hit(pid: str, sq: float, sa: float, rq: int | None, ra: int | None) -> PairHit:
    return PairHit(pid, "kb", f"src-{pid}", sq, sa, rq, ra)


# "q" wins on the question vector, "a" on the answer vector; "both" is second on each.
HITS = [
    hit("q", 0.90, 0.20, 0, 3),
    hit("both", 0.80, 0.70, 1, 1),
    hit("a", 0.30, 0.95, 3, 0),
    hit("none", 0.50, 0.40, 2, 2),
]


def ids(ranked: list[merge.Ranked]) -> list[str]:
    return [r.hit.id for r in ranked]


def test_single_modes_rank_by_their_own_cosine() -> None:
    assert ids(merge.rank(HITS, "query")) == ["q", "both", "none", "a"]
    assert ids(merge.rank(HITS, "answer")) == ["a", "both", "none", "q"]
    # The mode decides, not the fusion settings.
    assert ids(merge.rank(HITS, "query", fusion="rrf", weight_query=0.0)) == ids(merge.rank(HITS, "query"))


def test_weighted_merge_is_the_convex_combination_of_both_cosines() -> None:
    ranked = merge.rank(HITS, "merged", fusion="weighted", weight_query=0.8)
    by_id = {r.hit.id: r.score for r in ranked}
    assert by_id["q"] == pytest.approx(0.8 * 0.90 + 0.2 * 0.20)
    assert by_id["both"] == pytest.approx(0.8 * 0.80 + 0.2 * 0.70)
    # both 0.78 > q 0.76 > none 0.48 > a 0.43: the pair good on both vectors wins.
    assert ids(ranked) == ["both", "q", "none", "a"]
    assert [r.score for r in ranked] == sorted(by_id.values(), reverse=True)


def test_weight_extremes_equal_the_single_modes() -> None:
    assert ids(merge.rank(HITS, "merged", weight_query=1.0)) == ids(merge.rank(HITS, "query"))
    assert ids(merge.rank(HITS, "merged", weight_query=0.0)) == ids(merge.rank(HITS, "answer"))


def test_weight_moves_the_winner_between_the_vectors() -> None:
    assert ids(merge.rank(HITS, "merged", weight_query=0.95))[0] == "q"
    assert ids(merge.rank(HITS, "merged", weight_query=0.05))[0] == "a"


def test_rrf_uses_ranks_and_a_missing_rank_adds_nothing() -> None:
    only_query = hit("only-q", 0.99, 0.99, 0, None)
    ranked = merge.rank([only_query, *HITS[1:]], "merged", fusion="rrf", weight_query=0.5, rrf_k=10)
    by_id = {r.hit.id: r.score for r in ranked}
    assert by_id["only-q"] == pytest.approx(0.5 / 11)
    assert by_id["both"] == pytest.approx(0.5 / 12 + 0.5 / 12)
    # The cosines (0.99) are ignored: a pair high on both lists beats one found on a single list.
    assert ids(ranked)[0] == "both"


def test_rrf_k_flattens_the_gap_between_ranks() -> None:
    sharp = merge.rank(HITS, "merged", fusion="rrf", weight_query=0.5, rrf_k=1)
    flat = merge.rank(HITS, "merged", fusion="rrf", weight_query=0.5, rrf_k=60)
    spread = [max(r.score for r in x) / min(r.score for r in x) for x in (sharp, flat)]
    assert spread[0] > spread[1]


def test_ties_keep_the_store_order_and_limit_cuts() -> None:
    tied = [hit("first", 0.5, 0.5, 0, 1), hit("second", 0.5, 0.5, 1, 0)]
    assert ids(merge.rank(tied, "merged")) == ["first", "second"]
    assert ids(merge.rank(HITS, "query", limit=2)) == ["q", "both"]
    assert merge.rank([], "merged") == []


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_weight_outside_zero_to_one_is_refused(weight: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        merge.rank(HITS, "merged", weight_query=weight)
