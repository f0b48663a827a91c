"""Request and response bodies of the retrieval endpoints."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel

Scope = Literal["resume", "job_description", "question"]
SearchMode = Literal["query", "answer", "merged"]


class SourceLines(BaseModel):
    """Where in a resume or job description a pair came from (1-based, inclusive lines)."""

    document_id: uuid.UUID
    start_line: int
    end_line: int
    text: str


class SearchHit(BaseModel):
    pair_id: uuid.UUID
    kind: Scope
    question: str
    answer: str
    origin: str
    score: float
    score_query: float
    score_answer: float
    question_id: uuid.UUID | None
    source: SourceLines | None
