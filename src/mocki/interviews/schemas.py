"""Request and response bodies of the interview endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

InterviewKind = Literal["mixed", "behavioural", "technical"]


class InterviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target_role: str = Field(min_length=1, max_length=200)
    company: str = Field(default="", max_length=200)
    resume_id: uuid.UUID | None = None
    job_description_id: uuid.UUID | None = None
    kind: InterviewKind = "mixed"
    length: int = Field(default=5, ge=1, le=15)

    @field_validator("target_role")
    @classmethod
    def _role_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("target_role must not be blank")
        return value.strip()


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000)

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the answer must not be blank")
        return value.strip()


class ProvenanceOut(BaseModel):
    """The resume or job-description line an interviewer question came from."""

    source: Literal["resume", "job_description"]
    document_id: uuid.UUID | None
    line: int
    text: str
    # When retrieval chose the question: the matching chunk's lines and its similarity.
    chunk_start: int | None = None
    chunk_end: int | None = None
    score: float | None = None


class TurnOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    speaker: Literal["interviewer", "candidate"]
    text: str
    kind: str
    created_at: datetime
    provenance: list[ProvenanceOut] = Field(default_factory=list)


class InterviewOut(BaseModel):
    id: uuid.UUID
    target_role: str
    company: str
    resume_id: uuid.UUID | None
    job_description_id: uuid.UUID | None
    kind: str
    length: int
    status: Literal["created", "active", "ended"]
    questions_asked: int
    created_at: datetime
    ended_at: datetime | None


class InterviewDetail(InterviewOut):
    turns: list[TurnOut]


class Scores(BaseModel):
    relevance: float = Field(ge=0, le=5)
    structure: float = Field(ge=0, le=5)
    depth: float = Field(ge=0, le=5)
    communication: float = Field(ge=0, le=5)


class ReportItem(BaseModel):
    question: str
    answer: str
    scores: Scores
    feedback: str
    turn_seqs: list[int]


class ReportOut(BaseModel):
    status: Literal["pending", "ready", "failed"]
    overall_score: float | None
    summary: str
    items: list[ReportItem]
    error: str | None
