"""The engine-independent parts of the vector store: merging the two lists, ids, choosing an engine."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from mocki.retrieval import store as store_module
from mocki.retrieval.store import _Found, _merge, _unit, canonical_id, open_store
from mocki.settings import Settings


def found(name: str) -> _Found:
    return _Found(id=name, kind="kb", source=f"src-{name}")


def test_merge_gives_every_candidate_both_scores_and_both_ranks() -> None:
    a, b, c = found("a"), found("b"), found("c")  # a only in the query list, c only in the answer list

    hits = {
        h.id: h
        for h in _merge([a, b], [c, b], {"a": 0.9, "b": 0.6, "c": 0.1}, {"a": 0.2, "b": 0.8, "c": 0.95})
    }

    assert set(hits) == {"a", "b", "c"}
    assert (hits["a"].rank_query, hits["a"].rank_answer) == (0, None)
    assert (hits["b"].rank_query, hits["b"].rank_answer) == (1, 1)
    assert (hits["c"].rank_query, hits["c"].rank_answer) == (None, 0)
    assert (hits["a"].score_query, hits["a"].score_answer) == (0.9, 0.2)
    assert (hits["c"].score_query, hits["c"].score_answer) == (0.1, 0.95)
    assert (hits["b"].kind, hits["b"].source) == ("kb", "src-b")


def test_merge_orders_by_best_rank_then_by_summed_score() -> None:
    top_query, top_answer, second = found("tq"), found("ta"), found("s")
    scores_query = {"tq": 1.0, "ta": 0.6, "s": 0.8}
    scores_answer = {"tq": 0.0, "ta": 1.0, "s": 0.8}

    order = [h.id for h in _merge([top_query, second], [top_answer, second], scores_query, scores_answer)]

    assert order == ["ta", "tq", "s"]  # both rank 0: ta's sum 1.6 beats tq's 1.0; s is rank 1


def test_merge_drops_a_candidate_deleted_between_the_two_queries() -> None:
    kept, gone = found("kept"), found("gone")

    hits = _merge([kept, gone], [kept], {"kept": 0.5}, {"kept": 0.4})

    assert [h.id for h in hits] == ["kept"]


def test_merge_of_nothing_is_empty() -> None:
    assert _merge([], [], {}, {}) == []


def test_ids_are_canonical_uuids() -> None:
    raw = uuid.uuid4()
    assert canonical_id(str(raw).upper()) == str(raw)
    with pytest.raises(ValueError, match="must be a uuid"):
        canonical_id("doc-1")


def test_query_vectors_are_normalised_and_checked() -> None:
    assert np.linalg.norm(_unit(np.array([3.0, 4.0], dtype=np.float32), 2)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2-dimensional"):
        _unit(np.zeros(3, dtype=np.float32), 2)
    with pytest.raises(ValueError, match="zero"):
        _unit(np.zeros(2, dtype=np.float32), 2)


def test_open_store_uses_the_server_when_a_url_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[str, str, str, int]] = []

    def connect(url: str, api_key: str, collection: str, dim: int) -> str:
        calls.append((url, api_key, collection, dim))
        return "server store"

    monkeypatch.setattr(store_module.QdrantServerStore, "connect", staticmethod(connect))
    settings = Settings(data_dir=tmp_path, qdrant_url="http://qdrant:6333", qdrant_api_key="k")

    assert open_store(settings) == "server store"
    assert calls == [("http://qdrant:6333", "k", settings.retrieval.collection, settings.embeddings.dim)]
    assert not settings.vector_dir.exists()  # the embedded engine was not touched
