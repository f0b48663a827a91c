"""Documents: accepting uploads and pasted text within the limits, and handing out extracted text.

Other domains use `get_ready_text`, `create_from_text` and `extract_text` from here. PDFs and
Word files are checked cheaply while the user waits and extracted by a cpu worker; plain text
needs no parsing and is finished inline.

Nothing of a document is written in plaintext: the upload and the text are sealed under the
document's own data key (documents/sealing.py) before the row is added. The browser may encrypt
the upload itself under a key from `issue_upload_key`; the server then opens it in memory, checks
it like any upload and keeps that key as the document's.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath
from typing import Protocol

from celery import Celery
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.errors import Conflict, Gone, Invalid, NotFound, TooLarge, Unavailable
from mocki.core.timeutil import as_utc, utcnow
from mocki.documents import repository, sealing
from mocki.documents.extract import DocType, ExtractedText, check_text, extract_text, inspect, normalise
from mocki.documents.schemas import DocumentTextOut
from mocki.models import Document
from mocki.models.document import UploadKey
from mocki.retrieval import indexing
from mocki.security.keys import NONCE_BYTES
from mocki.settings import DocumentLimits, get_settings
from mocki.tasks import routing
from mocki.tasks.names import EXTRACT_DOCUMENT

__all__ = [
    "KINDS",
    "ExtractedText",
    "create_from_text",
    "delete_document",
    "extract_text",
    "get_document",
    "get_ready_text",
    "get_text",
    "list_documents",
    "upload",
]

KINDS = ("resume", "job_description")
_KIND_LABEL = {"resume": "resume", "job_description": "job description"}

# A queued extraction older than this is dropped by the broker instead of running on stale data.
EXTRACT_EXPIRES_S = 3600
# Past this a pending or processing row will never finish (message expired, worker killed):
# say so instead of spinning forever.
STALE_AFTER = timedelta(seconds=EXTRACT_EXPIRES_S + 600)
STALE_MESSAGE = "Text extraction did not finish. Delete this document and upload it again."

# A browser-encrypted upload may be used this long after its key was issued, and only once.
UPLOAD_KEY_TTL = timedelta(minutes=15)
# Keys past their expiry are kept a day (so a late upload hears "expired", not "unknown"), then purged.
UPLOAD_KEY_KEEP = timedelta(days=1)

_READ_CHUNK = 64 * 1024
_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class Readable(Protocol):
    """An uploaded file as FastAPI's UploadFile presents it."""

    async def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class ExtractionJob:
    data: bytes
    filename: str
    media_type: str


def _limits(limits: DocumentLimits | None) -> DocumentLimits:
    return limits if limits is not None else get_settings().documents


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise Invalid(f"Unknown document kind {kind!r}; use one of: {', '.join(KINDS)}.", code="invalid_kind")


def _safe_filename(filename: str) -> str:
    # Browsers on Windows may send the full client path; keep the last component only.
    name = _UNSAFE_NAME_CHARS.sub("", PurePath(filename.replace("\\", "/")).name).strip()
    if len(name) > 300:
        suffix = PurePath(name).suffix[:20]
        name = name[: 300 - len(suffix)] + suffix
    return name


