"""Prep from invitations: an interview (or assessment) email makes one mock interview for that company
and role, with the latest resume and a job description, linked from its todo and reminded of; re-syncs
make none; the prep starts like any interview. The mail and postings are written here, for these tests."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocki.core.db import session_scope
from mocki.core.timeutil import utcnow
from mocki.models.tracker import Email, Todo
from mocki.retrieval.embeddings import make_embedder
from mocki.settings import Settings
from mocki.tracker import pipeline, reminders
from mocki.tracker.classifier import load_model
from tests.integration.interviews.helpers import done, paste, seed, turn
from tests.integration.tracker.conftest import API, wait_sync
from tests.support.processes import Child
from tests.unit.tracker.mails import mbox

BACKENDS = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)
INTERVIEWS = "/api/v1/interviews"

RESUME = """Riley Chen - Platform Engineer
- Ran Kubernetes clusters on AWS for 40 services with Terraform
- Built CI/CD pipelines in GitHub Actions and cut deploy time by half
- Wrote Go and Python tooling for on-call engineers
"""
PLATFORM_JOB = {
    "title": "Platform Engineer",
    "company": "Northwind Labs",
    "location": "Lisbon",
    "description": "Own our Kubernetes platform, Terraform modules and the paved road every team ships on.",
    "url": "https://careers.northwind.example/platform",
    "skills": ["Kubernetes", "Terraform", "AWS"],
}


def letter(subject: str, body: str, *, sent: datetime, message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Northwind Labs Talent <talent@northwind.example>"
    msg["To"] = "riley@example.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = f"<{message_id}@test.example>"
    msg.set_content(body)
    return bytes(msg)


def invitation(when: datetime, sent: datetime) -> bytes:
    day = f"{when:%A}, {when:%B} {when.day}, {when.year} at 2:00 PM UTC"
    return letter(
        "Interview invitation - Platform Engineer",
        "Hi Riley,\n\nWe were impressed by your application and would like to invite you to an interview for "
        f"the Platform Engineer position at Northwind Labs. Your interview is confirmed for {day} over Zoom: "
        "https://northwind.zoom.example/j/987654\n\nThe Northwind Labs Talent Team",
        sent=sent,
        message_id=f"northwind-interview-{uuid.uuid4().hex[:6]}",
    )


@pytest.fixture
async def status_model(settings: Settings, model_dir: Path) -> None:
    """The email status model trained here, once per session, into the worker's data directory: a
    worker training it while its task is redelivered every few seconds trains it over and over."""
    embedder = make_embedder(settings, inline=True)
    try:
        await load_model(settings.model_copy(update={"data_dir": model_dir}), embedder)
    finally:
        await embedder.aclose()


async def _upload(client: httpx.AsyncClient, auth: dict[str, str], name: str, data: bytes) -> dict[str, Any]:
    resp = await client.post(f"{API}/uploads", headers=auth, files={"file": (name, data, "text/plain")})
    assert resp.status_code == 202, resp.text
    return await wait_sync(client, auth, resp.json()["id"])


@pytest.mark.slow
async def test_an_invitation_makes_one_prep_with_todo_and_reminders_and_it_starts(
    app: Any,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    status_model: None,
    tracker_worker: Child,
    llm_server: str,
) -> None:
    await seed(app)
    resume_id = await paste(client, auth, "resume", RESUME)
    catalogue = json.dumps(PLATFORM_JOB) + "\n" + json.dumps({"title": "Chef", "company": "Northwind Labs"})
    resp = await client.post(
        f"{API}/jobs/import", headers=auth, files={"file": ("jobs.jsonl", catalogue.encode(), "text/plain")}
    )
    assert resp.status_code == 202, resp.text

    now = utcnow().replace(microsecond=0)
    when = (now + timedelta(days=3)).replace(hour=14, minute=0, second=0)
    mailbox = mbox(invitation(when, now - timedelta(hours=2)))
    sync = await _upload(client, auth, "northwind.mbox", mailbox)
    assert (sync["status"], sync["analysed"]) == ("done", 1), sync

    apps = (await client.get(f"{API}/applications", headers=auth)).json()
    assert [(a["company"], a["position"], a["status"]) for a in apps] == [
        ("Northwind Labs", "Platform Engineer", "interview")
    ]
    prep_id = apps[0]["prep_interview_id"]
    assert prep_id is not None

    interview = (await client.get(f"{INTERVIEWS}/{prep_id}", headers=auth)).json()
    assert (interview["company"], interview["target_role"], interview["status"]) == (
        "Northwind Labs",
        "Platform Engineer",
        "created",
    )
    assert interview["resume_id"] == resume_id
    jd = (await client.get(f"/api/v1/documents/{interview['job_description_id']}/text", headers=auth)).json()
    assert jd["text"].startswith("Platform Engineer at Northwind Labs") and "paved road" in jd["text"]

    todos = (await client.get(f"{API}/todos", headers=auth)).json()
    assert len(todos) == 1, todos
    todo = todos[0]
    assert (todo["kind"], todo["interview_id"], todo["application_id"]) == (
        "interview",
        prep_id,
        apps[0]["id"],
    )
    assert todo["title"] == (
        f"Prepare for your interview at Northwind Labs (Platform Engineer) on {when:%a %d %b %Y, %H:%M UTC}"
    )
    assert datetime.fromisoformat(todo["due_at"]) == when

    # The interview date gets both reminders, and each names the prep interview.
    async with session_scope(app.state.sessionmaker) as session:
        day_before = await reminders.due(session, when - timedelta(hours=2))
        hour_before = await reminders.due(session, when - timedelta(minutes=30))
        row = await session.get(Todo, uuid.UUID(todo["id"]))
        assert row is not None
        text = reminders.compose(app.state.settings.tracker, "riley@example.com", row, "1h", "t" * 32)
    assert [(str(d.todo_id), d.kind) for d in day_before] == [(todo["id"], "24h")]
    assert [(str(d.todo_id), d.kind) for d in hour_before] == [(todo["id"], "1h")]
    assert f"/interviews/{prep_id}" in text.get_content()

    # A re-sync of the same mail (and the same invitation alone, as .eml) makes nothing new.
    again = await _upload(client, auth, "northwind-2.mbox", mailbox)
    assert (again["stored"], again["duplicates"]) == (0, 1), again
    listed = (await client.get(INTERVIEWS, headers=auth)).json()
    assert [i["id"] for i in listed] == [prep_id]
    assert len((await client.get(f"{API}/todos", headers=auth)).json()) == 1

    resp = await client.post(f"{API}/applications/{apps[0]['id']}/prep", headers=auth)
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"]["details"] == {"interview_id": prep_id}

    resp, events = await turn(client, auth, prep_id)
    assert resp.status_code == 200, resp.text
    opening = done(events)["turn"]
    assert opening["speaker"] == "interviewer" and opening["text"]
    assert (await client.get(f"{INTERVIEWS}/{prep_id}", headers=auth)).json()["status"] == "active"


async def _email(app: Any, owner: uuid.UUID, body: str, days_ago: float) -> uuid.UUID:
    email_id, now = uuid.uuid4(), utcnow()
    async with session_scope(app.state.sessionmaker) as session:
        session.add(
            Email(
                id=email_id, owner_id=owner, message_key=uuid.uuid4().hex, thread_key=uuid.uuid4().hex,
                subject="Next steps", sent_at=now - timedelta(days=days_ago), body=body, links=[], defects=[],
                created_at=now,
            )
        )  # fmt: skip
    return email_id


async def _analyse(app: Any, email_id: uuid.UUID, analysis: dict[str, Any]) -> int:
    async with session_scope(app.state.sessionmaker) as session:
        return await pipeline.save_analyses(session, None, [(email_id, analysis)], [], None)


ASSESSMENT_BODY = """Hello,

