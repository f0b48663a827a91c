"""Request and response bodies of the documents endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DocumentKind = Literal["resume", "job_description"]
DocumentStatus = Literal["pending", "processing", "ready", "failed"]
IndexStatus = Literal["none", "queued", "indexing", "ready", "failed"]

# A sanity cap on the request body only; the configured character limit is checked after
# normalisation, with a clearer message.
MAX_PASTED_CHARS = 1_000_000


class TextDocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: DocumentKind
    title: str = Field(default="", max_length=300)
    text: str = Field(min_length=1, max_length=MAX_PASTED_CHARS)


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: DocumentKind
    title: str
    filename: str
    media_type: str
    size_bytes: int
    status: DocumentStatus
    error: str | None
    page_count: int | None
    char_count: int
    # Retrieval index: "ready" means searchable; index_done/chunk_count is the model's progress
    # on the extra question–answer pairs, which keeps growing after that.
    index_status: IndexStatus
    index_error: str | None
    chunk_count: int
    pair_count: int
    index_done: int
    # The browser encrypted the file before sending it (POST /documents/upload-keys).
    encrypted_upload: bool
    created_at: datetime


class DocumentTextOut(BaseModel):
    id: uuid.UUID
    text: str


class UploadKeyOut(BaseModel):
    """A one-time AES-256-GCM key for encrypting one upload in the browser."""

    key_id: uuid.UUID
    # Base64 of the 32 raw key bytes; shown once, the server keeps it only wrapped.
    data_key: str
    algorithm: Literal["AES-256-GCM"] = "AES-256-GCM"
    expires_at: datetime
