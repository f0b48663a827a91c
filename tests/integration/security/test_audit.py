"""The audit log: sign-ins, password changes, key rotation and mail accounts are recorded with the
actor and address; only administrators read it, page by page."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mocki.core.db import make_engine, make_sessionmaker
from mocki.models import AuditEntry
from mocki.models.tracker import MailAccount
from mocki.security import audit
from mocki.security.rotation import rotate
from mocki.settings import Settings
from mocki.users.service import create_user
from tests.integration.security.conftest import ClientFactory, bearer

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)

PASSWORD = "correct horse battery"
IP = "203.0.113.9"


async def _entries(settings: Settings, **where: Any) -> list[AuditEntry]:
    engine = make_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as conn:
            stmt = select(AuditEntry).filter_by(**where).order_by(AuditEntry.at)
            return [AuditEntry(**row._mapping) for row in (await conn.execute(stmt)).all()]
    finally:
        await engine.dispose()


async def _admin(client: httpx.AsyncClient, app_settings: Settings) -> dict[str, str]:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    engine = make_engine(app_settings.resolved_database_url)
    async with make_sessionmaker(engine)() as session:
        await create_user(session, email, PASSWORD, "Admin", role="admin")
        await session.commit()
    await engine.dispose()
    resp = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return bearer(resp.json())


async def test_sign_ins_and_password_changes_are_recorded(
    open_client: ClientFactory, settings: Settings
) -> None:
    client = await open_client(settings, ip=IP)
    email = f"aud-{uuid.uuid4().hex[:6]}@example.com"
    reg = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    user_id = uuid.UUID((await client.get("/api/v1/users/me", headers=bearer(reg.json()))).json()["id"])

    assert (
        await client.post("/api/v1/auth/login", json={"email": email, "password": "wrong password 1"})
    ).status_code == 401
    unknown = f"nobody-{uuid.uuid4().hex[:6]}@example.com"
    assert (
        await client.post("/api/v1/auth/login", json={"email": unknown, "password": "wrong password 1"})
    ).status_code == 401
    ok = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert ok.status_code == 200
    tokens = ok.json()

    # A weak new password is refused; the right change ends every session at its next refresh.
    weak = await client.post(
        "/api/v1/users/me/password",
        headers=bearer(tokens),
        json={"current_password": PASSWORD, "new_password": "password1"},
    )
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    wrong = await client.post(
        "/api/v1/users/me/password",
        headers=bearer(tokens),
        json={"current_password": "not it at all", "new_password": "a brand new passphrase"},
    )
    assert wrong.status_code == 403
    changed = await client.post(
        "/api/v1/users/me/password",
        headers=bearer(tokens),
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert changed.status_code == 204, changed.text
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    assert (
        await client.post("/api/v1/auth/login", json={"email": email, "password": "a brand new passphrase"})
    ).status_code == 200

    mine = [(e.action, e.ip, e.meta.get("reason")) for e in await _entries(settings, actor_id=user_id)]
    assert mine == [
        (audit.LOGIN_FAILED, IP, "bad_credentials"),
        (audit.LOGIN_SUCCEEDED, IP, None),
        (audit.PASSWORD_CHANGED, IP, None),
        (audit.LOGIN_SUCCEEDED, IP, None),
    ]
    # An unknown email is recorded without an actor, and no entry holds an email or a password.
    failed = await _entries(settings, action=audit.LOGIN_FAILED)
    assert [e.actor_id for e in failed].count(None) == 1
    everything = await _entries(settings)
    assert not [e for e in everything if "@" in str(e.meta) or "passphrase" in str(e.meta)]


async def test_mail_accounts_and_key_rotation_are_recorded(
    open_client: ClientFactory, settings: Settings
) -> None:
    client = await open_client(settings, ip=IP)
    reg = await client.post(
        "/api/v1/auth/register", json={"email": f"m-{uuid.uuid4().hex[:6]}@example.com", "password": PASSWORD}
    )
    headers = bearer(reg.json())
    user_id = uuid.UUID((await client.get("/api/v1/users/me", headers=headers)).json()["id"])
    # An IMAP account as the tracker stores one (connecting needs an IMAP server: tracker tests).
    account_id = uuid.uuid4()
    engine = make_engine(settings.resolved_database_url)
    async with make_sessionmaker(engine)() as session:
        session.add(MailAccount(id=account_id, owner_id=user_id, kind="imap", credentials=None))
        await session.commit()
    resp = await client.post(f"/api/v1/tracker/accounts/{account_id}/revoke", headers=headers)
    assert resp.status_code == 200, resp.text
    resp = await client.delete(f"/api/v1/tracker/accounts/{account_id}", headers=headers)
    assert resp.status_code == 204, resp.text

    report = await rotate(settings, engine)
    await engine.dispose()

    mail = [(e.action, e.target_id, e.ip) for e in await _entries(settings, target_type="mail_account")]
    assert mail == [(audit.MAIL_REVOKED, str(account_id), IP), (audit.MAIL_DELETED, str(account_id), IP)]
    keys = await _entries(settings, action=audit.KEYS_ROTATED)
    assert len(keys) == 1 and keys[0].actor_id is None
    assert keys[0].meta["version"] == report.version and keys[0].meta["failed"] == 0


async def test_only_administrators_read_the_audit_log_in_pages(
    open_client: ClientFactory, settings: Settings
) -> None:
    client = await open_client(settings)
    user = await client.post(
        "/api/v1/auth/register", json={"email": f"u-{uuid.uuid4().hex[:6]}@example.com", "password": PASSWORD}
    )
    assert (await client.get("/api/v1/admin/audit", headers=bearer(user.json()))).status_code == 403
    assert (await client.get("/api/v1/admin/audit")).status_code == 401

    for _ in range(3):
        await client.post(
            "/api/v1/auth/login", json={"email": "ghost@example.com", "password": "wrong password 2"}
        )
    admin = await _admin(client, settings)
    page = await client.get("/api/v1/admin/audit", headers=admin, params={"limit": 2})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 4 and len(body["items"]) == 2  # three failures and the admin's sign-in
    assert body["items"][0]["action"] == audit.LOGIN_SUCCEEDED  # newest first
    rest = await client.get("/api/v1/admin/audit", headers=admin, params={"limit": 2, "offset": 2})
    assert [i["action"] for i in rest.json()["items"]] == [audit.LOGIN_FAILED] * 2
    only = await client.get("/api/v1/admin/audit", headers=admin, params={"action": audit.LOGIN_FAILED})
    assert only.json()["total"] == 3
    assert page.headers["cache-control"] == "no-store"