async def read_limited(source: Readable, max_bytes: int) -> bytes:
    """Read at most max_bytes + 1 bytes: enough to tell an oversized upload without holding it."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await source.read(min(_READ_CHUNK, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise TooLarge(
                f"The file is larger than the {max_bytes / 1048576:.0f} MB limit.", code="file_too_large"
            )
        chunks.append(chunk)


async def upload(
    session: AsyncSession,
    celery: Celery,
    owner_id: uuid.UUID,
    *,
    source: Readable,
    filename: str,
    content_type: str,
    kind: str,
    title: str = "",
    limits: DocumentLimits | None = None,
    key_id: uuid.UUID | None = None,
    nonce: str | None = None,
) -> Document:
    """Store an upload after the cheap checks; PDFs and .docx are extracted by a worker afterwards.

    With `key_id` the file is the browser's AES-256-GCM ciphertext (iv `nonce`, associated data the
    key id) under a key from `issue_upload_key`; it is opened in memory and checked like any other."""
    limits = _limits(limits)
    _check_kind(kind)
    upload_key: UploadKey | None = None
    browser_key = b""
    if key_id is None:
        if nonce is not None:
            raise Invalid("A nonce was sent without a key_id.", code="upload_key_missing")
        data = await read_limited(source, limits.max_bytes)
    else:
        upload_key = await _usable_upload_key(session, owner_id, key_id)
        # The size limit is on the plaintext: the ciphertext carries a 16-byte tag more.
        sealed = await read_limited(source, limits.max_bytes + sealing.TAG_BYTES)
        browser_key = await sealing.data_key(upload_key.data_key)
        data = _open_browser_upload(browser_key, key_id, nonce, sealed)
    if not data:
        raise Invalid("The file is empty.", code="empty_file")
    if len(data) > limits.max_bytes:
        raise TooLarge(
            f"The file is larger than the {limits.max_bytes / 1048576:.0f} MB limit.", code="file_too_large"
        )
    filename = _safe_filename(filename)
    # Opening a PDF or .docx costs milliseconds of CPU; keep it off the event loop anyway.
    inspection = await asyncio.to_thread(inspect, data, filename, content_type, limits)
    if upload_key is None:  # a key only for an upload that passed the checks (Transit: an HTTP call)
        key, wrapped_key, key_version = await sealing.fresh_data_key()
    else:
        key, wrapped_key, key_version = browser_key, upload_key.data_key, upload_key.key_version
    document = Document(
        id=uuid.uuid4(),
        owner_id=owner_id,
        kind=kind,
        title=(title.strip() or PurePath(filename).stem or _KIND_LABEL[kind].capitalize())[:300],
        filename=filename,
        media_type=inspection.media_type,
        size_bytes=len(data),
        page_count=inspection.page_count,
        data_key=wrapped_key,
        key_version=key_version,
        encrypted_upload=upload_key is not None,
    )
    if upload_key is not None:
        await _spend_upload_key(session, upload_key)
    if inspection.doc_type is DocType.TEXT:
        extracted = await asyncio.to_thread(extract_text, data, filename, inspection.media_type, limits)
        _mark_ready(document, key, extracted)
        session.add(document)
        await session.flush()
        indexing.queue_document(session, celery, document)
        return document

    document.content = sealing.seal(key, data, sealing.document_ad(document.id, "content"))
    document.status = "pending"
    session.add(document)
    await session.flush()
    document_id = str(document.id)
    routing.send_after_commit(
        session, celery, EXTRACT_DOCUMENT, [document_id], expires=EXTRACT_EXPIRES_S, owner_id=owner_id
    )
    return document


async def create_from_text(
    session: AsyncSession,
    owner_id: uuid.UUID,
    kind: str,
    title: str,
    text: str,
    *,
    celery: Celery | None,
    limits: DocumentLimits | None = None,
) -> Document:
    """A document from pasted text; nothing to parse, so it is ready at once (and then indexed,
    unless `celery` is None: the terminal interview has no workers)."""
    limits = _limits(limits)
    _check_kind(kind)
    cleaned = check_text(await asyncio.to_thread(normalise, text), limits)
    key, wrapped_key, key_version = await sealing.fresh_data_key()
    document = Document(
        id=uuid.uuid4(),
        data_key=wrapped_key,
        key_version=key_version,
        owner_id=owner_id,
        kind=kind,
        title=(title.strip() or f"Pasted {_KIND_LABEL[kind]}")[:300],
        filename="",
        media_type="text/plain",
        size_bytes=len(text.encode("utf-8", "surrogatepass")),
    )
    _mark_ready(document, key, ExtractedText(cleaned, None))
    session.add(document)
    await session.flush()
    if celery is not None:
        indexing.queue_document(session, celery, document)
    return document


def _mark_ready(document: Document, key: bytes, extracted: ExtractedText) -> None:
    document.text_sealed = sealing.seal_text(key, extracted.text, sealing.document_ad(document.id, "text"))
    document.char_count = len(extracted.text)
    if extracted.page_count is not None:
        document.page_count = extracted.page_count
    document.status = "ready"
    document.error = None
    # The text is what every reader needs; the upload was only kept so a failed run could be retried.
    document.content = None


def _expire_if_stale(document: Document) -> None:
    if document.status in ("pending", "processing") and as_utc(document.updated_at) < utcnow() - STALE_AFTER:
        document.status = "failed"
        document.error = STALE_MESSAGE


async def list_documents(
    session: AsyncSession, owner_id: uuid.UUID, kind: str | None = None
) -> Sequence[Document]:
    if kind is not None:
        _check_kind(kind)
    documents = await repository.list_owned(session, owner_id, kind)
    for document in documents:
        _expire_if_stale(document)
    return documents


async def _owned(
    session: AsyncSession, owner_id: uuid.UUID, document_id: uuid.UUID, *, with_text: bool = False
) -> Document:
    document = await repository.get_owned(session, owner_id, document_id, with_text=with_text)
    if document is None:
        raise NotFound("Document not found.", code="document_not_found")
    _expire_if_stale(document)
    return document


async def get_document(session: AsyncSession, owner_id: uuid.UUID, document_id: uuid.UUID) -> Document:
    return await _owned(session, owner_id, document_id)


def _not_ready_message(document: Document) -> str:
    if document.status == "failed":
        return f"The document's text could not be extracted: {document.error}"
    return "The document's text is still being extracted; try again in a moment."


async def _key_of(document: Document) -> bytes:
    if document.data_key is None:
        raise Unavailable("The document has no data key; upload it again.", code="document_unreadable")
    try:
        return await sealing.data_key(document.data_key)
    except sealing.SealedUnreadable as exc:
        raise Unavailable(str(exc), code="document_unreadable") from exc


async def open_text(document: Document) -> str:
    """The document's text, opened in memory (its `text_sealed` must be loaded and not None)."""
    assert document.text_sealed is not None
    key = await _key_of(document)
    try:
        return sealing.open_text(key, document.text_sealed, sealing.document_ad(document.id, "text"))
    except sealing.SealedUnreadable as exc:
        raise Unavailable(str(exc), code="document_unreadable") from exc


