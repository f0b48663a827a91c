"""HTTP endpoints of the documents domain: upload (plain or encrypted in the browser), paste, list,
read, delete."""

from __future__ import annotations

import base64
import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status

from mocki.auth.deps import CurrentUser
from mocki.core.errors import Invalid
from mocki.deps import CeleryDep, SessionDep, SettingsDep
from mocki.documents import service
from mocki.documents.schemas import DocumentKind, DocumentOut, DocumentTextOut, TextDocumentIn, UploadKeyOut
from mocki.security.ratelimit import llm_limit

router = APIRouter(prefix="/documents", tags=["documents"])


# Indexing a document has the model write interview questions from it: model-backed limits.
@router.post(
    "",
    response_model=DocumentOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[llm_limit("documents.upload")],
)
async def upload_document(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    celery: CeleryDep,
    file: Annotated[UploadFile, File(description="PDF, .docx, .txt or .md")],
    kind: Annotated[DocumentKind, Form()],
    title: Annotated[str, Form(max_length=300)] = "",
    key_id: Annotated[
        uuid.UUID | None, Form(description="from POST /documents/upload-keys: `file` is encrypted")
    ] = None,
    nonce: Annotated[
        str | None, Form(max_length=64, description="base64 of the 12-byte AES-GCM iv, with key_id")
    ] = None,
) -> DocumentOut:
    document = await service.upload(
        session,
        celery,
        user.id,
        source=file,
        filename=file.filename or "",
        content_type=file.content_type or "",
        kind=kind,
        title=title,
        limits=settings.documents,
        key_id=key_id,
        nonce=nonce,
    )
    return DocumentOut.model_validate(document)


@router.post(
    "/upload-keys",
    response_model=UploadKeyOut,
    status_code=status.HTTP_201_CREATED,
    # Per user like the upload it precedes (the same limit family as every document route).
    dependencies=[llm_limit("documents.upload_keys")],
)
async def issue_upload_key(
    user: CurrentUser, session: SessionDep, request: Request, response: Response
) -> UploadKeyOut:
    """A one-time key for encrypting one upload in the browser (AES-256-GCM, valid 15 minutes).
    The request has no body."""
    if await request.body():
        raise Invalid("This request takes no body.", code="unexpected_body")
    row, key = await service.issue_upload_key(session, user.id)
    response.headers["Cache-Control"] = "no-store"
    return UploadKeyOut(key_id=row.id, data_key=base64.b64encode(key).decode(), expires_at=row.expires_at)


@router.post(
    "/text",
    response_model=DocumentOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[llm_limit("documents.text")],
)
async def paste_document(
    body: TextDocumentIn, user: CurrentUser, session: SessionDep, settings: SettingsDep, celery: CeleryDep
) -> DocumentOut:
    document = await service.create_from_text(
        session, user.id, body.kind, body.title, body.text, celery=celery, limits=settings.documents
    )
    return DocumentOut.model_validate(document)


@router.get("", response_model=list[DocumentOut])
async def list_documents(
    user: CurrentUser, session: SessionDep, kind: Annotated[DocumentKind | None, Query()] = None
) -> list[DocumentOut]:
    documents = await service.list_documents(session, user.id, kind)
    return [DocumentOut.model_validate(d) for d in documents]


@router.get("/{document_id}", response_model=DocumentOut)
async def get_document(document_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> DocumentOut:
    return DocumentOut.model_validate(await service.get_document(session, user.id, document_id))


@router.get("/{document_id}/text", response_model=DocumentTextOut)
async def get_document_text(
    document_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> DocumentTextOut:
    return await service.get_text(session, user.id, document_id)


@router.post(
    "/{document_id}/reindex",
    response_model=DocumentOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[llm_limit("documents.reindex")],
)
async def reindex_document(
    document_id: uuid.UUID, user: CurrentUser, session: SessionDep, celery: CeleryDep
) -> DocumentOut:
    """Rebuild the document's chunks and question–answer pairs (its old ones are replaced)."""
    return DocumentOut.model_validate(await service.reindex_document(session, celery, user.id, document_id))


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(document_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete_document(session, user.id, document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
