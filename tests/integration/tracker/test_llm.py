"""The LLM path against the real packaged model server, and the concurrency cap on real Redis."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from mocki.retrieval.embeddings import make_embedder
from mocki.settings import Settings
from mocki.tracker.analysis import Analyzer, MailInput
from mocki.tracker.classifier import STATUSES
from mocki.tracker.llm import StructuredLLM, llm_slot
from mocki.tracker.parsing import parse_message
from tests.integration.tracker import letters


@pytest.mark.slow
async def test_structured_output_from_the_local_model_server(llm_server: str, settings: Settings) -> None:
    """llama-cpp-python refuses `json_schema`; the client falls back to `json_object` + schema, and the
    grammar-constrained reply validates."""
    llm = StructuredLLM(llm_server, "local", "local", timeout_s=120)
    embedder = make_embedder(settings, inline=True)
    try:
        reply = await llm.read(
            "Interview invitation", "Acme <hr@acme.example>", None, "We would like to interview you."
        )
        assert reply.view is not None, reply.usage.error
        assert reply.view.status in STATUSES
        assert reply.usage.latency_s > 0 and reply.usage.error is None
        analyzer = Analyzer(settings, embedder, llm=llm, mode="always")
        item = MailInput(
            "Thank you for applying to Acme", "Acme Careers", "careers@acme.example", None, "We got it."
        )
        results, usages = await analyzer.analyse([item])
        assert len(usages) == 1 and results[0].source == "llm"
    finally:
        await llm.aclose()
        await embedder.aclose()


async def test_unreachable_endpoint_keeps_the_offline_analysis(settings: Settings) -> None:
    llm = StructuredLLM("http://127.0.0.1:9/v1", "x", "x", timeout_s=5)
    embedder = make_embedder(settings, inline=True)
    try:
        analyzer = Analyzer(settings, embedder, llm=llm, mode="always")
        parsed = parse_message(letters.BRIGHTPATH_ASSESSMENT)
        links = [link.as_dict() for link in parsed.links]
        item = MailInput(
            parsed.subject, parsed.sender_name, parsed.sender_address, parsed.sent_at, parsed.body, links
        )
        results, usages = await analyzer.analyse([item, item])
        assert [r.source for r in results] == ["model", "model"]
        assert results[0].status == "assessment" and results[0].company == "Brightpath"
        assert all(u.error for u in usages)
    finally:
        await llm.aclose()
        await embedder.aclose()


async def test_llm_slots_are_capped_across_clients(settings: Settings) -> None:
    key = "mocki:test:tracker-slots"
    clients = [Redis.from_url(settings.resolved_redis_url) for _ in range(3)]
    await clients[0].delete(key)
    inside = peak = 0

    async def call(redis: Redis[bytes]) -> None:
        nonlocal inside, peak
        async with llm_slot(redis, 3, key=key, wait_s=30):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.05)
            inside -= 1

    try:
        await asyncio.gather(*(call(clients[i % 3]) for i in range(24)))
        assert peak == 3
        assert await clients[0].zcard(key) == 0
    finally:
        for client in clients:
            await client.aclose()  # type: ignore[attr-defined]


async def test_a_dead_holder_frees_its_slot_after_the_lease(settings: Settings) -> None:
    key = "mocki:test:tracker-lease"
    redis: Redis[bytes] = Redis.from_url(settings.resolved_redis_url)
    try:
        await redis.delete(key)
        # A holder that vanished without releasing, an hour ago.
        await redis.zadd(key, {"dead-worker": 1.0})
        async with llm_slot(redis, 1, key=key, lease_s=60, wait_s=5):
            assert await redis.zcard(key) == 1
    finally:
        await redis.aclose()  # type: ignore[attr-defined]
