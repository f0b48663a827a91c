"""Shared helpers for the question-bank tests: admins, seeding and sample questions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from mocki.questions import service
from mocki.users.service import create_user

PASSWORD = "correct horse battery"
API = "/api/v1/questions"


def sample(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "coding",
        "text": "Write a function that reverses the words of a sentence in place.",
        "role": "backend",
        "level": "mid",
        "tags": ["strings", "arrays"],
        "difficulty": 2,
        "rubric": "Two-pass reversal; O(1) extra space; handles repeated spaces.",
    }
    body.update(overrides)
    return body


async def admin_headers(app: Any, client: httpx.AsyncClient) -> dict[str, str]:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    async with app.state.sessionmaker() as session:
        await create_user(session, email, PASSWORD, "Admin", role="admin")
        await session.commit()
    resp = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


async def seed(app: Any) -> int:
    async with app.state.sessionmaker() as session:
        count = await service.seed_builtin(session)
        await session.commit()
    return count


async def user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> uuid.UUID:
    me = await client.get("/api/v1/users/me", headers=headers)
    assert me.status_code == 200, me.text
    return uuid.UUID(me.json()["id"])


async def create(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    resp = await client.post(API, json=sample(**overrides), headers=headers)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body
