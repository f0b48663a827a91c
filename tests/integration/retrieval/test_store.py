"""The vector store against the real engines: qdrant-edge in this process, and the server adapter
on qdrant-client's local mode (the same client code that talks to a Qdrant server)."""

from __future__ import annotations

import hashlib
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from qdrant_client import QdrantClient

from mocki.retrieval.store import (
    PUBLIC_OWNER,
    EdgeStore,
    QdrantServerStore,
    VectorPoint,
    VectorStore,
    VectorStoreBusy,
    VectorStoreMismatch,
    open_store,
)
from mocki.settings import Settings
from tests.support.processes import PYTHON

# qdrant-client's local mode says that payload indexes and search params do nothing there;
# a server uses both, and local mode is exact anyway.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning"),
    pytest.mark.filterwarnings("ignore:Local mode performs exact:UserWarning"),
]

DIM = 384
Vectors = npt.NDArray[np.float32]
Opener = Callable[..., VectorStore]


def unit_rows(rng: np.random.Generator, n: int, dim: int = DIM) -> Vectors:
    rows = rng.normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def make_points(
    rng: np.random.Generator, n: int, *, owner: str, kind: str = "kb", source: str = "src"
) -> list[VectorPoint]:
    queries, answers = unit_rows(rng, n), unit_rows(rng, n)
    return [
        VectorPoint(str(uuid.uuid4()), queries[i], answers[i], owner=owner, kind=kind, source=source)
        for i in range(n)
    ]


def top_ids(points: list[VectorPoint], q: Vectors, side: str, k: int) -> list[str]:
    """Exact nearest neighbours by numpy, the reference the engines must agree with."""
    matrix = np.stack([getattr(p, side) for p in points])
    order = np.argsort(-(matrix @ q))[:k]
    return [points[i].id for i in order]