As the next step for the Data Engineer role at Brightpath, please complete our online assessment within
five days.

About the role
You will build batch and streaming pipelines on Spark and Airflow, model data in our warehouse, and work
with analysts to make trustworthy dashboards. You know SQL well, have shipped Python in production and
care about data quality checks and lineage.

Best,
Brightpath Hiring
"""


@BACKENDS
async def test_prep_from_the_email_job_description_once_and_on_demand(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    owner = uuid.UUID((await client.get("/api/v1/users/me", headers=auth)).json()["id"])
    deadline = (utcnow() + timedelta(days=4)).replace(microsecond=0)
    assessment = {
        "status": "assessment", "company": "Brightpath", "position": "Data Engineer",
        "deadline_at": deadline.isoformat(), "links": [],
    }  # fmt: skip
    assert await _analyse(app, await _email(app, owner, ASSESSMENT_BODY, 2), assessment) == 1
    apps = (await client.get(f"{API}/applications", headers=auth)).json()
    prep_id = apps[0]["prep_interview_id"]
    interview = (await client.get(f"{INTERVIEWS}/{prep_id}", headers=auth)).json()
    assert (interview["kind"], interview["resume_id"], interview["target_role"]) == (
        "technical",
        None,
        "Data Engineer",
    )
    jd = (await client.get(f"/api/v1/documents/{interview['job_description_id']}/text", headers=auth)).json()
    assert (
        jd["text"].startswith("About the role")
        and "Airflow" in jd["text"]
        and "Brightpath Hiring" not in jd["text"]
    )

    # The interview invitation that follows reuses the open prep; its todo links to it too.
    interview_email = {
        **assessment,
        "status": "interview",
        "interview_at": (deadline + timedelta(days=3)).isoformat(),
    }
    assert await _analyse(app, await _email(app, owner, "See you then.", 1), interview_email) == 1
    assert [i["id"] for i in (await client.get(INTERVIEWS, headers=auth)).json()] == [prep_id]
    todos = (await client.get(f"{API}/todos", headers=auth)).json()
    assert sorted((t["kind"], t["interview_id"]) for t in todos) == [
        ("assessment", prep_id),
        ("interview", prep_id),
    ]

    # On demand: a hand-made application gets one, once; a missing one is 404.
    resp = await client.post(
        f"{API}/applications", headers=auth, json={"company": "Fernway", "position": "QA Engineer"}
    )
    app_id = resp.json()["id"]
    resp = await client.post(f"{API}/applications/{app_id}/prep", headers=auth)
    assert resp.status_code == 201, resp.text
    made = resp.json()["interview_id"]
    detail = (await client.get(f"{API}/applications/{app_id}", headers=auth)).json()
    assert detail["prep_interview_id"] == made
    again = await client.post(f"{API}/applications/{app_id}/prep", headers=auth)
    assert (again.status_code, again.json()["error"]["details"]) == (409, {"interview_id": made})
    missing = await client.post(f"{API}/applications/{uuid.uuid4()}/prep", headers=auth)
    assert missing.status_code == 404
