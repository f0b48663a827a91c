"""Key rotation: a new key version, then every stored wrapped data key re-wrapped onto it.

Only the wrapped data key of each envelope changes; the ciphertext is never decrypted. Each row
is written with a compare-and-set on its old value, so a row re-sealed meanwhile by the running
app (whose provider already wraps with the new version) is left as the app wrote it. Until the
re-wrap is done, old versions keep unwrapping: nothing stops while it runs.

Covered: the tracker's sealed mail credentials (tracker/crypto.py), every document's data key and
the upload keys not used yet (documents/sealing.py; a used upload key's data key lives on as its
document's, which is re-wrapped there).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from mocki.documents import sealing
from mocki.models.document import Document, UploadKey
from mocki.models.tracker import MailAccount
from mocki.security import audit, envelope
from mocki.security.keys import KeyProvider, KeyProviderError, key_provider
from mocki.settings import Settings

BATCH = 200


@dataclass
class RewrapReport:
    version: int
    rewrapped: int = 0
    already_current: int = 0
    # Rows in the first, app-secret format: no data key to re-wrap; sealed anew on next save.
    legacy: int = 0
    # Rows re-sealed by the app while this ran (their new value is already current).
    changed_meanwhile: int = 0
    # Envelopes whose data key did not unwrap (another provider, a version no longer there).
    failed: int = 0
    # Of `rewrapped`: documents' data keys and unused browser upload keys.
    documents: int = 0
    upload_keys: int = 0


async def rotate(settings: Settings, engine: AsyncEngine, *, new_version: bool = True) -> RewrapReport:
    provider = key_provider(settings)
    version = await asyncio.to_thread(provider.rotate if new_version else provider.current_version)
    report = RewrapReport(version=version)
    await rewrap_tracker_credentials(engine, provider, report)
    report.documents = await rewrap_data_keys(engine, provider, report, Document)
    report.upload_keys = await rewrap_data_keys(engine, provider, report, UploadKey)
    await _audit(engine, settings, report, new_version)
    return report


async def _audit(engine: AsyncEngine, settings: Settings, report: RewrapReport, new_version: bool) -> None:
    async with AsyncSession(engine) as session:
        audit.record(
            session,
            None,  # the operator at the command line, not an account
            audit.KEYS_ROTATED,
            target_type="key",
            target_id=f"{settings.keys.provider}:v{report.version}",
            meta={"new_version": new_version, **asdict(report)},
        )
        await session.commit()


async def rewrap_tracker_credentials(
    engine: AsyncEngine, provider: KeyProvider, report: RewrapReport
) -> None:
    after: uuid.UUID | None = None
    while True:
        stmt = select(MailAccount.id, MailAccount.credentials).where(MailAccount.credentials.is_not(None))
        if after is not None:
            stmt = stmt.where(MailAccount.id > after)
        async with engine.begin() as conn:
            rows = (await conn.execute(stmt.order_by(MailAccount.id).limit(BATCH))).all()
            for account_id, blob in rows:
                new_blob = (
                    None if blob is None else await asyncio.to_thread(_rewrapped, provider, blob, report)
                )
                if new_blob is None:
                    continue
                cas = update(MailAccount).where(MailAccount.id == account_id, MailAccount.credentials == blob)
                result = await conn.execute(cas.values(credentials=new_blob))
                if result.rowcount == 1:
                    report.rewrapped += 1
                else:
                    report.changed_meanwhile += 1
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


def _rewrapped(provider: KeyProvider, blob: bytes, report: RewrapReport) -> bytes | None:
    if not envelope.is_envelope(blob):
        report.legacy += 1
        return None
    try:
        sealed = envelope.unpack(blob)
        if sealed.wrapped_key.kind == provider.kind and sealed.wrapped_key.version >= report.version:
            report.already_current += 1
            return None
        return envelope.pack(envelope.rewrap(provider, sealed))
    except (envelope.EnvelopeUnreadable, KeyProviderError):
        report.failed += 1
        return None


async def rewrap_data_keys(
    engine: AsyncEngine, provider: KeyProvider, report: RewrapReport, model: Any
) -> int:
    """Re-wrap the `data_key` of every row of `model` (Document, or UploadKey not yet used) whose
    key version is older than the report's; returns how many were re-wrapped."""
    done = 0
    after: uuid.UUID | None = None
    while True:
        stmt = select(model.id, model.data_key).where(
            model.data_key.is_not(None), model.key_version < report.version
        )
        if model is UploadKey:
            stmt = stmt.where(UploadKey.used_at.is_(None))
        if after is not None:
            stmt = stmt.where(model.id > after)
        async with engine.begin() as conn:
            rows = (await conn.execute(stmt.order_by(model.id).limit(BATCH))).all()
            for row_id, blob in rows:
                rewrapped = await asyncio.to_thread(_rewrapped_data_key, provider, blob, report)
                if rewrapped is None:
                    continue
                new_blob, version = rewrapped
                cas = update(model).where(model.id == row_id, model.data_key == blob)
                result = await conn.execute(cas.values(data_key=new_blob, key_version=version))
                if result.rowcount == 1:
                    report.rewrapped += 1
                    done += 1
                else:
                    report.changed_meanwhile += 1
        if len(rows) < BATCH:
            return done
        after = rows[-1][0]


def _rewrapped_data_key(provider: KeyProvider, blob: bytes, report: RewrapReport) -> tuple[bytes, int] | None:
    try:
        wrapped = sealing.unpack_wrapped(blob)
        if wrapped.kind == provider.kind and wrapped.version >= report.version:
            report.already_current += 1
            return None
        new = provider.rewrap(wrapped)
        return sealing.pack_wrapped(new), new.version
    except (sealing.SealedUnreadable, KeyProviderError):
        report.failed += 1
        return None
