"""The built-in bank, its idempotent seed and pick_questions on real PostgreSQL and SQLite."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mocki.models import Question
from mocki.questions import service
from mocki.questions.schemas import CATEGORIES, TECHNICAL
from tests.conftest import register
from tests.integration.questions.helpers import API, create, seed, user_id

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)


async def _count_builtin(app: Any) -> tuple[int, int]:
    async with app.state.sessionmaker() as session:
        total = (await session.execute(select(func.count()).where(Question.owner_id.is_(None)))).scalar_one()
        distinct = (
            await session.execute(
                select(func.count(func.distinct(Question.slug))).where(Question.owner_id.is_(None))
            )
        ).scalar_one()
    return int(total), int(distinct)


async def test_seed_is_idempotent(app: Any, client: httpx.AsyncClient) -> None:
    first = await seed(app)
    assert first == len(service.load_builtin_bank())
    assert await _count_builtin(app) == (first, first)

    # An edited built-in is restored by the next seed; nothing is duplicated.
    async with app.state.sessionmaker() as session:
        row = (await session.execute(select(Question).where(Question.slug == "know-big-o"))).scalar_one()
        original = row.text
        row.text = "Tampered text that the seed should put back."
        await session.commit()

    assert await seed(app) == first
    assert await _count_builtin(app) == (first, first)
    async with app.state.sessionmaker() as session:
        row = (await session.execute(select(Question).where(Question.slug == "know-big-o"))).scalar_one()
        assert row.text == original


async def _pick(app: Any, owner: uuid.UUID, **kwargs: Any) -> list[Question]:
    async with app.state.sessionmaker() as session:
        return await service.pick_questions(session, owner, **kwargs)


async def test_pick_by_kind_and_alternation(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    owner = await user_id(client, auth)
    common = {"role": "Backend Engineer", "keywords": ["python", "postgresql", "api"], "n": 8}

    behavioural = await _pick(app, owner, kind="behavioural", **common)
    assert len(behavioural) == 8 and {q.category for q in behavioural} == {"behavioural"}

    technical = await _pick(app, owner, kind="technical", **common)
    assert len(technical) == 8 and {q.category for q in technical} <= set(TECHNICAL)

    mixed = await _pick(app, owner, kind="mixed", **common)
    assert [q.category == "behavioural" for q in mixed] == [True, False] * 4
    assert len({q.id for q in mixed}) == 8

    with pytest.raises(Exception, match="kind"):
        await _pick(app, owner, kind="trivia", **common)
    assert await _pick(app, owner, kind="mixed", role="x", keywords=[], n=0) == []


async def test_pick_is_deterministic_and_honours_exclude(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    owner = await user_id(client, auth)
    args = {"kind": "mixed", "role": "Data Analyst", "keywords": ["sql", "dashboards", "retention"], "n": 6}
    first = [q.id for q in await _pick(app, owner, **args)]
    second = [q.id for q in await _pick(app, owner, **args)]
    assert first == second

    rest = await _pick(app, owner, exclude=set(first[:3]), **args)
    assert not {q.id for q in rest} & set(first[:3])
    assert len(rest) == 6


async def test_pick_ranks_by_keywords_and_role(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    owner = await user_id(client, auth)

    devops = await _pick(
        app, owner, kind="technical", role="Senior SRE", keywords=["Kubernetes", "deployments", "canary"], n=3
    )
    assert devops[0].role == "devops"
    assert all(q.role in {"devops", "any"} for q in devops)

    frontend = await _pick(
        app, owner, kind="technical", role="Frontend Developer", keywords=["react", "rendering", "css"], n=3
    )
    assert all(q.role in {"frontend", "any"} for q in frontend)
    assert "react" in frontend[0].tags

    ml = await _pick(
        app, owner, kind="technical", role="Machine Learning Engineer", keywords=["embeddings"], n=2
    )
    assert all("embeddings" in q.tags for q in ml)


async def test_pick_uses_own_questions_but_never_foreign_ones(app: Any, client: httpx.AsyncClient) -> None:
    await seed(app)
    alice = await register(client)
    bob = await register(client)
    hers = await create(
        client,
        alice,
        category="knowledge",
        text="How would you tune the zorblax cache in our quuxified checkout service?",
        tags=["zorblax", "quux"],
    )
    keywords = ["zorblax", "quux", "checkout"]
    mine = await _pick(
        app, await user_id(client, alice), kind="technical", role="backend", keywords=keywords, n=3
    )
    assert str(mine[0].id) == hers["id"]
    theirs = await _pick(
        app, await user_id(client, bob), kind="technical", role="backend", keywords=keywords, n=50
    )
    assert hers["id"] not in {str(q.id) for q in theirs}


async def test_pick_falls_back_to_other_categories(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    # No built-in bank here: only the user's one behavioural and three coding questions exist.
    owner = await user_id(client, auth)
    await create(client, auth, category="behavioural", text="Tell me about a time you changed your mind.")
    for i in range(3):
        await create(
            client, auth, category="coding", text=f"Coding exercise number {i} for the fallback test."
        )

    behavioural = await _pick(app, owner, kind="behavioural", role="any", keywords=[], n=3)
    assert [q.category for q in behavioural] == ["behavioural", "coding", "coding"]

    mixed = await _pick(app, owner, kind="mixed", role="any", keywords=[], n=10)
    assert [q.category for q in mixed] == ["behavioural", "coding", "coding", "coding"]

    other = await register(client)
    assert await _pick(app, await user_id(client, other), kind="mixed", role="any", keywords=[], n=3) == []


async def test_builtin_and_own_counts_through_api(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    count = await seed(app)
    for category in CATEGORIES:
        page = (await client.get(API, params={"category": category, "scope": "builtin"}, headers=auth)).json()
        assert page["total"] >= 40
    assert (await client.get(API, headers=auth)).json()["total"] == count