async def get_text(session: AsyncSession, owner_id: uuid.UUID, document_id: uuid.UUID) -> DocumentTextOut:
    document = await _owned(session, owner_id, document_id, with_text=True)
    if document.status != "ready" or document.text_sealed is None:
        raise Conflict(_not_ready_message(document), code="not_ready", details={"status": document.status})
    return DocumentTextOut(id=document.id, text=await open_text(document))


async def get_ready_text(
    session: AsyncSession, owner_id: uuid.UUID, document_id: uuid.UUID, kind: str | None = None
) -> tuple[Document, str]:
    """The owner's document and its text, for other domains; NotFound for missing or foreign ids."""
    document = await _owned(session, owner_id, document_id, with_text=True)
    if kind is not None and document.kind != kind:
        raise Invalid(
            f"Document {document_id} is a {_KIND_LABEL.get(document.kind, document.kind)}, "
            f"not a {_KIND_LABEL.get(kind, kind)}.",
            code="wrong_kind",
        )
    if document.status != "ready" or document.text_sealed is None:
        raise Invalid(_not_ready_message(document), code="document_not_ready")
    return document, await open_text(document)


async def delete_document(session: AsyncSession, owner_id: uuid.UUID, document_id: uuid.UUID) -> None:
    await repository.delete(session, await _owned(session, owner_id, document_id))
    indexing.forget_document(session, document_id)


async def reindex_document(
    session: AsyncSession, celery: Celery, owner_id: uuid.UUID, document_id: uuid.UUID
) -> Document:
    document = await _owned(session, owner_id, document_id)
    if document.status != "ready":
        raise Conflict("Only a document whose text is ready can be indexed.", code="document_not_ready")
    indexing.queue_document(session, celery, document)
    await session.flush()
    return document


# --- used by the extraction task --------------------------------------------------------------


