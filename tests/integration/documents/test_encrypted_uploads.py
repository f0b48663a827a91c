"""Resumes encrypted at rest end to end: browser-encrypted uploads, and a marker planted in a resume
that no database file, table row or vector store file may hold afterwards.

The browser's part is done here with `cryptography` exactly as WebCrypto does it: AES-256-GCM under
the issued key, a 12-byte iv, the key id (lowercase, hyphens) as additional data.
"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from mocki.core.timeutil import utcnow
from mocki.documents import service
from mocki.models import Chunk, Document, QAPair
from mocki.models.document import UploadKey
from mocki.settings import Settings
from tests.conftest import register
from tests.unit.documents.samples import pdf_bytes

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)

DOCS = "/api/v1/documents"
SEARCH = "/api/v1/retrieval/search"

RESUME = """Dana Okafor - Data Engineer
Experience
- Built a streaming pipeline on Apache Kafka and Flink that ingests 40,000 events per second
- Migrated the nightly ETL from cron scripts to Airflow, with retries and alerting
- Cut the warehouse bill by 35 percent by partitioning BigQuery tables by date
Education
- BSc Computer Science, University of Lagos
"""


def marker() -> str:
    return f"ZQX{uuid.uuid4().hex}"


async def issue_key(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    resp = await client.post(f"{DOCS}/upload-keys", headers=auth)
    assert resp.status_code == 201, resp.text
    assert resp.headers["cache-control"] == "no-store"
    body = dict(resp.json())
    assert body["algorithm"] == "AES-256-GCM" and len(base64.b64decode(body["data_key"])) == 32
    return body


def browser_encrypt(key: dict[str, Any], data: bytes, *, nonce: bytes | None = None) -> tuple[bytes, str]:
    iv = nonce if nonce is not None else os.urandom(12)
    sealed = AESGCM(base64.b64decode(key["data_key"])).encrypt(iv, data, key["key_id"].encode())
    return sealed, base64.b64encode(iv).decode()


async def send(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    data: bytes,
    filename: str,
    media_type: str,
    **form: str,
) -> httpx.Response:
    return await client.post(
        DOCS,
        headers=auth,
        files={"file": (filename, data, media_type)},
        data={"kind": "resume", **form},
    )


async def send_encrypted(
    client: httpx.AsyncClient, auth: dict[str, str], data: bytes, filename: str, media_type: str, **form: str
) -> httpx.Response:
    key = await issue_key(client, auth)
    sealed, nonce = browser_encrypt(key, data)
    return await send(client, auth, sealed, filename, media_type, key_id=key["key_id"], nonce=nonce, **form)


async def settled(client: httpx.AsyncClient, auth: dict[str, str], doc_id: str) -> dict[str, Any]:
    """Poll until extraction, indexing and the model's pairs are all done (nothing more will be written)."""
    for _ in range(1200):
        body = dict((await client.get(f"{DOCS}/{doc_id}", headers=auth)).json())
        if body["status"] == "failed" or body["index_status"] == "failed":
            return body
        if body["index_status"] == "ready" and body["index_done"] >= body["chunk_count"]:
            return body
        await asyncio.sleep(0.25)
    pytest.fail(f"document {doc_id} never settled")


