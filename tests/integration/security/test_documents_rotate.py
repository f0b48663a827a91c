"""`mocki keys rotate` re-wraps every document's data key and every unused upload key; nothing is
decrypted, and everything still reads afterwards."""

from __future__ import annotations

import base64
import os
import uuid
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import undefer

from mocki.documents import sealing
from mocki.models import Document
from mocki.models.document import UploadKey
from mocki.security.rotation import rotate
from mocki.settings import Settings

DOCS = "/api/v1/documents"
TEXT = "Dana Okafor\n- Built a streaming pipeline on Apache Kafka\n- Migrated the nightly ETL to Airflow"


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)
async def test_rotate_rewraps_document_and_upload_keys(
    client: httpx.AsyncClient, auth: dict[str, str], app: Any, settings: Settings
) -> None:
    pasted = await client.post(f"{DOCS}/text", headers=auth, json={"kind": "resume", "text": TEXT})
    assert pasted.status_code == 202, pasted.text
    doc_id = uuid.UUID(pasted.json()["id"])
    unused = (await client.post(f"{DOCS}/upload-keys", headers=auth)).json()
    spent = (await client.post(f"{DOCS}/upload-keys", headers=auth)).json()
    iv = os.urandom(12)
    sealed = AESGCM(base64.b64decode(spent["data_key"])).encrypt(iv, TEXT.encode(), spent["key_id"].encode())
    form = {"kind": "resume", "key_id": spent["key_id"], "nonce": base64.b64encode(iv).decode()}
    resp = await client.post(DOCS, headers=auth, files={"file": ("cv.txt", sealed, "text/plain")}, data=form)
    assert resp.status_code == 202, resp.text
    browser_doc = uuid.UUID(resp.json()["id"])

    async def snapshot() -> dict[str, Any]:
        async with app.state.sessionmaker() as session:
            rows = await session.scalars(
                select(Document)
                .where(Document.id.in_([doc_id, browser_doc]))
                .options(undefer(Document.text_sealed))
            )
            docs = {d.id: (d.data_key, d.key_version, d.text_sealed) for d in rows}
            keys = {
                k.id: (k.data_key, k.key_version, k.used_at)
                for k in await session.scalars(
                    select(UploadKey).where(
                        UploadKey.id.in_([uuid.UUID(unused["key_id"]), uuid.UUID(spent["key_id"])])
                    )
                )
            }
        return {"docs": docs, "keys": keys}

    before = await snapshot()
    report = await rotate(settings, app.state.engine)
    after = await snapshot()

    assert report.failed == 0 and report.documents == 2 and report.upload_keys == 1, report
    for doc in (doc_id, browser_doc):
        old_key, old_version, old_text = before["docs"][doc]
        new_key, new_version, new_text = after["docs"][doc]
        assert new_version == report.version and (old_version or 0) < report.version
        assert new_key != old_key
        assert new_text == old_text  # only the wrapped key moved; the text was not re-encrypted
        sealing.cache.clear()  # read through the new wrapped key, not a cached one
        got = await client.get(f"{DOCS}/{doc}/text", headers=auth)
        assert got.status_code == 200 and "Apache Kafka" in got.json()["text"]
    unused_id, spent_id = uuid.UUID(unused["key_id"]), uuid.UUID(spent["key_id"])
    assert (
        after["keys"][unused_id][1] == report.version
        and after["keys"][unused_id][0] != before["keys"][unused_id][0]
    )
    assert after["keys"][spent_id] == before["keys"][spent_id]  # used: left as it was

    # The re-wrapped upload key still opens what the browser encrypts with the key it was given.
    iv = os.urandom(12)
    sealed = AESGCM(base64.b64decode(unused["data_key"])).encrypt(
        iv, TEXT.encode(), unused["key_id"].encode()
    )
    form = {"kind": "resume", "key_id": unused["key_id"], "nonce": base64.b64encode(iv).decode()}
    resp = await client.post(DOCS, headers=auth, files={"file": ("cv.txt", sealed, "text/plain")}, data=form)
    assert resp.status_code == 202, resp.text

    again = await rotate(settings, app.state.engine, new_version=False)
    assert again.rewrapped == 0 and again.failed == 0
