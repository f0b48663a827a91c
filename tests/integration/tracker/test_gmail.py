"""Gmail: the OAuth2 web flow through the api and syncs against a local server implementing Google's
endpoints (token, revoke, profile, labels, messages, history). Syncs run in-process through the same
code the Celery tasks run; analysis uses the real classifier."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from mocki.core.db import make_engine, make_sessionmaker
from mocki.retrieval.embeddings import make_embedder
from mocki.settings import Settings
from mocki.tracker.analysis import Analyzer
from mocki.tracker.tasks import analyse_once, sync_once
from tests.integration.tracker import letters
from tests.integration.tracker.conftest import API
from tests.integration.tracker.fake_google import CLIENT_ID, CLIENT_SECRET, FakeGoogle


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as server:
        yield server


@pytest.fixture
def settings(settings: Settings, google: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # oauthlib insists on https for token URLs; the stand-in server is plain http on 127.0.0.1.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    tracker = settings.tracker.model_copy(
        update={
            "google_client_id": CLIENT_ID,
            "google_client_secret": CLIENT_SECRET,
            "google_auth_uri": f"{google.url}/auth",
            "google_token_uri": f"{google.url}/token",
            "google_revoke_uri": f"{google.url}/revoke",
            "gmail_api_url": google.url,
            "google_redirect_uri": "http://127.0.0.1:8000/tracker/gmail/callback",
        }
    )
    return settings.model_copy(update={"tracker": tracker})


async def _run_sync(settings: Settings, sync_id: str) -> dict[str, Any]:
    """What the sync task and the analysis tasks it sends do, in this process."""
    engine = make_engine(settings.resolved_database_url)
    factory = make_sessionmaker(engine)
    sent: list[list[Any]] = []
    embedder = make_embedder(settings, inline=True)
    try:
        result = await sync_once(factory, settings, uuid.UUID(sync_id), lambda _name, args: sent.append(args))
        analyzer = Analyzer(settings, embedder, mode="off")
        for sid, ids in sent:
            await analyse_once(factory, analyzer, uuid.UUID(sid), [uuid.UUID(i) for i in ids])
        return {"result": result, "batches": len(sent)}
    finally:
        await embedder.aclose()
        await engine.dispose()


async def _connect(client: httpx.AsyncClient, auth: dict[str, str], google: FakeGoogle) -> dict[str, Any]:
    resp = await client.post(f"{API}/accounts/gmail/authorize", headers=auth, json={"labels": ["Jobs"]})
    assert resp.status_code == 200, resp.text
    url = urlparse(resp.json()["authorization_url"])
    query = parse_qs(url.query)
    assert url.path == "/auth"
    assert query["client_id"] == [CLIENT_ID] and query["access_type"] == ["offline"]
    assert query["scope"] == ["https://www.googleapis.com/auth/gmail.readonly"]
    assert query["code_challenge_method"] == ["S256"] and query["state"] == [resp.json()["state"]]
    # The person consents; Google sends the browser back to the web app with a code.
    google.mailbox.codes["consented-code"] = "yes"
    callback = {"code": "consented-code", "state": resp.json()["state"]}
    resp = await client.post(f"{API}/accounts/gmail/callback", headers=auth, json=callback)
    assert resp.status_code == 201, resp.text
    account = resp.json()
    assert (account["kind"], account["address"], account["config"]["labels"]) == (
        "gmail",
        "sam@example.com",
        ["Jobs"],
    )
    # The state is single-use.
    replay = await client.post(f"{API}/accounts/gmail/callback", headers=auth, json=callback)
    assert replay.status_code == 422 and replay.json()["error"]["code"] == "oauth_state"
    return dict(account)


@pytest.mark.slow
async def test_gmail_oauth_full_then_incremental_sync(
    client: httpx.AsyncClient, auth: dict[str, str], google: FakeGoogle, settings: Settings
) -> None:
    box = google.mailbox
    box.add(letters.ACME_APPLIED, ["INBOX", "Label_7"])
    box.add(letters.BRIGHTPATH_ASSESSMENT, ["INBOX", "Label_7"])
    box.add(letters.JOB_ALERT, ["INBOX"])  # not under the Jobs label: not read
    account = await _connect(client, auth, google)

    resp = await client.post(f"{API}/accounts/{account['id']}/sync", headers=auth)
    assert resp.status_code == 202
    await _run_sync(settings, resp.json()["id"])
    sync = (await client.get(f"{API}/syncs/{resp.json()['id']}", headers=auth)).json()
    assert (sync["status"], sync["fetched"], sync["stored"], sync["analysed"]) == ("done", 2, 2, 2), sync
    statuses = {
        a["company"]: a["status"] for a in (await client.get(f"{API}/applications", headers=auth)).json()
    }
    assert statuses == {"Acme Robotics": "applied", "Brightpath": "assessment"}

    # New mail, and the access token has expired meanwhile: one refresh, then only the new message.
    box.add(letters.ACME_INTERVIEW, ["INBOX", "Label_7"])
    box.add(letters.JOB_ALERT.replace(b"alert-1", b"alert-2"), ["INBOX"])
    box.access_tokens.clear()
    resp = await client.post(f"{API}/accounts/{account['id']}/sync", headers=auth)
    await _run_sync(settings, resp.json()["id"])
    sync = (await client.get(f"{API}/syncs/{resp.json()['id']}", headers=auth)).json()
    assert (sync["fetched"], sync["stored"]) == (1, 1), sync
    assert box.refreshes == 1
    assert "GET /gmail/v1/users/me/history" in box.calls
    statuses = {
        a["company"]: a["status"] for a in (await client.get(f"{API}/applications", headers=auth)).json()
    }
    assert statuses["Acme Robotics"] == "interview"

    # The stored refresh keeps working: no second refresh on the next sync.
    resp = await client.post(f"{API}/accounts/{account['id']}/sync", headers=auth)
    await _run_sync(settings, resp.json()["id"])
    assert box.refreshes == 1

    # A history id Gmail no longer keeps: everything is listed again, duplicates are dropped.
    box.oldest_history = box.history_id + 1
    resp = await client.post(f"{API}/accounts/{account['id']}/sync", headers=auth)
    await _run_sync(settings, resp.json()["id"])
    sync = (await client.get(f"{API}/syncs/{resp.json()['id']}", headers=auth)).json()
    assert (sync["status"], sync["fetched"], sync["stored"], sync["duplicates"]) == ("done", 3, 0, 3), sync

    # Revoking asks Google to revoke the grant and forgets the tokens.
    resp = await client.post(f"{API}/accounts/{account['id']}/revoke", headers=auth)
    assert resp.json()["status"] == "revoked"
    assert box.revoked and box.revoked[0] in box.refresh_tokens


async def test_bad_code_is_422(client: httpx.AsyncClient, auth: dict[str, str], google: FakeGoogle) -> None:
    resp = await client.post(f"{API}/accounts/gmail/authorize", headers=auth, json={})
    state = resp.json()["state"]
    resp = await client.post(
        f"{API}/accounts/gmail/callback", headers=auth, json={"code": "forged", "state": state}
    )
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "mail_account_unusable"


async def test_state_of_another_user_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], google: FakeGoogle
) -> None:
    from tests.conftest import register

    resp = await client.post(f"{API}/accounts/gmail/authorize", headers=auth, json={})
    google.mailbox.codes["c"] = "yes"
    stranger = await register(client)
    resp = await client.post(
        f"{API}/accounts/gmail/callback", headers=stranger, json={"code": "c", "state": resp.json()["state"]}
    )
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "oauth_state"
