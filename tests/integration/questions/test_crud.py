"""Question bank CRUD, ownership and validation over HTTP on real PostgreSQL and SQLite."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import register
from tests.integration.questions.helpers import API, admin_headers, create, sample, seed

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)


async def test_create_get_patch_delete(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    made = await create(client, auth, tags=["Strings", "strings", "  Two  Words "], role=" Backend ")
    assert made["builtin"] is False
    assert made["tags"] == ["strings", "two words"]  # normalised and de-duplicated
    assert made["role"] == "backend"
    assert made["slug"].startswith("write-a-function-that-reverses")
    assert {"id", "created_at", "rubric", "difficulty", "level", "category", "text"} <= made.keys()

    got = await client.get(f"{API}/{made['id']}", headers=auth)
    assert got.status_code == 200 and got.json() == made

    patched = await client.patch(
        f"{API}/{made['id']}", json={"difficulty": 4, "tags": ["dsa"], "slug": "reverse-words"}, headers=auth
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["difficulty"], body["tags"], body["slug"]) == (4, ["dsa"], "reverse-words")
    assert body["text"] == made["text"]  # untouched fields stay

    assert (await client.delete(f"{API}/{made['id']}", headers=auth)).status_code == 204
    gone = await client.get(f"{API}/{made['id']}", headers=auth)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


async def test_list_filters_pagination_and_total(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    await create(client, auth, category="coding", tags=["graphs", "bfs"], level="senior")
    await create(
        client,
        auth,
        category="knowledge",
        role="frontend",
        tags=["css"],
        text="Explain CSS grid and flexbox.",
    )
    await create(
        client, auth, category="behavioural", role="any", tags=["conflict"], text="Tell me about a conflict."
    )

    everything = (await client.get(API, headers=auth)).json()
    assert everything["total"] == 3 and len(everything["items"]) == 3

    async def ids(**params: Any) -> list[str]:
        resp = await client.get(API, params=params, headers=auth)
        assert resp.status_code == 200, resp.text
        return [item["category"] for item in resp.json()["items"]]

    assert await ids(category="knowledge") == ["knowledge"]
    assert await ids(tag="BFS") == ["coding"]  # tags match case-insensitively
    assert await ids(tag="nope") == []
    assert await ids(role="frontend") == ["knowledge"]
    assert await ids(level="senior") == ["coding"]
    assert await ids(q="CONFLICT") == ["behavioural"]
    assert await ids(q="100%_") == []  # LIKE wildcards are literal

    page = (await client.get(API, params={"limit": 2, "offset": 2}, headers=auth)).json()
    assert page["total"] == 3 and len(page["items"]) == 1


async def test_builtin_questions_are_listed_and_read_only(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    count = await seed(app)
    page = (await client.get(API, params={"scope": "builtin", "limit": 200}, headers=auth)).json()
    assert page["total"] == count
    assert all(item["builtin"] for item in page["items"])
    builtin = page["items"][0]

    assert (await client.get(f"{API}/{builtin['id']}", headers=auth)).status_code == 200
    patch = await client.patch(f"{API}/{builtin['id']}", json={"difficulty": 5}, headers=auth)
    assert patch.status_code == 403 and patch.json()["error"]["code"] == "builtin_read_only"
    delete = await client.delete(f"{API}/{builtin['id']}", headers=auth)
    assert delete.status_code == 403

    mine = await create(client, auth)
    scoped = (await client.get(API, params={"scope": "mine"}, headers=auth)).json()
    assert [item["id"] for item in scoped["items"]] == [mine["id"]]
    # Own questions come before the built-in bank.
    listed = (await client.get(API, params={"limit": 1}, headers=auth)).json()
    assert listed["items"][0]["id"] == mine["id"] and listed["total"] == count + 1


async def test_admin_can_edit_and_delete_builtin(app: Any, client: httpx.AsyncClient) -> None:
    await seed(app)
    admin = await admin_headers(app, client)
    builtin = (await client.get(API, params={"scope": "builtin", "limit": 1}, headers=admin)).json()["items"][
        0
    ]

    patched = await client.patch(f"{API}/{builtin['id']}", json={"rubric": "Updated notes."}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["rubric"] == "Updated notes." and patched.json()["builtin"] is True

    assert (await client.delete(f"{API}/{builtin['id']}", headers=admin)).status_code == 204
    assert (await client.get(f"{API}/{builtin['id']}", headers=admin)).status_code == 404


async def test_other_users_questions_are_invisible(app: Any, client: httpx.AsyncClient) -> None:
    alice = await register(client)
    bob = await register(client)
    admin = await admin_headers(app, client)
    hers = await create(client, alice)

    for headers in (bob, admin):  # not even an admin sees someone else's private question
        assert (await client.get(f"{API}/{hers['id']}", headers=headers)).status_code == 404
        assert (
            await client.patch(f"{API}/{hers['id']}", json={"difficulty": 1}, headers=headers)
        ).status_code == 404
        assert (await client.delete(f"{API}/{hers['id']}", headers=headers)).status_code == 404
        assert (await client.get(API, headers=headers)).json()["total"] == 0
    assert (await client.get(f"{API}/{uuid.uuid4()}", headers=alice)).status_code == 404
    assert (await client.get(f"{API}/{hers['id']}", headers=alice)).status_code == 200


async def test_slug_conflicts_are_per_owner(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    first = await create(client, auth, slug="my-question")
    again = await client.post(API, json=sample(slug="my-question"), headers=auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "slug_taken"

    other = await create(client, auth, slug="other-question")
    clash = await client.patch(f"{API}/{other['id']}", json={"slug": "my-question"}, headers=auth)
    assert clash.status_code == 409
    same = await client.patch(f"{API}/{first['id']}", json={"slug": "my-question"}, headers=auth)
    assert same.status_code == 200

    someone_else = await register(client)
    assert (await client.post(API, json=sample(slug="my-question"), headers=someone_else)).status_code == 201


async def test_requires_authentication(client: httpx.AsyncClient) -> None:
    resp = await client.get(API)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "not_authenticated"
    assert (await client.post(API, json=sample())).status_code == 401


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "trivia"}, "category"),
        ({"category": None}, "category"),
        ({"difficulty": 0}, "difficulty"),
        ({"difficulty": 6}, "difficulty"),
        ({"difficulty": "hard"}, "difficulty"),
        ({"difficulty": 2.5}, "difficulty"),
        ({"difficulty": True}, "difficulty"),
        ({"text": "too short"}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": 12345678901}, "text"),
        ({"tags": "strings,arrays"}, "tags"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"tags": ["x" * 41]}, "tags"),
        ({"tags": ['quote"d']}, "tags"),
        ({"tags": [1, 2]}, "tags"),
        ({"level": "guru"}, "level"),
        ({"role": ""}, "role"),
        ({"slug": "Not A Slug!"}, "slug"),
        ({"owner_id": str(uuid.uuid4())}, "owner_id"),
        ({"builtin": True}, "builtin"),
    ],
)
async def test_bad_create_bodies_are_422(
    client: httpx.AsyncClient, auth: dict[str, str], overrides: dict[str, Any], field: str
) -> None:
    resp = await client.post(API, json=sample(**overrides), headers=auth)
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert err["code"] == "validation_error"
    assert any(field in p["field"] for p in err["details"]), err


async def test_missing_fields_and_non_json_are_422(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    missing = await client.post(API, json={"text": "A question with no category at all."}, headers=auth)
    assert missing.status_code == 422
    assert any(p["field"] == "category" for p in missing.json()["error"]["details"])
    garbage = await client.post(API, content=b"{nope", headers={**auth, "Content-Type": "application/json"})
    assert garbage.status_code == 422
    not_object = await client.post(API, json=["coding"], headers=auth)
    assert not_object.status_code == 422


async def test_bad_patches_are_422(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    made = await create(client, auth)
    url = f"{API}/{made['id']}"
    for body in ({"text": None}, {"category": "nope"}, {"difficulty": 9}, {"owner_id": None}, {"tags": None}):
        resp = await client.patch(url, json=body, headers=auth)
        assert resp.status_code == 422, (body, resp.text)
    assert (await client.get(url, headers=auth)).json() == made  # nothing changed
    assert (await client.patch(f"{API}/not-a-uuid", json={}, headers=auth)).status_code == 422


@pytest.mark.parametrize(
    "params",
    [
        {"category": "trivia"},
        {"level": "guru"},
        {"limit": 0},
        {"limit": 1000},
        {"offset": -1},
        {"limit": "ten"},
        {"scope": "everyone"},
        {"categry": "coding"},  # a typo must not silently return everything
    ],
)
async def test_bad_list_queries_are_422(
    client: httpx.AsyncClient, auth: dict[str, str], params: dict[str, Any]
) -> None:
    resp = await client.get(API, params=params, headers=auth)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "validation_error"
