"""The report as a PDF over HTTP: owner only, 409 until ready, and the PDF holds the score and questions.

The report is written in-process with no model (the terminal's path: rule-based advice), so no
worker is needed; the rubric lookup runs against the real seeded question bank.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from mocki.interviews import report, service
from mocki.models import Interview
from tests.conftest import register
from tests.integration.interviews.helpers import URL, create, done, seed, turn

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)

ANSWER = (
    "First I would measure where the time goes, because guessing wastes effort. Then I would add an index "
    "on the filtered columns and cache hot reads in Redis with a 60 second TTL. Um, finally I would watch "
    "p99 latency in Grafana, so the trade-off between freshness and speed stays visible."
)


def _flat(text: str) -> str:
    return " ".join(text.split())


async def test_report_pdf_for_the_owner_once_ready(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    iid = (await create(client, auth, kind="technical", length=1))["id"]
    resp, events = await turn(client, auth, iid)
    assert resp.status_code == 200
    question = done(events)["turn"]["text"]
    resp, _ = await turn(client, auth, iid, ANSWER)
    assert resp.status_code == 200

    async with app.state.sessionmaker() as session:
        owner_id = (await session.get(Interview, uuid.UUID(iid))).owner_id  # type: ignore[union-attr]
        await service.end_interview(session, owner_id, uuid.UUID(iid), None)
        await session.commit()

    pending = await client.get(f"{URL}/{iid}/report.pdf", headers=auth)
    assert pending.status_code == 409 and pending.json()["error"]["code"] == "report_pending"

    async with app.state.sessionmaker() as session:
        await report.generate_report(session, None, uuid.UUID(iid))
        await session.commit()

    body = (await client.get(f"{URL}/{iid}/report", headers=auth)).json()
    assert body["status"] == "ready" and body["signal"] in ("strong_hire", "hire", "lean_no", "no")
    assert body["strengths"] and body["weaknesses"] and body["measures"]["answers"] == len(body["items"])
    first = body["items"][0]
    assert first["question"] == question
    assert first["scores"]["correctness"] is not None  # technical bank question: its rubric was found
    assert first["measures"]["fillers"] >= 1 and first["measures"]["response_s"] is not None
    assert {e["dimension"] for e in first["evidence"]} >= {"structure", "depth"}

    resp = await client.get(f"{URL}/{iid}/report.pdf", headers=auth)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    assert "attachment" in resp.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(resp.content))
    text = _flat(" ".join(page.extract_text() for page in reader.pages))
    assert f"Overall score: {body['overall_score']:.0f}/100" in text
    assert _flat(question) in text

    other = await register(client)
    assert (await client.get(f"{URL}/{iid}/report.pdf", headers=other)).status_code == 404
    assert (await client.get(f"{URL}/{uuid.uuid4()}/report.pdf", headers=auth)).status_code == 404
    assert (await client.get(f"{URL}/{iid}/report.pdf")).status_code == 401


async def test_chinese_report_pdf_keeps_its_chinese_text(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    iid = (await create(client, auth, kind="technical", length=1, language="zh"))["id"]
    await turn(client, auth, iid)
    answer = "我会先测量慢查询，然后加索引，再用 Redis 缓存热点数据，最后在 Grafana 里看 p99 延迟。"
    resp, _ = await turn(client, auth, iid, answer)
    assert resp.status_code == 200
    async with app.state.sessionmaker() as session:
        owner_id = (await session.get(Interview, uuid.UUID(iid))).owner_id  # type: ignore[union-attr]
        await service.end_interview(session, owner_id, uuid.UUID(iid), None)
        await report.generate_report(session, None, uuid.UUID(iid))
        await session.commit()

    resp = await client.get(f"{URL}/{iid}/report.pdf", headers=auth)
    assert resp.status_code == 200
    reader = PdfReader(io.BytesIO(resp.content))
    text = "".join(page.extract_text() for page in reader.pages)
    # The set-up installs a CJK font; without one the glyphs would be folded away.
    assert "缓存热点数据" in text.replace(" ", ""), text[:400]
