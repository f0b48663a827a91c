"""Uploads of .eml and .mbox files through the api and a real worker; manual edits survive re-syncs."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.tracker import letters
from tests.integration.tracker.conftest import API, wait_sync
from tests.support.processes import Child
from tests.unit.tracker.mails import mbox


async def _upload(client: httpx.AsyncClient, auth: dict[str, str], name: str, data: bytes) -> httpx.Response:
    return await client.post(
        f"{API}/uploads", headers=auth, files={"file": (name, data, "application/octet-stream")}
    )


@pytest.mark.slow
async def test_mbox_upload_then_manual_edits_win_over_a_resync(
    client: httpx.AsyncClient, auth: dict[str, str], tracker_worker: Child
) -> None:
    resp = await _upload(
        client, auth, "jobs.mbox", mbox(letters.ACME_APPLIED, letters.ACME_INTERVIEW, letters.JOB_ALERT)
    )
    assert resp.status_code == 202, resp.text
    sync = await wait_sync(client, auth, resp.json()["id"])
    assert (sync["status"], sync["fetched"], sync["stored"], sync["analysed"]) == ("done", 3, 3, 3), sync

    apps = (await client.get(f"{API}/applications", headers=auth)).json()
    assert [(a["company"], a["status"]) for a in apps] == [("Acme Robotics", "interview")]
    acme = apps[0]

    resp = await client.patch(
        f"{API}/applications/{acme['id']}",
        headers=auth,
        json={"status": "offer", "company": "ACME Robotics Ltd"},
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["status"], resp.json()["company"]) == ("offer", "ACME Robotics Ltd")

    # The same mailbox again plus the rejection: duplicates are dropped, the new email is placed on the
    # same application (matched by what the mail says), and the hand-set fields stay.
    again = mbox(letters.ACME_APPLIED, letters.ACME_INTERVIEW, letters.JOB_ALERT, letters.ACME_REJECTED)
    sync = await wait_sync(client, auth, (await _upload(client, auth, "jobs-2.mbox", again)).json()["id"])
    assert (sync["fetched"], sync["stored"], sync["duplicates"]) == (4, 1, 3), sync
    detail = (await client.get(f"{API}/applications/{acme['id']}", headers=auth)).json()
    assert (detail["status"], detail["extracted_status"], detail["company"]) == (
        "offer",
        "rejected",
        "ACME Robotics Ltd",
    )
    assert [e["kind"] for e in detail["events"]] == ["applied", "interview", "rejected", "manual"]

    # Handing the status back to the emails.
    resp = await client.patch(f"{API}/applications/{acme['id']}", headers=auth, json={"status": None})
    assert resp.json()["status"] == "rejected"

    emails = (await client.get(f"{API}/emails", headers=auth, params={"application": acme["id"]})).json()
    assert len(emails) == 3 and all(e["analysis_status"] == "done" for e in emails)


async def test_bad_uploads_are_refused(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    resp = await _upload(client, auth, "resume.pdf", b"%PDF-1.4 not mail")
    assert resp.status_code == 415
    resp = await _upload(client, auth, "empty.eml", b"   ")
    assert resp.status_code == 422
    resp = await _upload(client, auth, "note.eml", b"no headers in this file at all")
    assert resp.status_code == 415


async def test_manual_application_and_validation(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    resp = await client.post(
        f"{API}/applications",
        headers=auth,
        json={"company": "Fernway", "position": "QA Engineer", "status": "interview"},
    )
    assert resp.status_code == 201, resp.text
    assert (resp.json()["status"], resp.json()["source"], resp.json()["manual"]) == (
        "interview",
        "manual",
        {"status": "interview"},
    )
    resp = await client.post(
        f"{API}/applications", headers=auth, json={"company": "Fernway", "status": "hired"}
    )
    assert resp.status_code == 422
    analytics = (await client.get(f"{API}/analytics", headers=auth)).json()
    assert analytics["pipeline"]["interview"] == 1 and analytics["active"] == 1
