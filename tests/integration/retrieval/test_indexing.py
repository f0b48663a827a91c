"""Index construction end to end: the api queues, a real Celery worker chunks and embeds with the
real model, the api's vector sync replays the outbox into qdrant-edge, and search finds it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select

from mocki.models import QAPair
from tests.conftest import register

pytestmark = pytest.mark.slow

DOCS = "/api/v1/documents"
SEARCH = "/api/v1/retrieval/search"
T = TypeVar("T")

RESUME = """Dana Okafor - Data Engineer
Experience
- Built a streaming pipeline on Apache Kafka and Flink that ingests 40,000 events per second
- Migrated the nightly ETL from cron scripts to Airflow, with retries and alerting
- Cut the warehouse bill by 35 percent by partitioning BigQuery tables by date
Education
- BSc Computer Science, University of Lagos
Volunteering
- Taught a weekend Python course for secondary school students
"""


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, wait_s: float = 120) -> T:
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        value = await probe()
        if value is not None:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)


async def paste(client: httpx.AsyncClient, auth: dict[str, str], text: str, kind: str = "resume") -> str:
    resp = await client.post(f"{DOCS}/text", json={"kind": kind, "title": "t", "text": text}, headers=auth)
    assert resp.status_code == 202, resp.text
    return str(resp.json()["id"])


async def indexed(client: httpx.AsyncClient, auth: dict[str, str], doc_id: str, want: str = "ready") -> Any:
    async def probe() -> Any:
        body = (await client.get(f"{DOCS}/{doc_id}", headers=auth)).json()
        if body["index_status"] in (want, "failed"):
            return body
        return None

    return await eventually(probe, f"document {doc_id} to be indexed")


async def search(client: httpx.AsyncClient, auth: dict[str, str], q: str, *scopes: str, k: int = 5) -> Any:
    params: list[tuple[str, str | int]] = [("q", q), ("k", k), *(("scope", s) for s in scopes)]
    resp = await client.get(SEARCH, params=params, headers=auth)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def found_in(client: httpx.AsyncClient, auth: dict[str, str], q: str, doc_id: str) -> Any:
    async def probe() -> Any:
        hits = await search(client, auth, q, "resume")
        mine = [h for h in hits if h["source"] and h["source"]["document_id"] == doc_id]
        return hits if mine else None

    return await eventually(probe, "the document's pairs to reach the vector store", wait_s=30)


async def test_pasted_resume_is_chunked_embedded_and_found_with_its_lines(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any, app: Any
) -> None:
    doc_id = await paste(client, auth, RESUME)
    doc = await indexed(client, auth, doc_id)
    assert doc["index_status"] == "ready", doc
    assert doc["chunk_count"] >= 1 and doc["pair_count"] >= doc["chunk_count"]

    hits = await found_in(client, auth, "Tell me about the Kafka streaming pipeline you built", doc_id)
    top = hits[0]
    assert top["kind"] == "resume" and top["source"]["document_id"] == doc_id
    assert "Kafka" in top["source"]["text"]
    lines = RESUME.splitlines()
    kafka_line = next(i for i, line in enumerate(lines, start=1) if "Kafka" in line)
    assert top["source"]["start_line"] <= kafka_line <= top["source"]["end_line"]
    assert 0 < top["score"] <= 1 and top["score_query"] > 0 and top["score_answer"] > 0


async def test_one_users_search_never_returns_another_users_chunks(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any
) -> None:
    doc_id = await paste(client, auth, RESUME)
    await indexed(client, auth, doc_id)
    await found_in(client, auth, "Airflow ETL migration", doc_id)

    other = await register(client)
    for mode in ("merged", "query", "answer"):
        resp = await client.get(
            SEARCH, params={"q": "Airflow ETL migration", "mode": mode, "k": 50}, headers=other
        )
        assert resp.status_code == 200 and resp.json() == [], resp.text


async def test_points_carry_ids_owner_and_kind_but_never_text(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any, app: Any
) -> None:
    doc_id = await paste(client, auth, RESUME)
    await indexed(client, auth, doc_id)
    await found_in(client, auth, "BigQuery partitioning", doc_id)
    async with app.state.sessionmaker() as session:
        pairs = list(
            (await session.scalars(select(QAPair).where(QAPair.source_id == uuid.UUID(doc_id)))).all()
        )
    payloads = app.state.retriever.store.payloads([str(p.id) for p in pairs])
    assert len(payloads) == len(pairs) > 0
    for pair in pairs:
        payload = payloads[str(pair.id)]
        assert set(payload) == {"owner", "kind", "source"}
        assert payload["kind"] == "resume" and payload["source"] == doc_id
        assert all(len(v) <= 36 for v in payload.values())  # ids and names, nothing longer


async def test_reindex_replaces_points_and_delete_removes_them(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any, app: Any
) -> None:
    store = app.state.retriever.store
    doc_id = await paste(client, auth, RESUME)
    await indexed(client, auth, doc_id)
    await found_in(client, auth, "weekend Python course", doc_id)
    await app.state.vector_sync.drain()
    before = store.count(source=doc_id)
    assert before > 0

    resp = await client.post(f"{DOCS}/{doc_id}/reindex", headers=auth)
    assert resp.status_code == 202 and resp.json()["index_status"] == "queued"
    await indexed(client, auth, doc_id)
    await app.state.vector_sync.drain()
    async with app.state.sessionmaker() as session:
        ids = set(
            (await session.scalars(select(QAPair.id).where(QAPair.source_id == uuid.UUID(doc_id)))).all()
        )
    assert store.count(source=doc_id) == len(ids)  # the old generation's points are gone
    assert set(store.payloads([str(i) for i in ids])) == {str(i) for i in ids}

    assert (await client.delete(f"{DOCS}/{doc_id}", headers=auth)).status_code == 204
    await app.state.vector_sync.drain()
    assert store.count(source=doc_id) == 0
    assert await search(client, auth, "weekend Python course", "resume") == []


async def test_a_huge_document_fails_indexing_with_a_clear_message(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any
) -> None:
    lines = [
        f"- Project {i}: shipped feature number {i} for customer {i * 7} using service {i % 13}"
        for i in range(1800)
    ]
    doc_id = await paste(client, auth, "\n".join(lines))
    doc = await indexed(client, auth, doc_id)
    assert doc["index_status"] == "failed"
    assert "too long to index" in doc["index_error"] and "limit is 120" in doc["index_error"]
    assert doc["chunk_count"] == 0


async def test_text_in_other_languages_is_indexed_without_a_crash(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any
) -> None:
    text = (
        "王小明 软件工程师\n在阿里巴巴负责支付系统的后端开发工作三年\n"
        "مهندس برمجيات في شركة ناشئة للتقنية المالية\nΈμπειρία με Python και Kubernetes"
    )
    doc_id = await paste(client, auth, text)
    doc = await indexed(client, auth, doc_id)
    assert doc["index_status"] == "ready" and doc["chunk_count"] >= 1
    hits = await found_in(client, auth, "支付系统", doc_id)
    assert hits[0]["source"]["document_id"] == doc_id


async def test_a_new_bank_question_is_embedded_and_searchable(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any
) -> None:
    body = {
        "category": "system_design",
        "text": "How would you design idempotent webhook delivery with retries?",
        "rubric": "Delivery ids, deduplication on the receiver, exponential backoff, a dead-letter queue.",
    }
    resp = await client.post("/api/v1/questions", json=body, headers=auth)
    assert resp.status_code == 201, resp.text
    qid = resp.json()["id"]

    async def probe() -> Any:
        hits = await search(client, auth, "retrying webhooks without duplicates", "question")
        return hits if any(h["question_id"] == qid for h in hits) else None

    hits = await eventually(probe, "the new question to be searchable", wait_s=60)
    assert hits[0]["question_id"] == qid and hits[0]["origin"] == "bank"
    other = await register(client)
    assert all(h["question_id"] != qid for h in await search(client, other, "retrying webhooks", "question"))


async def test_search_rejects_bad_input_with_4xx(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert (await client.get(SEARCH, params={"q": "x", "scope": "poems"}, headers=auth)).status_code == 422
    assert (await client.get(SEARCH, params={"q": ""}, headers=auth)).status_code == 422
    assert (await client.get(SEARCH, params={"q": " "}, headers=auth)).status_code == 422
    assert (await client.get(SEARCH, params={"q": "x" * 2001}, headers=auth)).status_code == 422
    assert (await client.get(SEARCH, params={"q": "x", "k": 0}, headers=auth)).status_code == 422
    assert (await client.get(SEARCH, params={"q": "x"})).status_code == 401
