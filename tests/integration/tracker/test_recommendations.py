"""The job catalogue and recommendations against the real api, database and (for the vectors) a real
io worker running the packaged embedding model. The postings are written here, for these tests."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from typing import Any

import httpx
import pytest

from mocki.core.errors import Forbidden
from mocki.settings import Settings
from mocki.tracker.jobs_cli import import_file
from tests.conftest import register
from tests.integration.interviews.helpers import paste
from tests.integration.tracker.conftest import API
from tests.support.processes import Child

BACKENDS = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)

RESUME = """Jordan Lee - Backend Engineer
- Built payment APIs in Python and FastAPI handling 2 million requests a day
- Tuned PostgreSQL queries and indexes for the billing database
- Moved reports to Celery workers with Redis queues
- Deployed services with Docker on Kubernetes
"""

BACKEND_JOB = {
    "title": "Senior Backend Engineer",
    "company": "Quillfeather",
    "location": "Remote",
    "description": "Design Python services with FastAPI, scale PostgreSQL, stream events through Kafka.",
    "url": "https://jobs.quillfeather.example/backend-1",
    "skills": ["Python", "FastAPI", "PostgreSQL", "Kafka"],
    "posted_at": "2026-11-01",
}
UNRELATED = [
    {
        "title": "Pastry Chef", "company": "Crumb & Co", "skills": "baking, pastry, food safety",
        "description": "Laminate dough, bake croissants and tarts at dawn, plan seasonal desserts.",
    },
    {
        "title": "Registered Nurse", "company": "Harbor Clinic", "skills": ["patient care", "triage"],
        "description": "Care for patients on a surgical ward, give medication, keep charts.",
    },
    {
        "title": "Long-haul Truck Driver", "company": "Ridgeway Freight", "skills": "CDL, logistics",
        "description": "Drive freight across the country with a class A licence.",
    },
    {
        "title": "Florist", "company": "Petal Lane", "skills": "floral design",
        "description": "Arrange bouquets for weddings, care for cut flowers and serve customers.",
    },
]  # fmt: skip


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


async def _import(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, data: bytes, **form: str
) -> httpx.Response:
    return await client.post(
        f"{API}/jobs/import", headers=auth, files={"file": (name, data, "text/plain")}, data=form
    )


async def wait_import(
    client: httpx.AsyncClient, auth: dict[str, str], import_id: str, within_s: float = 180
) -> dict[str, Any]:
    deadline, body = time.monotonic() + within_s, {}
    while time.monotonic() < deadline:
        body = (await client.get(f"{API}/jobs/imports/{import_id}", headers=auth)).json()
        if body["status"] in ("done", "failed"):
            return dict(body)
        await asyncio.sleep(0.3)
    raise AssertionError(f"import {import_id} not finished after {within_s}s: {body}")


@BACKENDS
async def test_catalogue_import_keeps_good_rows_and_reports_bad_ones(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["title", "company", "location", "description", "url", "skills", "posted_at"])
    writer.writerow(["Data Engineer", "Orbitly", "Berlin", "Pipelines\nin Airflow", "", "Airflow, SQL", ""])
    writer.writerow(["", "Nameless Inc", "", "", "", "", ""])  # line 4: no title
    writer.writerow(["QA Engineer", "Fernway", "", "", "ftp://fernway.example/qa", "", ""])  # line 5
    writer.writerow(["SRE", "Globex", "", "", "https://globex.example/sre", "Linux", "last week"])  # 6
    writer.writerow(["Data Engineer", "Orbitly", "Berlin (hybrid)", "", "", "", ""])  # same company+title
    writer.writerow(
        ["ML Engineer", "Initech", "", "", "https://initech.example/ml/", "PyTorch", "2026-10-02"]
    )
    resp = await _import(client, auth, "postings.csv", out.getvalue().encode())
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert (body["rows"], body["added"], body["duplicates"], body["invalid"]) == (6, 2, 1, 3), body
    assert [(p["line"], p["reason"].split()[0]) for p in body["problems"]] == [
        (4, "title"), (5, "url"), (6, "posted_at"),
    ]  # fmt: skip

    # The same postings as JSONL: known by url (trailing slash aside) or company + title, so nothing new.
    again = jsonl([
        {"title": "ML Engineer", "company": "Initech", "url": "https://initech.example/ml"},
        {"title": "data engineer", "company": "ORBITLY GmbH", "skills": ["Airflow"]},
        {"title": "Backend Engineer", "company": "Initech", "skills": "Go, gRPC"},
    ])  # fmt: skip
    body = (await _import(client, auth, "more.jsonl", again + b"[1, 2]\n{not json\n")).json()
    assert (body["rows"], body["added"], body["duplicates"], body["invalid"]) == (5, 1, 2, 2), body
    assert [p["line"] for p in body["problems"]] == [4, 5]

    jobs = (await client.get(f"{API}/jobs", headers=auth)).json()
    assert sorted((j["company"], j["title"], tuple(j["skills"])) for j in jobs) == [
        ("Initech", "Backend Engineer", ("Go", "gRPC")),
        ("Initech", "ML Engineer", ("PyTorch",)),
        ("Orbitly", "Data Engineer", ("Airflow", "SQL")),
    ]
    # Another user's catalogue is their own.
    other = await register(client)
    assert (await client.get(f"{API}/jobs", headers=other)).json() == []

    assert (await _import(client, auth, "x.csv", b"name,employer\nA,B\n")).status_code == 422
    assert (await _import(client, auth, "x.pdf", b"%PDF-1.4")).status_code == 415
    assert (await _import(client, auth, "x.jsonl", b"   \n")).status_code == 422
    resp = await _import(client, auth, "x.jsonl", jsonl([BACKEND_JOB]), shared="true")
    assert resp.status_code == 403, resp.text


@pytest.mark.slow
async def test_recommendations_rank_the_matching_posting_first_and_skip_applied_ones(
    client: httpx.AsyncClient, auth: dict[str, str], tracker_worker: Child
) -> None:
    resp = await client.get(f"{API}/recommendations", headers=auth)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "resume_required"
    await paste(client, auth, "resume", RESUME)

    resp = await _import(client, auth, "jobs.jsonl", jsonl([*UNRELATED[:2], BACKEND_JOB, *UNRELATED[2:]]))
    assert resp.status_code == 202, resp.text
    done = await wait_import(client, auth, resp.json()["id"])
    assert (done["status"], done["added"], done["embedded"]) == ("done", 5, 5), done

    resp = await client.get(f"{API}/recommendations", headers=auth, params={"limit": 5})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert {"python", "fastapi", "postgresql", "kubernetes"} <= set(body["resume_skills"])
    items = body["items"]
    assert len(items) == 5
    top = items[0]
    assert (top["posting"]["company"], top["posting"]["title"]) == ("Quillfeather", "Senior Backend Engineer")
    assert top["score"] > items[1]["score"] + 0.1, [(i["posting"]["title"], i["score"]) for i in items]
    assert top["matched_skills"] == ["Python", "FastAPI", "PostgreSQL"]
    assert top["missing_skills"] == ["Kafka"]
    assert top["skill_overlap"] == 0.75
    line = top["best_resume_line"]
    assert line["text"] in RESUME and any(w in line["text"] for w in ("Python", "PostgreSQL", "Celery"))
    assert RESUME.splitlines()[line["line"] - 1].endswith(line["text"])
    assert all(i["matched_skills"] == [] for i in items[1:])

    # Applied to (same company and title, spelled as a person would): no longer recommended.
    resp = await client.post(
        f"{API}/applications",
        headers=auth,
        json={"company": "QuillFeather", "position": "Sr. Backend Engineer"},
    )
    assert resp.status_code == 201, resp.text
    items = (await client.get(f"{API}/recommendations", headers=auth)).json()["items"]
    assert [i["posting"]["company"] for i in items] and "Quillfeather" not in {
        i["posting"]["company"] for i in items
    }


async def test_cli_import_stores_and_embeds_in_process(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings
) -> None:
    email = (await client.get("/api/v1/users/me", headers=auth)).json()["email"]
    data = jsonl([BACKEND_JOB, UNRELATED[0]]) + b'{"company": "No Title Ltd"}\n'
    summary = await import_file(settings, "jobs.jsonl", data, email, shared=False)
    assert summary.splitlines() == [
        "3 rows: 2 added (2 embedded), 0 duplicates, 1 refused",
        "  line 3: title is missing",
    ]
    jobs = (await client.get(f"{API}/jobs", headers=auth)).json()
    assert sorted((j["title"], j["embedded"]) for j in jobs) == [
        ("Pastry Chef", True),
        ("Senior Backend Engineer", True),
    ]
    with pytest.raises(Forbidden):
        await import_file(settings, "jobs.jsonl", data, email, shared=True)