@pytest.fixture(params=["edge", "server"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens a store on the same storage each call, so a test can close and reopen it.

    The server adapter keeps its collection in memory unless `durable`: local mode's on-disk
    storage commits every point to SQLite (~25 ms each), which only the reopen tests need."""
    opened: list[VectorStore] = []

    def open_(dim: int = DIM, *, durable: bool = True) -> VectorStore:
        store: VectorStore
        if request.param == "edge":
            store = EdgeStore(tmp_path / "vectors", dim)
        else:
            client = QdrantClient(path=str(tmp_path / "qdrant")) if durable else QdrantClient(":memory:")
            store = QdrantServerStore(client, "pairs", dim)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(opener: Opener) -> VectorStore:
    return opener(durable=False)


def test_search_pairs_scores_both_vectors_exactly_and_keeps_each_rank(store: VectorStore) -> None:
    rng = np.random.default_rng(1)
    points = make_points(rng, 300, owner="u1")
    store.upsert(points)
    q = unit_rows(rng, 1)[0]

    hits = store.search_pairs(q, owners=["u1"], kinds=None, limit=10)

    by_id = {p.id: p for p in points}
    for hit in hits:
        assert hit.score_query == pytest.approx(float(by_id[hit.id].query @ q), abs=1e-5)
        assert hit.score_answer == pytest.approx(float(by_id[hit.id].answer @ q), abs=1e-5)
        assert (hit.kind, hit.source) == ("kb", "src")
    ranked_query = sorted((h for h in hits if h.rank_query is not None), key=lambda h: h.rank_query or 0)
    ranked_answer = sorted((h for h in hits if h.rank_answer is not None), key=lambda h: h.rank_answer or 0)
    assert [h.id for h in ranked_query] == top_ids(points, q, "query", 10)
    assert [h.id for h in ranked_answer] == top_ids(points, q, "answer", 10)
    assert [h.rank_query for h in ranked_query] == list(range(10))
    assert (
        len(hits)
        == len({h.id for h in hits})
        == len(set(top_ids(points, q, "query", 10)) | set(top_ids(points, q, "answer", 10)))
    )
    # Random vectors: the two top-10 lists almost surely differ, so some candidates come from one list only.
    assert any(h.rank_answer is None for h in hits) and any(h.rank_query is None for h in hits)


def test_search_on_one_vector_returns_exact_cosines_best_first(store: VectorStore) -> None:
    rng = np.random.default_rng(2)
    points = make_points(rng, 200, owner="u1")
    store.upsert(points)
    q = unit_rows(rng, 1)[0]

    results = store.search(q, "answer", owners=["u1"], kinds=None, limit=5)

    assert [pid for pid, _ in results] == top_ids(points, q, "answer", 5)
    by_id = {p.id: p for p in points}
    for pid, score in results:
        assert score == pytest.approx(float(by_id[pid].answer @ q), abs=1e-5)


def test_an_owner_never_sees_another_owners_points(store: VectorStore) -> None:
    rng = np.random.default_rng(3)
    mine = make_points(rng, 20, owner="alice")
    theirs = make_points(rng, 20, owner="bob")
    public = make_points(rng, 20, owner=PUBLIC_OWNER)
    store.upsert(mine + theirs + public)
    # Aim straight at one of bob's points: unfiltered, it would be the best hit on both vectors.
    q = theirs[0].query

    own_only = store.search_pairs(q, owners=["alice"], kinds=None, limit=50)
    with_public = store.search_pairs(q, owners=["alice", PUBLIC_OWNER], kinds=None, limit=50)
    single = store.search(q, "query", owners=["alice", PUBLIC_OWNER], kinds=None, limit=50)

    assert {h.id for h in own_only} == {p.id for p in mine}
    assert {h.id for h in with_public} == {p.id for p in mine + public}
    assert {pid for pid, _ in single} == {p.id for p in mine + public}
    assert store.search_pairs(q, owners=["bob"], kinds=None, limit=1)[0].id == theirs[0].id
    assert store.search_pairs(q, owners=[], kinds=None, limit=10) == []
    assert store.count(owners=["alice"]) == 20
    assert store.count(owners=["alice", PUBLIC_OWNER]) == 40
    assert store.count() == 60


def test_kinds_filter_admits_only_those_kinds(store: VectorStore) -> None:
    rng = np.random.default_rng(4)
    resume = make_points(rng, 10, owner="u1", kind="resume")
    kb = make_points(rng, 10, owner="u1", kind="kb")
    store.upsert(resume + kb)
    q = kb[0].query

    assert {h.id for h in store.search_pairs(q, owners=["u1"], kinds=["resume"], limit=20)} == {
        p.id for p in resume
    }
    assert {h.kind for h in store.search_pairs(q, owners=["u1"], kinds=None, limit=20)} == {"resume", "kb"}
    assert {pid for pid, _ in store.search(q, "answer", owners=["u1"], kinds=["kb"], limit=20)} == {
        p.id for p in kb
    }
    assert store.search_pairs(q, owners=["u1"], kinds=[], limit=20) == []


def test_delete_source_removes_only_that_source(store: VectorStore) -> None:
    rng = np.random.default_rng(5)
    doomed = make_points(rng, 15, owner="u1", source="doc-1")
    kept = make_points(rng, 15, owner="u1", source="doc-2")
    store.upsert(doomed + kept)
    assert store.count(source="doc-1") == 15

    store.delete_source("doc-1")

    assert store.count(source="doc-1") == 0
    assert store.count(source="doc-2") == 15
    hits = store.search_pairs(doomed[0].query, owners=["u1"], kinds=None, limit=30)
    assert {h.id for h in hits} == {p.id for p in kept}
    assert store.payloads([p.id for p in doomed]) == {}


def test_upserting_an_id_again_replaces_its_vectors_and_payload(store: VectorStore) -> None:
    rng = np.random.default_rng(6)
    old, new = (
        make_points(rng, 1, owner="u1", source="v1")[0],
        make_points(rng, 1, owner="u2", source="v2")[0],
    )
    replacement = VectorPoint(old.id, new.query, new.answer, owner="u2", kind="resume", source="v2")
    store.upsert([old])

    store.upsert([replacement])

    assert store.count() == 1
    assert store.payloads([old.id]) == {old.id: {"owner": "u2", "kind": "resume", "source": "v2"}}
    assert store.search_pairs(old.query, owners=["u1"], kinds=None, limit=5) == []
    [hit] = store.search_pairs(old.query, owners=["u2"], kinds=None, limit=5)
    assert hit.score_query == pytest.approx(float(new.query @ old.query), abs=1e-5)


def test_payload_holds_owner_kind_and_source_only(store: VectorStore) -> None:
    rng = np.random.default_rng(7)
    points = make_points(rng, 3, owner="u1", kind="question", source="q-42")
    store.upsert(points)
    missing = str(uuid.uuid4())

    stored = store.payloads([p.id for p in points] + [missing])

    assert stored == {p.id: {"owner": "u1", "kind": "question", "source": "q-42"} for p in points}


def test_ids_are_handed_back_in_canonical_form(store: VectorStore) -> None:
    rng = np.random.default_rng(8)
    [point] = make_points(rng, 1, owner="u1")
    shouted = VectorPoint(point.id.upper(), point.query, point.answer, "u1", "kb", "src")
    store.upsert([shouted])

    assert store.search_pairs(point.query, owners=["u1"], kinds=None, limit=1)[0].id == point.id
    assert set(store.payloads([point.id.upper()])) == {point.id}


def test_points_survive_close_and_reopen(opener: Opener) -> None:
    rng = np.random.default_rng(9)
    points = make_points(rng, 50, owner="u1")
    first = opener()
    first.upsert(points)
    first.close()

    reopened = opener()

    assert reopened.count() == 50
    assert reopened.search_pairs(points[7].answer, owners=["u1"], kinds=None, limit=1)[0].id == points[7].id


def test_a_store_built_with_another_dimension_is_refused_with_a_reindex_hint(opener: Opener) -> None:
    rng = np.random.default_rng(10)
    first = opener()
    first.upsert(make_points(rng, 5, owner="u1"))
    first.close()

    with pytest.raises(VectorStoreMismatch, match="re-index"):
        opener(dim=128)

    # The refusal left the store intact and, for the embedded engine, released its lock.
    assert opener().count() == 5


def test_a_bad_point_fails_the_whole_upsert_before_anything_is_written(store: VectorStore) -> None:
    rng = np.random.default_rng(11)
    good = make_points(rng, 300, owner="u1")  # more than one engine batch precedes the bad point
    short = VectorPoint(str(uuid.uuid4()), good[0].query[:100], good[0].answer, "u1", "kb", "src")
    unnamed = VectorPoint("not-a-uuid", good[0].query, good[0].answer, "u1", "kb", "src")

    with pytest.raises(ValueError, match="384-dimensional query vector"):
        store.upsert([*good, short])
    with pytest.raises(ValueError, match="uuid"):
        store.upsert([*good, unnamed])
    assert store.count() == 0


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [f for f in root.rglob("*") if f.is_file() and needle in f.read_bytes()]


def test_no_text_reaches_the_shard_files(tmp_path: Path) -> None:
    secret = "MOCKI-MARKER the candidate answered about quorum reads in Cassandra 7f3a9c"
    seed = int.from_bytes(hashlib.sha256(secret.encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)  # the vectors are "made from" the text, as an embedder would
    source = f"doc-{uuid.uuid4()}"
    store = EdgeStore(tmp_path / "vectors")
    store.upsert(make_points(rng, 20, owner="u1", source=source))
    store.close()

    # Positive control: the scan does find what the store persists (the source id)...
    assert _files_containing(tmp_path / "vectors", source.encode())
    # ...and the text never got there.
    assert _files_containing(tmp_path / "vectors", b"MOCKI-MARKER") == []


_OPEN_IN_CHILD = """
import sys
from pathlib import Path
from mocki.retrieval.store import EdgeStore, VectorStoreBusy
try:
    store = EdgeStore(Path(sys.argv[1]))
except VectorStoreBusy as exc:
    print("BUSY", exc)
    raise SystemExit(3)
print("OPENED", store.count())
store.close()
"""


def _open_in_child(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-c", _OPEN_IN_CHILD, str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_second_process_gets_busy_and_the_owner_keeps_working(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    path = tmp_path / "vectors"
    owner = EdgeStore(path)
    try:
        owner.upsert(make_points(rng, 10, owner="u1"))

        child = _open_in_child(path)

        assert child.returncode == 3, child.stdout + child.stderr
        assert "MOCKI_QDRANT_URL" in child.stdout
        with pytest.raises(VectorStoreBusy):
            EdgeStore(path)  # a second instance in this process is refused just the same
        more = make_points(rng, 5, owner="u1")
        owner.upsert(more)
        assert owner.count() == 15
        assert owner.search_pairs(more[0].query, owners=["u1"], kinds=None, limit=1)[0].id == more[0].id
    finally:
        owner.close()

    # Once the owner has closed, the same child opens the shard and sees every point.
    reopened = _open_in_child(path)
    assert reopened.returncode == 0, reopened.stdout + reopened.stderr
    assert reopened.stdout.split() == ["OPENED", "15"]


def test_open_store_embeds_the_engine_under_the_data_dir_by_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, qdrant_url="")
    store = open_store(settings)
    try:
        assert isinstance(store, EdgeStore)
        assert store.path == settings.vector_dir
        assert store.dim == settings.embeddings.dim
    finally:
        store.close()
