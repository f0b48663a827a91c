"""HTTP endpoints of the interviews domain; the turn endpoints answer with Server-Sent Events."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse

from mocki.auth.deps import CurrentUser
from mocki.cache.reads import NOT_MODIFIED, json_response
from mocki.deps import CeleryDep, LLMDep, SessionDep
from mocki.interviews import pdf, progress, service, streaming
from mocki.interviews.schemas import (
    AnswerIn,
    InterviewDetail,
    InterviewIn,
    InterviewOut,
    ProgressOut,
    ReportOut,
)
from mocki.security.ratelimit import llm_limit

router = APIRouter(prefix="/interviews", tags=["interviews"])

_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": 'Events "turn" (the stored answer), "token" {text}, "error" {code, message}, '
        'and last "done" {turn, finished}. While a human interviewer has the seat (docs/realtime.md) '
        'the answer is stored and the AI says nothing: "turn", then "done" '
        '{"turn": null, "finished": false, "waiting_for": "human"}.',
    }
}


@router.post("", response_model=InterviewOut, status_code=status.HTTP_201_CREATED)
async def create(body: InterviewIn, user: CurrentUser, session: SessionDep) -> InterviewOut:
    return await service.create_interview(session, user.id, body)


@router.get("", response_model=list[InterviewOut], responses=NOT_MODIFIED)
async def list_all(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    # The cached JSON as it is (mocki.cache.reads): no validation or serialisation per request.
    return json_response(request, await service.list_interviews_json(session, user.id))


@router.get("/{interview_id}", response_model=InterviewDetail)
async def detail(interview_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> InterviewDetail:
    return await service.get_interview(session, user.id, interview_id)


@router.delete("/{interview_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(interview_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete_interview(session, user.id, interview_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# The two turn endpoints prepare in their own short unit of work (errors come back as plain
# JSON before any byte is streamed), then stream; the turn is stored in another one at the end.
@router.post(
    "/{interview_id}/start",
    response_class=StreamingResponse,
    responses=_SSE_DOC,
    dependencies=[llm_limit("interviews.start")],  # model call: per-user and global limits
)
async def start(
    interview_id: uuid.UUID, user: CurrentUser, request: Request, llm: LLMDep
) -> StreamingResponse:
    factory = request.app.state.sessionmaker
    prepared = await streaming.open_start(
        factory, user.id, interview_id, request.app.state.interviewer, request.app.state.retriever
    )
    return StreamingResponse(
        streaming.sse_bytes(streaming.run_turn(factory, llm, prepared)),
        media_type="text/event-stream",
        headers=streaming.SSE_HEADERS,
    )


@router.post(
    "/{interview_id}/answer",
    response_class=StreamingResponse,
    responses=_SSE_DOC,
    dependencies=[llm_limit("interviews.answer")],  # model call: per-user and global limits
)
async def answer(
    interview_id: uuid.UUID, body: AnswerIn, user: CurrentUser, request: Request, llm: LLMDep
) -> StreamingResponse:
    factory = request.app.state.sessionmaker
    prepared = await streaming.open_answer(
        factory,
        user.id,
        interview_id,
        body.text,
        request.app.state.interviewer,
        intents=request.app.state.intents,
        retriever=request.app.state.retriever,
    )
    return StreamingResponse(
        streaming.sse_bytes(streaming.run_turn(factory, llm, prepared)),
        media_type="text/event-stream",
        headers=streaming.SSE_HEADERS,
    )


@router.post(
    "/{interview_id}/end",
    response_model=ReportOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[llm_limit("interviews.end")],  # the report asks the model
)
async def end(
    interview_id: uuid.UUID, user: CurrentUser, session: SessionDep, celery: CeleryDep
) -> ReportOut:
    return await service.end_interview(session, user.id, interview_id, celery)


@router.get("/{interview_id}/report", response_model=ReportOut)
async def report(interview_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> ReportOut:
    return await service.get_report(session, user.id, interview_id)


@router.get(
    "/{interview_id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The ready report as a PDF."}},
)
async def report_pdf(interview_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    body = await pdf.report_pdf(session, user.id, interview_id)
    headers = {"Content-Disposition": f'attachment; filename="mocki-report-{interview_id}.pdf"'}
    return Response(body, media_type="application/pdf", headers=headers)


# Across interviews: the score series and the weak points the next interview targets.
progress_router = APIRouter(prefix="/progress", tags=["interviews"])


@progress_router.get("", response_model=ProgressOut, responses=NOT_MODIFIED)
async def progress_overview(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return json_response(request, await progress.get_progress_json(session, user.id))
