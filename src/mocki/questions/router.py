"""HTTP endpoints of the question bank: CRUD, JSONL import and export.

Every change queues the re-embedding of what changed, so retrieval sees the bank as it is."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile, status

from mocki.auth.deps import CurrentUser
from mocki.deps import CeleryDep, SessionDep
from mocki.questions import service
from mocki.questions.schemas import (
    ImportResult,
    QuestionFilters,
    QuestionIn,
    QuestionOut,
    QuestionPage,
    QuestionPatch,
    QuestionQuery,
)
from mocki.retrieval import indexing

router = APIRouter(prefix="/questions", tags=["questions"])

NDJSON = "application/x-ndjson"


@router.get("", response_model=QuestionPage)
async def list_questions(
    query: Annotated[QuestionQuery, Query()], session: SessionDep, user: CurrentUser
) -> QuestionPage:
    return await service.list_questions(session, user.id, query)


@router.post("", response_model=QuestionOut, status_code=status.HTTP_201_CREATED)
async def create_question(
    body: QuestionIn, session: SessionDep, user: CurrentUser, celery: CeleryDep
) -> QuestionOut:
    question = await service.create_question(session, user, body)
    indexing.queue_stale_questions(session, celery, question.owner_id)
    return QuestionOut.of(question)


# Declared before /{question_id} so "import" and "export" are never read as ids.
@router.post("/import", response_model=ImportResult)
async def import_questions(
    file: Annotated[UploadFile, File(description="JSON Lines, one question object per line")],
    session: SessionDep,
    user: CurrentUser,
    celery: CeleryDep,
) -> ImportResult:
    # Read one byte past the limit so the service can tell "too large" from "exactly at the limit".
    data = await file.read(service.MAX_IMPORT_BYTES + 1)
    result = await service.import_jsonl(session, user, data)
    if result.created or result.updated:
        indexing.queue_stale_questions(session, celery, user.id)
    return result


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {NDJSON: {}}, "description": "JSON Lines, one question per line"}},
)
async def export_questions(
    filters: Annotated[QuestionFilters, Query()], session: SessionDep, user: CurrentUser
) -> Response:
    body = await service.export_jsonl(session, user.id, filters)
    return Response(
        content=body,
        media_type=NDJSON,
        headers={"Content-Disposition": 'attachment; filename="questions.jsonl"'},
    )


@router.get("/{question_id}", response_model=QuestionOut)
async def get_question(question_id: uuid.UUID, session: SessionDep, user: CurrentUser) -> QuestionOut:
    return QuestionOut.of(await service.get_question(session, user.id, question_id))


@router.patch("/{question_id}", response_model=QuestionOut)
async def update_question(
    question_id: uuid.UUID, body: QuestionPatch, session: SessionDep, user: CurrentUser, celery: CeleryDep
) -> QuestionOut:
    question = await service.update_question(session, user, question_id, body)
    indexing.queue_stale_questions(session, celery, question.owner_id)
    return QuestionOut.of(question)


@router.delete("/{question_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_question(question_id: uuid.UUID, session: SessionDep, user: CurrentUser) -> Response:
    await service.delete_question(session, user, question_id)
    indexing.forget_question(session, question_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
