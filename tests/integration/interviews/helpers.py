"""Helpers for the interview tests: seeding, pasted documents, reading Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from mocki.questions import service as questions

URL = "/api/v1/interviews"

RESUME = """Sam Rivera - Backend Engineer
- Built order APIs in Python and FastAPI serving 3 million requests a day
- Moved nightly batch jobs to Celery workers with Redis, cutting run time from 2 hours to 15 minutes
- Tuned PostgreSQL indexes and partitions for the reporting database
- Led the incident review process for a team of six engineers
"""

JOB = """Senior Backend Engineer (Python)
- Design FastAPI services and event pipelines on Kafka
- Scale PostgreSQL with partitioning and read replicas
- Lead incident reviews and mentor engineers
"""

LONG_STAR_ANSWER = (
    "At my previous company our checkout service kept timing out during sales. I was responsible for "
    "fixing it before the next campaign. I profiled the slow PostgreSQL queries, added two indexes and "
    "a Redis cache for the product lookups, and wrote a load test. As a result p99 latency fell from 2 "
    "seconds to 300 ms and we had no incidents during the sale."
)


@dataclass
class Event:
    name: str
    data: Any


def parse_sse(body: str) -> list[Event]:
    events: list[Event] = []
    for block in body.split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").strip())
        if data:
            events.append(Event(name, json.loads("\n".join(data))))
    return events


async def seed(app: Any) -> None:
    async with app.state.sessionmaker() as session:
        await questions.seed_builtin(session)
        await session.commit()


async def paste(client: httpx.AsyncClient, headers: dict[str, str], kind: str, text: str) -> str:
    resp = await client.post(
        "/api/v1/documents/text", headers=headers, json={"kind": kind, "title": kind, "text": text}
    )
    assert resp.status_code == 202, resp.text
    doc_id = str(resp.json()["id"])
    for _ in range(100):
        status = (await client.get(f"/api/v1/documents/{doc_id}", headers=headers)).json()["status"]
        if status == "ready":
            return doc_id
        assert status in ("pending", "processing"), status
        await asyncio.sleep(0.2)
    raise AssertionError("pasted document never became ready")


async def create(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {"target_role": "Backend Engineer", "length": 2, **body}
    resp = await client.post(URL, headers=headers, json=payload)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def turn(
    client: httpx.AsyncClient, headers: dict[str, str], interview_id: str, answer: str | None = None
) -> tuple[httpx.Response, list[Event]]:
    if answer is None:
        resp = await client.post(f"{URL}/{interview_id}/start", headers=headers)
    else:
        resp = await client.post(f"{URL}/{interview_id}/answer", headers=headers, json={"text": answer})
    if resp.status_code != 200:
        return resp, []
    assert resp.headers["content-type"].startswith("text/event-stream")
    return resp, parse_sse(resp.text)


def done(events: list[Event]) -> dict[str, Any]:
    assert events and events[-1].name == "done", [e.name for e in events]
    return dict(events[-1].data)


async def wait_report(
    client: httpx.AsyncClient, headers: dict[str, str], interview_id: str, timeout_s: float = 180
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        resp = await client.get(f"{URL}/{interview_id}/report", headers=headers)
        assert resp.status_code == 200, resp.text
        body = dict(resp.json())
        if body["status"] != "pending":
            return body
        assert loop.time() < deadline, "report still pending"
        await asyncio.sleep(0.5)


def new_id() -> str:
    return str(uuid.uuid4())
