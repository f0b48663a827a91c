"""The vector store: Qdrant's engine in-process (qdrant-edge) or a Qdrant server (qdrant-client).

Each point is one query–answer pair with two named vectors and a payload of ids only, so a
leaked or copied store reveals no text. `open_store` picks the engine from the settings.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt
import qdrant_edge as edge

if TYPE_CHECKING:
    from qdrant_client import QdrantClient
    from qdrant_client.http import models as qmodels

    from mocki.settings import Settings

VectorName = Literal["query", "answer"]
VECTOR_NAMES: tuple[VectorName, VectorName] = ("query", "answer")
# Owner value of points everyone may see (the built-in question bank).
PUBLIC_OWNER = "public"


@dataclass(frozen=True)
class VectorPoint:
    """One query–answer pair. The payload is ids, owner and kind only: never text."""

    id: str  # uuid of the pair's database row
    query: npt.NDArray[np.float32]
    answer: npt.NDArray[np.float32]
    owner: str  # user id, or PUBLIC_OWNER
    kind: str  # question | resume | job_description | kb
    source: str  # id of what the pair came from (document or question id); re-indexing replaces by it


@dataclass(frozen=True)
class PairHit:
    """A candidate with its cosine similarity on both named vectors and its rank in each list."""

    id: str
    kind: str
    source: str
    score_query: float
    score_answer: float
    rank_query: int | None  # 0-based rank in the `query` list, None if it was not in that list
    rank_answer: int | None


class VectorStore(Protocol):
    """Synchronous (both engines are fast and release the GIL); async callers use a thread."""

    def upsert(self, points: Sequence[VectorPoint]) -> None: ...

    def delete_source(self, source: str) -> None:
        """Remove every point whose payload `source` is this id."""
        ...

    def search_pairs(
        self,
        vector: npt.NDArray[np.float32],
        *,
        owners: Sequence[str],
        kinds: Sequence[str] | None,
        limit: int,
    ) -> list[PairHit]:
        """Nearest `limit` on each named vector among points of these owners (and kinds), merged
        into one list where every candidate carries both exact scores."""
        ...

    def search(
        self,
        vector: npt.NDArray[np.float32],
        using: VectorName,
        *,
        owners: Sequence[str],
        kinds: Sequence[str] | None,
        limit: int,
    ) -> list[tuple[str, float]]:
        """(point id, cosine score) on one named vector, best first."""
        ...

    def count(self, *, owners: Sequence[str] | None = None, source: str | None = None) -> int: ...

    def payloads(self, ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """The stored payload of each id that exists (used to prove no text reaches the store)."""
        ...

    def close(self) -> None: ...


PAYLOAD_FIELDS = ("owner", "kind", "source")
# Points per engine call on upsert: large enough to amortise the call, small enough that one
# batch of Python lists (2 x dim floats per point) stays a few MB.
UPSERT_BATCH = 256


class VectorStoreError(RuntimeError):
    """The vector store cannot be used as configured; the message says what to do."""


class VectorStoreBusy(VectorStoreError):
    """Another process has the embedded store open; opening it too would corrupt its journal."""


class VectorStoreMismatch(VectorStoreError):
    """The stored vectors were built with other settings (dimension, distance) than configured."""


def canonical_id(point_id: str) -> str:
    """Both engines store uuids in their canonical spelling; ids handed back must compare equal."""
    try:
        return str(uuid.UUID(point_id))
    except ValueError:
        raise ValueError(f"a vector point id must be a uuid, got {point_id!r}") from None


def _unit(vector: npt.ArrayLike, dim: int) -> npt.NDArray[np.float32]:
    """The query as a unit vector, so that a dot product with a stored vector is its cosine."""
    array = np.asarray(vector, dtype=np.float32).reshape(-1)
    if array.shape != (dim,):
        raise ValueError(f"expected a {dim}-dimensional vector, got shape {np.shape(vector)}")
    norm = float(np.linalg.norm(array))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("cannot search with a zero or non-finite vector")
    return array / norm


def _validated(points: Sequence[VectorPoint], dim: int) -> list[str]:
    """Every point's canonical id, after checking the whole batch: a bad point fails the call
    before anything is written, instead of leaving the batches before it in the store."""
    ids = []
    for point in points:
        point_id = canonical_id(point.id)
        for name, vector in (("query", point.query), ("answer", point.answer)):
            if np.shape(vector) != (dim,):
                shape = np.shape(vector)
                raise ValueError(
                    f"point {point_id}: expected a {dim}-dimensional {name} vector, got shape {shape}"
                )
        ids.append(point_id)
    return ids


def _batches(points: Sequence[VectorPoint], dim: int) -> Iterator[list[tuple[str, VectorPoint]]]:
    """(canonical id, point) in upsert-sized batches; the whole input is validated first."""
    pairs = list(zip(_validated(points, dim), points, strict=True))
    for start in range(0, len(pairs), UPSERT_BATCH):
        yield pairs[start : start + UPSERT_BATCH]


def _floats(vector: npt.NDArray[np.float32]) -> list[float]:
    values: list[float] = np.asarray(vector, dtype=np.float32).tolist()
    return values


def _payload(point: VectorPoint) -> dict[str, str]:
    return {"owner": point.owner, "kind": point.kind, "source": point.source}


def _string_payload(payload: object) -> dict[str, str]:
    if not isinstance(payload, dict):
        return {}
    return {str(key): str(value) for key, value in payload.items()}


@dataclass(frozen=True)
class _Found:
    """A point one of the two nearest-neighbour lists returned."""

    id: str
    kind: str
    source: str


def _found(point_id: object, payload: object) -> _Found:
    fields = _string_payload(payload)
    return _Found(id=str(point_id), kind=fields.get("kind", ""), source=fields.get("source", ""))


def _union_ids(by_query: list[_Found], by_answer: list[_Found]) -> list[str]:
    return list(dict.fromkeys(f.id for f in (*by_query, *by_answer)))


def _merge(
    by_query: list[_Found],
    by_answer: list[_Found],
    score_query: dict[str, float],
    score_answer: dict[str, float],
) -> list[PairHit]:
    """The union of both lists, each candidate with its exact score on both vectors.

    The scores come from a second, exact query restricted to the union's ids rather than from
    the vectors themselves: shipping 2 x dim floats per candidate measured ~2.5 ms more per
    search in-process and 1.25 MB of JSON per search from a server. A candidate missing a score
    was deleted between the two queries and is dropped. Ordered by the better of its two
    ranks, then by the sum of its scores; the fusion is the caller's.
    """
    rank_query = {f.id: rank for rank, f in enumerate(by_query)}
    rank_answer = {f.id: rank for rank, f in enumerate(by_answer)}
    union = {f.id: f for f in (*by_query, *by_answer)}
    hits = [
        PairHit(
            id=f.id,
            kind=f.kind,
            source=f.source,
            score_query=score_query[f.id],
            score_answer=score_answer[f.id],
            rank_query=rank_query.get(f.id),
            rank_answer=rank_answer.get(f.id),
        )
        for f in union.values()
        if f.id in score_query and f.id in score_answer
    ]
    hits.sort(key=_merged_order)
    return hits


def _merged_order(hit: PairHit) -> tuple[int, float]:
    best_rank = min(r for r in (hit.rank_query, hit.rank_answer) if r is not None)
    return best_rank, -(hit.score_query + hit.score_answer)


def _nothing_to_find(owners: Sequence[str], kinds: Sequence[str] | None, limit: int) -> bool:
    """No owner, no kind or no room admitted: the answer is empty without asking the engine."""
    return limit <= 0 or not owners or (kinds is not None and not kinds)


def _mismatch_message(where: str, dim: int, detail: str) -> str:
    return (
        f"The vector store {where} was built with other vector settings than configured "
        f"(now: two named vectors 'query' and 'answer', {dim} dimensions, cosine): {detail}. "
        "The vectors are derived data: delete them and re-index the documents and questions."
    )


# ---------------------------------------------------------------------------------------------
# Embedded: Qdrant's engine in this process.


class _ProcessLock:
    """An exclusive flock on `<shard>.lock` beside the shard, so a second opener fails cleanly
    instead of opening the shard's write-ahead log and corrupting it (measured, qdrant-edge 0.9).
    The kernel drops the lock when its holder exits, so a crash leaves no stale lock."""

    def __init__(self, shard: Path) -> None:
        path = shard.with_name(shard.name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(self._fd)
            raise VectorStoreBusy(
                f"The vector store at {shard} is already open (lock {path} held by pid {holder}). "
                "In the embedded mode exactly one process, the api, owns it. Stop the other process, "
                "or set MOCKI_QDRANT_URL to a Qdrant server that several processes can share."
            ) from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        os.close(self._fd)  # closing the only descriptor drops the flock


class EdgeStore:
    """Qdrant's engine (qdrant-edge) in this process, persisted in one shard directory.

    A shard can be open in ONE process at a time: a second opener gets a WAL lock error and
    its attempt corrupted the owner's journal when measured. So in the embedded default exactly
    one process — the api — owns the shard; workers and CLI commands must not open it while
    the api runs. An exclusive lock file beside the shard (`<path>.lock`, holding the owner's
    pid) is taken before the shard is touched, and any second opener — another process or a
    second instance in this one — gets `VectorStoreBusy` and nothing on disk changes. Several
    processes writing vectors need a Qdrant server (`QdrantServerStore`).

    Methods are synchronous and may be called from several threads at once (the engine locks
    internally and releases the GIL); writes are flushed before they return.
    """

    def __init__(self, path: Path, dim: int = 384) -> None:
        self.path = path
        self.dim = dim
        self._lock = _ProcessLock(path)
        try:
            self._shard = self._open_shard()
        except BaseException:
            self._lock.release()
            raise
        self._closed = False
        try:
            self._ensure_payload_indexes()
        except BaseException:
            self.close()
            raise

    def _config(self) -> edge.EdgeConfig:
        params: dict[str, edge.EdgeVectorParams] = {
            name: edge.EdgeVectorParams(size=self.dim, distance=edge.Distance.Cosine) for name in VECTOR_NAMES
        }
        return edge.EdgeConfig(vectors=params)

    def _open_shard(self) -> edge.EdgeShard:
        if not self.path.exists() or not any(self.path.iterdir()):
            return edge.EdgeShard.create(str(self.path), self._config())
        try:
            return edge.EdgeShard.load(str(self.path), self._config())
        except Exception as exc:
            if "incompatible" in str(exc).lower():
                raise VectorStoreMismatch(_mismatch_message(f"at {self.path}", self.dim, str(exc))) from exc
            raise VectorStoreError(f"Cannot open the vector store at {self.path}: {exc}") from exc

    def _ensure_payload_indexes(self) -> None:
        """Keyword indexes make the owner/kind filters and deletes by source cheap; owner is the
        tenant, so the engine keeps each owner's points together."""
        existing = self._shard.info().payload_schema
        for field in PAYLOAD_FIELDS:
            if field in existing:
                continue
            schema: edge.KeywordIndexParams | edge.PayloadSchemaType = (
                edge.KeywordIndexParams(is_tenant=True)
                if field == "owner"
                else edge.PayloadSchemaType.Keyword
            )
            self._shard.update(edge.UpdateOperation.create_field_index(field, schema))
        self._shard.flush()

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        for batch in _batches(points, self.dim):
            self._shard.update(edge.UpdateOperation.upsert_points([self._point(i, p) for i, p in batch]))
        self._shard.flush()

    @staticmethod
    def _point(point_id: str, point: VectorPoint) -> edge.Point:
        vectors: dict[str, edge.NamedVector] = {
            "query": _floats(point.query),
            "answer": _floats(point.answer),
        }
        return edge.Point(point_id, vectors, _payload(point))

    def optimize(self) -> bool:
        """Build the HNSW indexes of segments that grew past the indexing threshold; True if any
        segment was rebuilt. Call it once after a bulk load (the question bank), not per upsert:
        it blocks and uses every core (measured on 2 busy cores: ~70 s for 20k pairs, ~8 min and
        +1 GB peak RSS for 100k), while search_pairs without it scans every point (20k: ~7 ms,
        100k: ~85 ms; indexed: ~3 ms and ~5 ms). Searches keep working while it runs."""
        return self._shard.optimize()

    def delete_source(self, source: str) -> None:
        match = edge.FieldCondition(key="source", match=edge.MatchValue(source))
        self._shard.update(edge.UpdateOperation.delete_points_by_filter(edge.Filter(must=[match])))
        self._shard.flush()

    def search_pairs(
        self,
        vector: npt.NDArray[np.float32],
        *,
        owners: Sequence[str],
        kinds: Sequence[str] | None,
        limit: int,
    ) -> list[PairHit]:
        if _nothing_to_find(owners, kinds, limit):
            return []
        unit = _unit(vector, self.dim).tolist()
        scope = _edge_filter(owners=owners, kinds=kinds)
        lists = self._shard.query_batch(
            edge.QueryBatchRequest(
                [
                    edge.QueryRequest(
                        limit=limit,
                        query=edge.Query.Nearest(unit, using=name),
                        filter=scope,
                        with_payload=True,
                    )
                    for name in VECTOR_NAMES
                ]
            )
        )
        by_query, by_answer = ([_found(p.id, p.payload) for p in points] for points in lists)
        ids = _union_ids(by_query, by_answer)
        if not ids:
            return []
        among = edge.Filter(must=[edge.HasIdCondition(set(ids))])
        rescored = self._shard.query_batch(
            edge.QueryBatchRequest(
                [
                    edge.QueryRequest(
                        limit=len(ids),
                        query=edge.Query.Nearest(unit, using=name),
                        filter=among,
                        params=edge.SearchParams(exact=True),
                    )
                    for name in VECTOR_NAMES
                ]
            )
        )
        score_query, score_answer = ({str(p.id): p.score for p in points} for points in rescored)
        return _merge(by_query, by_answer, score_query, score_answer)

    def search(
        self,
        vector: npt.NDArray[np.float32],
        using: VectorName,
        *,
        owners: Sequence[str],
        kinds: Sequence[str] | None,
        limit: int,
    ) -> list[tuple[str, float]]:
        if _nothing_to_find(owners, kinds, limit):
            return []
        request = edge.QueryRequest(
            limit=limit,
            query=edge.Query.Nearest(_unit(vector, self.dim).tolist(), using=using),
            filter=_edge_filter(owners=owners, kinds=kinds),
            with_payload=False,
        )
        return [(str(p.id), p.score) for p in self._shard.query(request)]

    def count(self, *, owners: Sequence[str] | None = None, source: str | None = None) -> int:
        if owners is not None and not owners:
            return 0
        scope = _edge_filter(owners=owners, source=source)
        return self._shard.count(edge.CountRequest(exact=True, filter=scope))

    def payloads(self, ids: Sequence[str]) -> dict[str, dict[str, str]]:
        if not ids:
            return {}
        records = self._shard.retrieve([canonical_id(i) for i in ids], with_payload=True, with_vector=False)
        return {str(r.id): _string_payload(r.payload) for r in records}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._shard.flush()
            self._shard.close()
        finally:
            self._lock.release()


