"""The interviewer picks bank questions by retrieval over the indexed resume and job description,
and every question it asks carries the resume/JD lines it came from."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mocki.retrieval import indexing
from mocki.retrieval.embeddings import make_embedder
from tests.integration.interviews.helpers import URL, create, done, paste, seed, turn
from tests.integration.retrieval.test_indexing import indexed

pytestmark = pytest.mark.slow

RESUME = """Priya Natarajan - Site Reliability Engineer
- Ran the on-call rotation for a payments platform and wrote the incident postmortem template
- Reduced Kubernetes cluster costs by 30 percent with autoscaling and spot instances
- Built Prometheus alerts and Grafana dashboards for service level objectives
"""

JOB = """Senior SRE
- Own incident response and blameless postmortems
- Operate Kubernetes clusters at scale
"""


async def index_bank(app: Any) -> None:
    embedder = make_embedder(app.state.settings, inline=True)
    async with app.state.sessionmaker() as session:
        stale = await indexing.stale_questions(session, embedder, None)
        await indexing.index_questions(session, embedder, app.state.settings, stale)
        await session.commit()
    await embedder.aclose()
    await app.state.vector_sync.drain()


async def test_questions_are_chosen_by_retrieval_and_carry_their_lines(
    client: httpx.AsyncClient, auth: dict[str, str], app: Any, worker: Any
) -> None:
    await seed(app)
    await index_bank(app)
    resume_id = await paste(client, auth, "resume", RESUME)
    job_id = await paste(client, auth, "job_description", JOB)
    for doc_id in (resume_id, job_id):
        assert (await indexed(client, auth, doc_id))["index_status"] == "ready"
    await app.state.vector_sync.drain()

    interview = await create(
        client, auth, target_role="Site Reliability Engineer", resume_id=resume_id, job_description_id=job_id,
        length=3, kind="mixed",
    )  # fmt: skip
    _, events = await turn(client, auth, interview["id"])
    first = done(events)["turn"]
    assert first["provenance"], first

    detail = (await client.get(f"{URL}/{interview['id']}", headers=auth)).json()
    opening = detail["turns"][0]
    prov = opening["provenance"][0]
    assert prov["document_id"] in (resume_id, job_id)
    # Chosen by retrieval: the matching chunk's span and similarity are kept with the line.
    assert prov["chunk_start"] is not None and prov["chunk_start"] <= prov["line"] <= prov["chunk_end"]
    assert 0 < prov["score"] <= 1
    source_text = RESUME if prov["document_id"] == resume_id else JOB
    assert prov["text"] in source_text
