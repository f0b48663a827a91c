"""Every route of the api, read from the app itself: no auth → 401, a bad id → 422, a foreign id → 404.

A new endpoint that forgets its auth dependency or its owner filter fails here without anyone
writing a test for it.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from mocki.app import API_PREFIX
from tests.conftest import register
from tests.support.routes import PARAM, SLUG_IDS, body_for, fill, make_objects, routes

PUBLIC = {
    ("GET", f"{API_PREFIX}/health"),
    ("POST", f"{API_PREFIX}/auth/register"),
    ("POST", f"{API_PREFIX}/auth/login"),
    ("POST", f"{API_PREFIX}/auth/refresh"),
    ("POST", f"{API_PREFIX}/auth/logout"),
    ("POST", f"{API_PREFIX}/auth/firebase"),
    # The link in a reminder email works without signing in; its token is the credential.
    ("GET", f"{API_PREFIX}/tracker/reminders/unsubscribe"),
}
# Administrators' routes answer 403 to everybody else, whatever the id (tests/integration/tasks).
ADMIN_PREFIX = f"{API_PREFIX}/admin/"
_routes, _fill = routes, fill


async def test_every_private_route_needs_a_token(app: Any, client: httpx.AsyncClient) -> None:
    routes = [r for r in _routes(app) if r not in PUBLIC]
    assert len(routes) >= 20, routes
    for method, path in routes:
        resp = await client.request(method, _fill(path, str(uuid.uuid4())))
        assert resp.status_code == 401, (method, path, resp.status_code, resp.text)
        assert resp.json()["error"]["code"] == "not_authenticated"


async def test_malformed_ids_are_422_not_500(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for method, path in _routes(app):
        names = set(PARAM.findall(path))
        if not names:
            continue
        resp = await client.request(method, _fill(path, "not-a-uuid"), headers=auth, json={})
        # A slug that names nothing is a 404; a malformed uuid (or body) a 422; never a 500.
        allowed = {404, 422} if names <= SLUG_IDS else {422}
        if path.startswith(ADMIN_PREFIX):
            allowed = {403}
        assert resp.status_code in allowed, (method, path, resp.status_code, resp.text)
        assert "error" in resp.json()


async def test_another_users_objects_answer_404(app: Any, client: httpx.AsyncClient) -> None:
    owner = await register(client)
    stranger = await register(client)
    made = await make_objects(client, owner)

    checked = 0
    for method, path in _routes(app):
        names = PARAM.findall(path)
        if not names or set(names) <= SLUG_IDS or path.startswith(ADMIN_PREFIX):
            continue  # shared catalogues belong to nobody; admin routes refuse users (403)
        assert all(n in made for n in names), f"no object made for {path}; extend this test"
        url = PARAM.sub(lambda m: made[m.group(1)], path)
        body = body_for(path)  # a valid body, so the 404 is what answers
        resp = await client.request(method, url, headers=stranger, json=body)
        assert resp.status_code == 404, (method, path, resp.status_code, resp.text)
        checked += 1
    assert checked >= 10
    # And the owner still has everything: the stranger's calls changed nothing.
    for name, kind in (
        ("document_id", "documents"),
        ("question_id", "questions"),
        ("interview_id", "interviews"),
    ):
        assert (await client.get(f"{API_PREFIX}/{kind}/{made[name]}", headers=owner)).status_code == 200


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"null", b"{", b"\xff\xfe"])
async def test_json_routes_refuse_garbage_bodies(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], body: bytes
) -> None:
    for method, path in _routes(app):
        # Firebase answers 503 here first: it is not configured in this test.
        if method not in {"POST", "PATCH"} or path.endswith("/auth/firebase"):
            continue
        url = _fill(path, str(uuid.uuid4()))
        resp = await client.request(
            method, url, headers={**auth, "Content-Type": "application/json"}, content=body
        )
        assert 400 <= resp.status_code < 500, (method, path, body, resp.status_code, resp.text)