def assert_error(resp: httpx.Response, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code, resp.text
    assert resp.json()["error"]["message"]


# --- the contract -----------------------------------------------------------------------------


async def test_browser_encrypted_pdf_is_extracted_read_and_searchable(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any, app: Any
) -> None:
    original = pdf_bytes([RESUME])
    resp = await send_encrypted(client, auth, original, "Dana CV.pdf", "application/pdf")
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["encrypted_upload"] is True and body["size_bytes"] == len(original)
    assert body["filename"] == "Dana CV.pdf" and body["media_type"] == "application/pdf"
    doc = await settled(client, auth, body["id"])
    assert doc["status"] == "ready" and doc["index_status"] == "ready", doc

    got = await client.get(f"{DOCS}/{body['id']}/text", headers=auth)
    assert got.status_code == 200 and "Apache Kafka and Flink" in got.json()["text"]
    await app.state.vector_sync.drain()
    hits = (
        await client.get(SEARCH, params={"q": "Kafka streaming pipeline", "scope": "resume"}, headers=auth)
    ).json()
    assert any(h["source"]["document_id"] == body["id"] and "Kafka" in h["source"]["text"] for h in hits), (
        hits
    )

    plain = await send(client, auth, RESUME.encode(), "plain.txt", "text/plain")
    assert plain.status_code == 202 and plain.json()["encrypted_upload"] is False


async def test_each_bad_encrypted_upload_is_refused_with_its_code(
    client: httpx.AsyncClient, auth: dict[str, str], app: Any
) -> None:
    data = RESUME.encode()

    unknown = {"data_key": base64.b64encode(os.urandom(32)).decode(), "key_id": str(uuid.uuid4())}
    sealed, nonce = browser_encrypt(unknown, data)
    resp = await send(client, auth, sealed, "cv.txt", "text/plain", key_id=unknown["key_id"], nonce=nonce)
    assert_error(resp, 404, "upload_key_unknown")

    key = await issue_key(client, auth)
    sealed, nonce = browser_encrypt(key, data)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    resp = await send(client, auth, tampered, "cv.txt", "text/plain", key_id=key["key_id"], nonce=nonce)
    assert_error(resp, 422, "upload_undecryptable")
    short = base64.b64encode(b"\x00" * 8).decode()
    resp = await send(client, auth, sealed, "cv.txt", "text/plain", key_id=key["key_id"], nonce=short)
    assert_error(resp, 422, "upload_undecryptable")
    wrong_ad = AESGCM(base64.b64decode(key["data_key"])).encrypt(os.urandom(12), data, b"another id")
    resp = await send(client, auth, wrong_ad, "cv.txt", "text/plain", key_id=key["key_id"], nonce=nonce)
    assert_error(resp, 422, "upload_undecryptable")
    resp = await send(client, auth, sealed, "cv.txt", "text/plain", key_id=key["key_id"])
    assert_error(resp, 422, "upload_undecryptable")  # no nonce

    # The failed attempts did not spend the key: the right ciphertext is accepted once, then never.
    ok = await send(client, auth, sealed, "cv.txt", "text/plain", key_id=key["key_id"], nonce=nonce)
    assert ok.status_code == 202, ok.text
    replay = await send(client, auth, sealed, "cv.txt", "text/plain", key_id=key["key_id"], nonce=nonce)
    assert_error(replay, 409, "upload_key_used")

    others = await issue_key(client, await register(client))
    sealed, nonce = browser_encrypt(others, data)
    resp = await send(client, auth, sealed, "cv.txt", "text/plain", key_id=others["key_id"], nonce=nonce)
    assert_error(resp, 404, "upload_key_unknown")

    expired = await issue_key(client, auth)
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(UploadKey)
            .where(UploadKey.id == uuid.UUID(expired["key_id"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    sealed, nonce = browser_encrypt(expired, data)
    resp = await send(client, auth, sealed, "cv.txt", "text/plain", key_id=expired["key_id"], nonce=nonce)
    assert_error(resp, 410, "upload_key_expired")

    # The plaintext is what is checked: an encrypted file of an unsupported type is still refused.
    key = await issue_key(client, auth)
    sealed, nonce = browser_encrypt(key, b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    resp = await send(client, auth, sealed, "cv.png", "image/png", key_id=key["key_id"], nonce=nonce)
    assert resp.status_code in (415, 422), resp.text

    listed = (await client.get(DOCS, headers=auth)).json()
    assert len(listed) == 1  # only the one good upload was stored


@pytest.mark.parametrize("both_checked", [False, True], ids=["gathered", "both-past-the-check"])
async def test_two_uploads_racing_with_one_key_store_one_document(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    app: Any,
    monkeypatch: pytest.MonkeyPatch,
    both_checked: bool,
) -> None:
    key = await issue_key(client, auth)
    if both_checked:
        # Each request waits after its key check until the other has passed it too: then only the
        # compare-and-set on used_at stands between the key and a second upload.
        barrier = asyncio.Barrier(2)
        check = service._usable_upload_key

        async def check_then_wait(*args: Any, **kwargs: Any) -> UploadKey:
            row = await check(*args, **kwargs)
            async with asyncio.timeout(60):  # a hang guard, not a timing assertion
                await barrier.wait()
            return row

        monkeypatch.setattr(service, "_usable_upload_key", check_then_wait)
    texts = [f"{RESUME}\nVariant {variant}" for variant in ("north", "south")]
    uploads = [browser_encrypt(key, text.encode()) for text in texts]
    responses = await asyncio.gather(
        *(
            send(client, auth, sealed, "cv.txt", "text/plain", key_id=key["key_id"], nonce=nonce)
            for sealed, nonce in uploads
        )
    )

    assert sorted(r.status_code for r in responses) == [202, 409], [r.text for r in responses]
    winner = next(i for i, r in enumerate(responses) if r.status_code == 202)
    assert_error(responses[1 - winner], 409, "upload_key_used")
    async with app.state.sessionmaker() as session:
        documents = (await session.scalars(select(Document))).all()
        spent = await session.get(UploadKey, uuid.UUID(key["key_id"]))
    assert [str(d.id) for d in documents] == [responses[winner].json()["id"]]
    assert spent is not None and spent.used_at is not None
    got = await client.get(f"{DOCS}/{responses[winner].json()['id']}/text", headers=auth)
    assert got.status_code == 200 and texts[winner].splitlines()[-1] in got.json()["text"]


async def test_upload_keys_are_stored_wrapped_and_never_returned_twice(
    client: httpx.AsyncClient, auth: dict[str, str], app: Any
) -> None:
    key = await issue_key(client, auth)
    raw = base64.b64decode(key["data_key"])
    async with app.state.sessionmaker() as session:
        row = await session.get(UploadKey, uuid.UUID(key["key_id"]))
        assert row is not None and row.used_at is None
        assert raw not in row.data_key
        assert timedelta(minutes=14) < row.expires_at - row.created_at <= timedelta(minutes=15)
    again = await issue_key(client, auth)
    assert again["key_id"] != key["key_id"] and again["data_key"] != key["data_key"]
    resp = await client.post(f"{DOCS}/upload-keys", headers=auth, json={"key": "mine"})
    assert_error(resp, 422, "unexpected_body")


async def test_account_deletion_removes_the_upload_keys(client: httpx.AsyncClient, app: Any) -> None:
    auth = await register(client)
    other = await register(client)
    mine, theirs = await issue_key(client, auth), await issue_key(client, other)
    resp = await client.request(
        "DELETE", "/api/v1/users/me", headers=auth, json={"password": "correct horse battery"}
    )
    assert resp.status_code == 204, resp.text
    async with app.state.sessionmaker() as session:
        left = set((await session.scalars(select(UploadKey.id))).all())
    assert uuid.UUID(mine["key_id"]) not in left and uuid.UUID(theirs["key_id"]) in left


# --- the marker scan --------------------------------------------------------------------------


def _files_holding(root: Path, needles: list[bytes]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [n.decode() for n in needles if n in data]
            if hits:
                found[str(path)] = hits
    return found


async def _database_holding(app: Any, settings: Settings, needles: list[str]) -> dict[str, list[str]]:
    """Every file of the SQLite database after a checkpoint, or every row of every PostgreSQL table
    as text (bytea is shown as hex there, so the hex form of each needle is searched too)."""
    engine = app.state.engine
    if engine.dialect.name == "sqlite":
        async with engine.connect() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db = Path(make_url(settings.resolved_database_url).database or "")
        found: dict[str, list[str]] = {}
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            if path.exists():
                hits = [n for n in needles if n.encode() in path.read_bytes()]
                if hits:
                    found[str(path)] = hits
        return found
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa_inspect(c).get_table_names())
        found = {}
        for table in tables:
            rows = (await conn.execute(text(f'SELECT t::text FROM "{table}" t'))).scalars().all()
            dump = "\n".join(rows)
            hits = [n for n in needles if n in dump or n.encode().hex() in dump]
            if hits:
                found[table] = hits
        return found


async def test_a_marker_in_a_resume_is_nowhere_at_rest(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any, app: Any, settings: Settings
) -> None:
    secret_pdf, secret_txt, secret_paste, control = marker(), marker(), marker(), marker()
    pdf = pdf_bytes([f"{RESUME}\nReference code {secret_pdf}"])
    encrypted = await send_encrypted(client, auth, pdf, "cv.pdf", "application/pdf")
    assert encrypted.status_code == 202, encrypted.text
    # The control marker goes into the title, which is metadata stored as it is: the scans must see it.
    plain = await send(
        client, auth, f"{RESUME}\nReference code {secret_txt}".encode(), "cv.txt", "text/plain", title=control
    )
    assert plain.status_code == 202, plain.text
    pasted = await client.post(
        f"{DOCS}/text",
        headers=auth,
        json={"kind": "resume", "title": "pasted", "text": f"{RESUME}\nReference code {secret_paste}"},
    )
    assert pasted.status_code == 202, pasted.text
    ids = [encrypted.json()["id"], plain.json()["id"], pasted.json()["id"]]
    for doc_id in ids:
        doc = await settled(client, auth, doc_id)
        assert doc["status"] == "ready" and doc["index_status"] == "ready", doc
    await app.state.vector_sync.drain()

    # The markers are really there for their owner to read...
    for doc_id, secret in zip(ids, (secret_pdf, secret_txt, secret_paste), strict=True):
        got = await client.get(f"{DOCS}/{doc_id}/text", headers=auth)
        assert secret in got.json()["text"]
    hits = (await client.get(SEARCH, params={"q": "Reference code", "scope": "resume"}, headers=auth)).json()
    assert any(secret_txt in h["source"]["text"] for h in hits if h["source"]), hits

    # ... and the rows exist with their sealed text, so an empty scan means sealed, not missing.
    async with app.state.sessionmaker() as session:
        doc_uuids = [uuid.UUID(i) for i in ids]
        chunks = (await session.scalars(select(Chunk).where(Chunk.document_id.in_(doc_uuids)))).all()
        pairs = (await session.scalars(select(QAPair).where(QAPair.document_id.in_(doc_uuids)))).all()
        docs = (await session.scalars(select(Document).where(Document.id.in_(doc_uuids)))).all()
    assert len(chunks) >= 3 and len(pairs) >= 3 and all(d.data_key for d in docs)
    assert all(p.question == "" and p.question_sealed for p in pairs)

    secrets = [secret_pdf, secret_txt, secret_paste]
    in_database = await _database_holding(app, settings, [*secrets, control])
    assert {hit for hits in in_database.values() for hit in hits} == {control}, in_database
    on_disk = _files_holding(settings.data_dir, [s.encode() for s in secrets])
    assert on_disk == {}, on_disk
    # The vector store's files were among those scanned.
    assert any(Path(f).is_relative_to(settings.vector_dir) for f in _files_holding(settings.data_dir, [b""]))
