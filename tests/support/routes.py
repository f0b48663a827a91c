"""The api's routes as the app publishes them, and one object of each id kind for tests that call them all.

Shared by tests/integration/test_every_route.py and tests/integration/security/test_authz_matrix.py.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from mocki.app import API_PREFIX

PARAM = re.compile(r"\{(\w+)\}")
# Path parameters that are slugs of a shared catalogue (the coding problems), not owned uuids.
SLUG_IDS = {"problem_id"}
# Routes that take a text body: with a valid one the owner check, not validation, is what answers.
TEXT_BODY_SUFFIXES = ("/answer", "/human-turn", "/notes")


def routes(app: Any) -> list[tuple[str, str]]:
    # The published schema is the list of what clients can call.
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if path.startswith(API_PREFIX)
    ]


def fill(path: str, value: str) -> str:
    return PARAM.sub(value, path)


def body_for(path: str) -> dict[str, Any]:
    return {"text": "An answer long enough to be accepted."} if path.endswith(TEXT_BODY_SUFFIXES) else {}


async def make_objects(client: httpx.AsyncClient, owner: dict[str, str]) -> dict[str, str]:
    """One object of every id kind in the api's paths, owned by `owner`: path parameter -> id."""
    made: dict[str, str] = {}
    doc = await client.post(
        f"{API_PREFIX}/documents/text",
        headers=owner,
        json={
            "kind": "resume",
            "title": "cv",
            "text": "Backend engineer with Python and PostgreSQL experience.",
        },
    )
    made["document_id"] = doc.json()["id"]
    question = await client.post(
        f"{API_PREFIX}/questions",
        headers=owner,
        json={"category": "knowledge", "text": "What does an index do in PostgreSQL?"},
    )
    made["question_id"] = question.json()["id"]
    interview = await client.post(
        f"{API_PREFIX}/interviews", headers=owner, json={"target_role": "Backend Engineer", "length": 2}
    )
    made["interview_id"] = interview.json()["id"]
    upload = await client.post(
        f"{API_PREFIX}/tracker/uploads",
        headers=owner,
        files={"file": ("a.eml", b"From: a@b.example\nSubject: Hi\n\nHello", "message/rfc822")},
    )
    made["sync_id"], made["account_id"] = upload.json()["id"], upload.json()["account_id"]
    application = await client.post(
        f"{API_PREFIX}/tracker/applications", headers=owner, json={"company": "Acme"}
    )
    made["application_id"] = application.json()["id"]
    todo = await client.post(f"{API_PREFIX}/tracker/todos", headers=owner, json={"title": "Send thanks"})
    made["todo_id"] = todo.json()["id"]
    jobs = b'{"title": "QA Engineer", "company": "Acme"}\n'
    imported = await client.post(
        f"{API_PREFIX}/tracker/jobs/import", headers=owner, files={"file": ("jobs.jsonl", jobs, "text/plain")}
    )
    made["import_id"] = imported.json()["id"]
    # No call is opened here (it loads the voice models): a stranger hanging up someone else's
    # live call is checked in tests/integration/voice/test_webrtc.py.
    made["pc_id"] = str(uuid.uuid4())
    return made
