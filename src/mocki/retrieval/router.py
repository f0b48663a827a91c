"""HTTP endpoints of retrieval: search the caller's documents and the bank."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mocki.auth.deps import CurrentUser
from mocki.deps import RetrieverDep, SessionDep
from mocki.retrieval import service
from mocki.retrieval.schemas import Scope, SearchHit, SearchMode, SourceLines

router = APIRouter(prefix="/retrieval", tags=["retrieval"])


def hit_out(found: service.Found) -> SearchHit:
    pair, chunk = found.pair, found.chunk
    return SearchHit(
        pair_id=pair.id,
        kind=pair.kind,
        question=pair.question,
        answer=pair.answer,
        origin=pair.origin,
        score=round(found.score, 4),
        score_query=round(found.score_query, 4),
        score_answer=round(found.score_answer, 4),
        question_id=pair.question_id,
        source=SourceLines(
            document_id=chunk.document_id,
            start_line=chunk.start_line,
            end_line=chunk.end_line,
            text=chunk.text,
        )
        if chunk is not None
        else None,
    )


@router.get("/search", response_model=list[SearchHit])
async def search(
    user: CurrentUser,
    session: SessionDep,
    retriever: RetrieverDep,
    q: Annotated[
        str, Query(min_length=1, max_length=service.MAX_QUERY_CHARS, description="what to look for")
    ],
    scope: Annotated[list[Scope] | None, Query(description="repeat for several; default all")] = None,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    mode: Annotated[SearchMode, Query()] = "merged",
) -> list[SearchHit]:
    found = await service.search(
        session, retriever, user.id, q, list(scope or service.SCOPES), k=k, mode=mode
    )
    return [hit_out(f) for f in found]
