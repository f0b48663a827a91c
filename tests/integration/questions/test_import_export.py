"""JSONL import and export of the question bank over HTTP on real PostgreSQL and SQLite."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mocki.questions.service import MAX_IMPORT_BYTES, MAX_IMPORT_LINES
from tests.conftest import register
from tests.integration.questions.helpers import API, create, sample, seed

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)


def jsonl(*records: Any) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode()


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], data: bytes, name: str = "bank.jsonl"
) -> httpx.Response:
    return await client.post(
        f"{API}/import", files={"file": (name, data, "application/x-ndjson")}, headers=headers
    )


async def test_import_reports_bad_lines_and_keeps_good_ones(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    data = jsonl(
        sample(slug="good-one"),
        "{this is not json",
        sample(slug="bad-category", category="trivia"),
        "",  # blank lines are skipped but still counted
        sample(slug="good-two", category="behavioural", text="Tell me about a hard deadline you met."),
        "[1, 2, 3]",
        sample(slug="good-one", text="A second line reusing the same slug in one file."),
        {"slug": "missing-fields"},
        sample(slug="extra-field", owner_id="someone"),
        sample(slug="bad-difficulty", difficulty=9, tags="a,b"),
    )
    resp = await upload(client, auth, data)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["created"], body["updated"]) == (2, 0)
    by_line = {e["line"]: e["message"] for e in body["errors"]}
    assert sorted(by_line) == [2, 3, 6, 7, 8, 9, 10]
    assert "not valid JSON" in by_line[2]
    assert "category" in by_line[3]
    assert "JSON object" in by_line[6]
    assert "already appeared on line 1" in by_line[7]
    assert "category" in by_line[8] and "text" in by_line[8]
    assert "owner_id" in by_line[9]
    assert "difficulty" in by_line[10] and "tags" in by_line[10]

    listed = (await client.get(API, params={"scope": "mine"}, headers=auth)).json()
    assert sorted(item["slug"] for item in listed["items"]) == ["good-one", "good-two"]


async def test_import_upserts_by_slug_within_own_questions(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    builtin = (await client.get(API, params={"scope": "builtin", "limit": 1}, headers=auth)).json()["items"][
        0
    ]
    first = await upload(client, auth, jsonl(sample(slug="q-1"), sample(slug=builtin["slug"])))
    assert first.json() == {"created": 2, "updated": 0, "errors": []}

    second = await upload(client, auth, jsonl(sample(slug="q-1", difficulty=5), sample(slug="q-2")))
    assert second.json() == {"created": 1, "updated": 1, "errors": []}
    mine = (await client.get(API, params={"scope": "mine"}, headers=auth)).json()
    assert mine["total"] == 3
    assert {i["slug"]: i["difficulty"] for i in mine["items"]}["q-1"] == 5

    # The same slug as a built-in made a private copy; the built-in itself is untouched.
    unchanged = (await client.get(f"{API}/{builtin['id']}", headers=auth)).json()
    assert unchanged == builtin

    # Another user's import with the same slugs creates their own rows.
    other = await register(client)
    assert (await upload(client, other, jsonl(sample(slug="q-1")))).json()["created"] == 1


async def test_export_round_trips_through_import(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    await create(
        client, auth, slug="alpha", tags=["c++", "ci/cd"], text="Unicode survives: naïve café ✓ test."
    )
    await create(client, auth, category="system_design", level="staff", difficulty=5)  # slug generated
    await create(client, auth, category="knowledge", rubric="")

    resp = await client.get(f"{API}/export", params={"scope": "mine"}, headers=auth)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in resp.headers["content-disposition"]
    lines = resp.text.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 3
    assert all(
        set(r) == {"slug", "category", "text", "role", "level", "tags", "difficulty", "rubric"}
        for r in records
    )

    # Re-importing one's own export updates in place: nothing new, nothing lost.
    again = await upload(client, auth, resp.content)
    assert again.json() == {"created": 0, "updated": 3, "errors": []}
    assert (await client.get(API, headers=auth)).json()["total"] == 3

    # Into a fresh account it recreates the same bank, byte for byte per line.
    other = await register(client)
    assert (await upload(client, other, resp.content)).json() == {"created": 3, "updated": 0, "errors": []}
    theirs = await client.get(f"{API}/export", params={"scope": "mine"}, headers=other)
    assert sorted(theirs.text.splitlines()) == sorted(lines)


async def test_export_applies_filters(app: Any, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    count = await seed(app)
    await create(client, auth, category="coding", tags=["mine-only"])
    everything = (await client.get(f"{API}/export", headers=auth)).text.splitlines()
    assert len(everything) == count + 1

    coding = [
        json.loads(x)
        for x in (await client.get(f"{API}/export?category=coding", headers=auth)).text.splitlines()
    ]
    assert coding and all(r["category"] == "coding" for r in coding)
    tagged = (await client.get(f"{API}/export?tag=mine-only", headers=auth)).text.splitlines()
    assert len(tagged) == 1
    assert (await client.get(f"{API}/export?category=bogus", headers=auth)).status_code == 422
    assert (await client.get(f"{API}/export?limit=5", headers=auth)).status_code == 422


async def test_empty_and_non_utf8_files_are_refused(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    empty = await upload(client, auth, b"")
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_file"
    blank = await upload(client, auth, b"\n  \n\n")
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "empty_file"

    latin1 = json.dumps(sample(text="Caf\u00e9 question with a latin-1 byte"), ensure_ascii=False).encode(
        "latin-1"
    )
    bad = await upload(client, auth, latin1)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "not_utf8"
    assert "UTF-8" in bad.json()["error"]["message"]

    binary = await upload(client, auth, bytes(range(256)) * 4, name="image.png")
    assert binary.status_code == 422
    assert (await client.get(API, headers=auth)).json()["total"] == 0


async def test_utf8_bom_and_crlf_are_accepted(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    data = b"\xef\xbb\xbf" + jsonl(sample(slug="bom-1"), sample(slug="bom-2")).replace(b"\n", b"\r\n")
    resp = await upload(client, auth, data)
    assert resp.json() == {"created": 2, "updated": 0, "errors": []}


async def test_oversized_imports_are_413(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    line = json.dumps(sample()) + "\n"
    too_big = (line * (MAX_IMPORT_BYTES // len(line) + 2)).encode()
    assert len(too_big) > MAX_IMPORT_BYTES
    resp = await upload(client, auth, too_big)
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "file_too_large"

    many_lines = b"{}\n" * (MAX_IMPORT_LINES + 1)
    resp = await upload(client, auth, many_lines)
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "too_many_lines"
    assert (await client.get(API, headers=auth)).json()["total"] == 0


async def test_import_at_the_line_limit_works(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    records = [sample(slug=f"bulk-{i}") for i in range(MAX_IMPORT_LINES)]
    resp = await upload(client, auth, jsonl(*records))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"created": MAX_IMPORT_LINES, "updated": 0, "errors": []}
    again = await upload(client, auth, jsonl(*records))
    assert again.json() == {"created": 0, "updated": MAX_IMPORT_LINES, "errors": []}


async def test_import_without_a_file_is_422(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    resp = await client.post(f"{API}/import", data={"nothing": "here"}, headers=auth)
    assert resp.status_code == 422
    resp = await client.post(f"{API}/import", json=sample(), headers=auth)
    assert resp.status_code == 422
