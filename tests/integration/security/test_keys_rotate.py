"""`mocki keys rotate` on a real database: every sealed credential re-wrapped, none decrypted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from subprocess import PIPE

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from mocki.core.db import make_engine, make_sessionmaker
from mocki.models.tracker import MailAccount
from mocki.security import envelope
from mocki.security.rotation import rotate
from mocki.settings import Settings
from mocki.tracker import crypto
from mocki.users.service import create_user
from tests.conftest import _empty_tables_async, process_env
from tests.support.processes import PYTHON


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(settings.resolved_database_url)
    yield engine
    await engine.dispose()
    await _empty_tables_async(settings.resolved_database_url)


async def _accounts(settings: Settings, engine: AsyncEngine) -> dict[str, uuid.UUID]:
    """One account sealed in the envelope format, one in the old app-secret format, one revoked."""
    ids = {name: uuid.uuid4() for name in ("envelope", "legacy", "revoked")}
    blobs = {
        "envelope": crypto.seal(settings, b"password-envelope", str(ids["envelope"])),
        "legacy": crypto._seal_v1(settings.secret_key, b"password-legacy", str(ids["legacy"])),
        "revoked": None,
    }
    async with make_sessionmaker(engine)() as session, session.begin():
        user = await create_user(session, f"keys-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery")
        for name, account_id in ids.items():
            session.add(MailAccount(id=account_id, owner_id=user.id, kind="imap", credentials=blobs[name]))
    return ids


async def _blobs(engine: AsyncEngine, ids: dict[str, uuid.UUID]) -> dict[str, bytes | None]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(MailAccount.id, MailAccount.credentials))).all()
    by_id = dict(rows)
    return {name: by_id[account_id] for name, account_id in ids.items()}


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)
async def test_rotate_rewraps_without_touching_the_ciphertext(
    settings: Settings, engine: AsyncEngine
) -> None:
    ids = await _accounts(settings, engine)
    before = await _blobs(engine, ids)
    old = envelope.unpack(before["envelope"] or b"")

    report = await rotate(settings, engine)

    after = await _blobs(engine, ids)
    new = envelope.unpack(after["envelope"] or b"")
    assert report.version == old.wrapped_key.version + 1 == new.wrapped_key.version
    assert (report.rewrapped, report.legacy, report.failed) == (1, 1, 0)
    assert (new.nonce, new.ciphertext) == (old.nonce, old.ciphertext)
    assert new.wrapped_key.blob != old.wrapped_key.blob
    assert after["legacy"] == before["legacy"] and after["revoked"] is None
    assert crypto.unseal(settings, after["envelope"] or b"", str(ids["envelope"])) == b"password-envelope"
    assert crypto.unseal(settings, after["legacy"] or b"", str(ids["legacy"])) == b"password-legacy"
    # The old wrapped key still unwraps: processes holding it are not broken by the rotation.
    assert crypto.unseal(settings, before["envelope"] or b"", str(ids["envelope"])) == b"password-envelope"

    again = await rotate(settings, engine, new_version=False)
    assert (again.version, again.rewrapped, again.already_current) == (report.version, 0, 1)


async def test_the_cli_rotates_the_key_file_and_rewraps(settings: Settings, engine: AsyncEngine) -> None:
    ids = await _accounts(settings, engine)
    old = envelope.unpack((await _blobs(engine, ids))["envelope"] or b"")
    proc = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "mocki.cli", "keys", "rotate", env=process_env(settings), stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert b"1 data keys re-wrapped" in out and b"1 in the old app-secret format" in out
    new = envelope.unpack((await _blobs(engine, ids))["envelope"] or b"")
    assert new.wrapped_key.version == old.wrapped_key.version + 1
    assert new.ciphertext == old.ciphertext
    # This process's provider sees the new version written by the CLI without a restart.
    assert crypto.unseal(settings, crypto.seal(settings, b"x", "a"), "a") == b"x"
    assert envelope.unpack(crypto.seal(settings, b"x", "a")).wrapped_key.version == new.wrapped_key.version