async def begin_extraction(session: AsyncSession, document_id: uuid.UUID) -> ExtractionJob | None:
    """Claim a document for extraction; None when there is nothing (left) to do."""
    document = await repository.get_for_extraction(session, document_id)
    if document is None or document.status in ("ready", "failed"):
        return None  # deleted meanwhile, or a duplicate delivery of a finished task
    if document.content is None:
        document.status = "failed"
        document.error = "The uploaded file is missing; upload it again."
        return None
    key = await _key_of(document)
    try:
        data = sealing.open_sealed(key, document.content, sealing.document_ad(document.id, "content"))
    except sealing.SealedUnreadable:
        document.status = "failed"
        document.error = "The stored upload does not decrypt; upload it again."
        return None
    document.status = "processing"
    document.error = None
    return ExtractionJob(data, document.filename, document.media_type)


async def finish_extraction(
    session: AsyncSession, celery: Celery, document_id: uuid.UUID, outcome: ExtractedText | str
) -> None:
    """Store the text (and queue its indexing), or the reason (a message for the user) why there is none."""
    document = await repository.get_for_update(session, document_id)
    if document is None or document.status == "ready":
        return
    if isinstance(outcome, ExtractedText):
        _mark_ready(document, await _key_of(document), outcome)
        indexing.queue_document(session, celery, document)
    else:
        document.status = "failed"
        document.error = outcome


# --- browser-encrypted uploads ------------------------------------------------------------------


async def issue_upload_key(session: AsyncSession, owner_id: uuid.UUID) -> tuple[UploadKey, bytes]:
    """A fresh data key for one browser-encrypted upload: the row (the key stored only wrapped) and
    the raw key, which is handed to the browser once and never stored."""
    now = utcnow()
    await repository.purge_upload_keys(session, owner_id, before=now - UPLOAD_KEY_KEEP)
    key, wrapped_key, key_version = await sealing.fresh_data_key()
    row = UploadKey(
        id=uuid.uuid4(),
        owner_id=owner_id,
        data_key=wrapped_key,
        key_version=key_version,
        created_at=now,
        expires_at=now + UPLOAD_KEY_TTL,
    )
    session.add(row)
    await session.flush()
    return row, key


async def _usable_upload_key(session: AsyncSession, owner_id: uuid.UUID, key_id: uuid.UUID) -> UploadKey:
    row = await repository.get_upload_key(session, owner_id, key_id)
    if row is None:  # another user's key is as unknown as one never issued
        raise NotFound(
            "This upload key is unknown; ask for a new one and encrypt again.", code="upload_key_unknown"
        )
    if row.used_at is not None:
        raise Conflict(
            "This upload key was already used; each key encrypts one upload.", code="upload_key_used"
        )
    if as_utc(row.expires_at) <= utcnow():
        raise Gone(
            "This upload key has expired; ask for a new one and encrypt again.", code="upload_key_expired"
        )
    return row


def _open_browser_upload(key: bytes, key_id: uuid.UUID, nonce: str | None, sealed: bytes) -> bytes:
    undecryptable = "The encrypted upload does not decrypt with its key and nonce."
    try:
        iv = base64.b64decode(nonce or "", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(f"{undecryptable} The nonce is not base64.", code="upload_undecryptable") from exc
    if len(iv) != NONCE_BYTES:
        raise Invalid(
            f"{undecryptable} The nonce must be {NONCE_BYTES} bytes, not {len(iv)}.",
            code="upload_undecryptable",
        )
    try:
        return AESGCM(key).decrypt(iv, sealed, str(key_id).encode("utf-8"))
    except InvalidTag as exc:
        raise Invalid(undecryptable, code="upload_undecryptable") from exc


async def _spend_upload_key(session: AsyncSession, row: UploadKey) -> None:
    # Compare-and-set: of two requests racing with one key, only one gets to use it.
    if not await repository.mark_upload_key_used(session, row.id, utcnow()):
        raise Conflict(
            "This upload key was already used; each key encrypts one upload.", code="upload_key_used"
        )


async def forget_upload_keys(session: AsyncSession, owner_id: uuid.UUID) -> int:
    """The account is being deleted: its upload keys go (the cascade would take them too)."""
    return await repository.delete_upload_keys(session, owner_id)