def _edge_filter(
    *, owners: Sequence[str] | None = None, kinds: Sequence[str] | None = None, source: str | None = None
) -> edge.Filter | None:
    must: list[edge.ConditionType] = []
    if owners is not None:
        must.append(edge.FieldCondition(key="owner", match=edge.MatchAny(list(owners))))
    if kinds is not None:
        must.append(edge.FieldCondition(key="kind", match=edge.MatchAny(list(kinds))))
    if source is not None:
        must.append(edge.FieldCondition(key="source", match=edge.MatchValue(source)))
    return edge.Filter(must=must) if must else None


# ---------------------------------------------------------------------------------------------
# A Qdrant server or cluster. qdrant_client is imported only here: it costs ~0.7 s and ~80 MB
# at import, which the embedded default should not pay.


class QdrantServerStore:
    """The same store on a Qdrant server or cluster, shared by any number of processes."""

    def __init__(self, client: QdrantClient, collection: str, dim: int = 384) -> None:
        self._client = client
        self.collection = collection
        self.dim = dim
        self._ensure_collection()

    @classmethod
    def connect(cls, url: str, api_key: str, collection: str, dim: int = 384) -> QdrantServerStore:
        from qdrant_client import QdrantClient

        return cls(QdrantClient(url=url, api_key=api_key or None), collection, dim)

    def _ensure_collection(self) -> None:
        from qdrant_client.http import models

        if not self._client.collection_exists(self.collection):
            params: dict[str, models.VectorParams] = {
                name: models.VectorParams(size=self.dim, distance=models.Distance.COSINE)
                for name in VECTOR_NAMES
            }
            try:
                self._client.create_collection(self.collection, vectors_config=params)
            except Exception:
                # Another process (an api and its workers start together) may have won the race.
                if not self._client.collection_exists(self.collection):
                    raise
        info = self._client.get_collection(self.collection)
        self._check_vectors(info.config.params.vectors)
        for field in PAYLOAD_FIELDS:
            if field not in info.payload_schema:
                schema = models.KeywordIndexParams(
                    type=models.KeywordIndexType.KEYWORD, is_tenant=field == "owner"
                )
                self._client.create_payload_index(self.collection, field, field_schema=schema, wait=True)

    def _check_vectors(self, vectors: object) -> None:
        from qdrant_client.http import models

        configured = vectors if isinstance(vectors, dict) else {}
        for name in VECTOR_NAMES:
            params = configured.get(name)
            if (
                not isinstance(params, models.VectorParams)
                or params.size != self.dim
                or params.distance != models.Distance.COSINE
            ):
                found = {k: (v.size, str(v.distance)) for k, v in configured.items()} or vectors
                raise VectorStoreMismatch(
                    _mismatch_message(f"in collection {self.collection!r}", self.dim, f"it has {found}")
                )

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        from qdrant_client.http import models

        for batch in _batches(points, self.dim):
            structs = [
                models.PointStruct(
                    id=point_id,
                    vector={"query": _floats(point.query), "answer": _floats(point.answer)},
                    payload=_payload(point),
                )
                for point_id, point in batch
            ]
            self._client.upsert(self.collection, points=structs, wait=True)

    def delete_source(self, source: str) -> None:
        from qdrant_client.http import models

        selector = models.FilterSelector(filter=_client_filter(source=source))
        self._client.delete(self.collection, points_selector=selector, wait=True)

    def search_pairs(
        self,
        vector: npt.NDArray[np.float32],
        *,
        owners: Sequence[str],
        kinds: Sequence[str] | None,
        limit: int,
    ) -> list[PairHit]:
        from qdrant_client.http import models

        if _nothing_to_find(owners, kinds, limit):
            return []
        unit = _unit(vector, self.dim).tolist()
        scope = _client_filter(owners=owners, kinds=kinds)
        lists = self._client.query_batch_points(
            self.collection,
            requests=[
                models.QueryRequest(query=unit, using=name, filter=scope, limit=limit, with_payload=True)
                for name in VECTOR_NAMES
            ],
        )
        by_query, by_answer = ([_found(p.id, p.payload) for p in response.points] for response in lists)
        ids = _union_ids(by_query, by_answer)
        if not ids:
            return []
        among = models.Filter(must=[models.HasIdCondition(has_id=list(ids))])
        rescored = self._client.query_batch_points(
            self.collection,
            requests=[
                models.QueryRequest(
                    query=unit,
                    using=name,
                    filter=among,
                    limit=len(ids),
                    params=models.SearchParams(exact=True),
                    with_payload=False,
                )
                for name in VECTOR_NAMES
            ],
        )
        score_query, score_answer = ({str(p.id): p.score for p in r.points} for r in rescored)
        return _merge(by_query, by_answer, score_query, score_answer)

    def search(
        self,
        vector: npt.NDArray[np.float32],
        using: VectorName,
        *,
        owners: Sequence[str],
        kinds: Sequence[str] | None,
        limit: int,
    ) -> list[tuple[str, float]]:
        if _nothing_to_find(owners, kinds, limit):
            return []
        response = self._client.query_points(
            self.collection,
            query=_unit(vector, self.dim).tolist(),
            using=using,
            query_filter=_client_filter(owners=owners, kinds=kinds),
            limit=limit,
            with_payload=False,
        )
        return [(str(p.id), p.score) for p in response.points]

    def count(self, *, owners: Sequence[str] | None = None, source: str | None = None) -> int:
        if owners is not None and not owners:
            return 0
        scope = _client_filter(owners=owners, source=source)
        return self._client.count(self.collection, count_filter=scope, exact=True).count

    def payloads(self, ids: Sequence[str]) -> dict[str, dict[str, str]]:
        if not ids:
            return {}
        records = self._client.retrieve(
            self.collection, ids=[canonical_id(i) for i in ids], with_payload=True, with_vectors=False
        )
        return {str(r.id): _string_payload(r.payload) for r in records}

    def close(self) -> None:
        self._client.close()


def _client_filter(
    *, owners: Sequence[str] | None = None, kinds: Sequence[str] | None = None, source: str | None = None
) -> qmodels.Filter | None:
    from qdrant_client.http import models

    must: list[models.Condition] = []
    if owners is not None:
        must.append(models.FieldCondition(key="owner", match=models.MatchAny(any=list(owners))))
    if kinds is not None:
        must.append(models.FieldCondition(key="kind", match=models.MatchAny(any=list(kinds))))
    if source is not None:
        must.append(models.FieldCondition(key="source", match=models.MatchValue(value=source)))
    return models.Filter(must=must) if must else None


def open_store(settings: Settings) -> VectorStore:
    """The embedded engine under `vector_dir` unless a Qdrant server is configured."""
    dim = settings.embeddings.dim
    if settings.qdrant_url:
        return QdrantServerStore.connect(
            settings.qdrant_url, settings.qdrant_api_key, settings.retrieval.collection, dim
        )
    return EdgeStore(settings.vector_dir, dim)
