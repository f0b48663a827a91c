"""Request and response bodies of the interview endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from mocki.interviews import measures
from mocki.interviews.personas import Language, Persona

InterviewKind = Literal["mixed", "behavioural", "technical"]


class InterviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target_role: str = Field(min_length=1, max_length=200)
    company: str = Field(default="", max_length=200)
    resume_id: uuid.UUID | None = None
    job_description_id: uuid.UUID | None = None
    kind: InterviewKind = "mixed"
    length: int = Field(default=5, ge=1, le=15)
    # How the interviewer sounds, and the language it speaks (bank questions stay English).
    persona: Persona = "neutral"
    language: Language = "en"

    @field_validator("target_role")
    @classmethod
    def _role_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("target_role must not be blank")
        return value.strip()


def stripped_text(value: str, what: str) -> str:
    """Said text as stored: stripped, and refused when nothing is left."""
    if not value.strip():
        raise ValueError(f"{what} must not be blank")
    return value.strip()


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000)

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        return stripped_text(value, "the answer")


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
    # Interviewer turns: the agent that spoke, and what it showed with the turn (a coding
    # problem's id, a run's results, the level of a hint ...).
    agent: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    # Interviewer turns: "ai" (the engine) or "human" (an invited interviewer who took over).
    role: Literal["ai", "human"] | None = None


class InterviewOut(BaseModel):
    id: uuid.UUID
    target_role: str
    company: str
    resume_id: uuid.UUID | None
    job_description_id: uuid.UUID | None
    kind: str
    length: int
    persona: Persona
    language: Language
    status: Literal["created", "active", "ended"]
    questions_asked: int
    created_at: datetime
    ended_at: datetime | None


class InterviewDetail(InterviewOut):
    turns: list[TurnOut]
    # Weak points of earlier interviews this one's questions were picked to practise.
    targets: list[str] = Field(default_factory=list)


class Scores(BaseModel):
    relevance: float = Field(ge=0, le=5)
    structure: float = Field(ge=0, le=5)
    depth: float = Field(ge=0, le=5)
    communication: float = Field(ge=0, le=5)
    # Coverage of the bank question's rubric; technical answers only, null elsewhere.
    correctness: float | None = Field(default=None, ge=0, le=5)


class AnswerMeasures(BaseModel):
    """Counted from the answer's text; per-minute figures need a spoken length (voice only)."""

    words: int
    fillers: int
    fillers_per_100_words: float
    fillers_per_minute: float | None
    filler_terms: dict[str, int]
    hedges: int
    hedges_per_100_words: float
    hedge_terms: dict[str, int]
    response_s: float | None = Field(description="Seconds from the interviewer's question to the answer.")
    speech_s: float | None
    words_per_minute: float | None


class OverallMeasures(BaseModel):
    answers: int
    words: int
    mean_words: float
    fillers: int
    fillers_per_100_words: float
    fillers_per_minute: float | None
    filler_terms: dict[str, int]
    hedges: int
    hedges_per_100_words: float
    mean_response_s: float | None
    words_per_minute: float | None


class Evidence(BaseModel):
    """A transcript sentence a score rests on."""

    dimension: Literal["relevance", "structure", "depth", "communication", "correctness"]
    seq: int
    quote: str
    note: str


class ReportItem(BaseModel):
    question: str
    answer: str
    # Reports written before these fields existed lack them; they read as empty.
    category: str = ""
    scores: Scores
    feedback: str
    turn_seqs: list[int]
    measures: AnswerMeasures | None = None
    evidence: list[Evidence] = Field(default_factory=list)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000)
    # A few named 1-5 scores ("communication": 4); the names are the interviewer's own.
    scores: dict[str, int] = Field(default_factory=dict, max_length=20)

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the note must not be blank")
        return value.strip()

    @field_validator("scores")
    @classmethod
    def _scores_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        for name, score in value.items():
            if not name.strip() or len(name) > 60:
                raise ValueError("score names must be 1-60 characters")
            if not 1 <= score <= 5:
                raise ValueError(f"score {name!r} must be from 1 to 5")
        return {name.strip(): score for name, score in value.items()}


class NoteOut(BaseModel):
    id: uuid.UUID
    author_id: uuid.UUID
    text: str
    scores: dict[str, int]
    created_at: datetime


HiringSignal = Literal["strong_hire", "hire", "lean_no", "no"]


class ReportOut(BaseModel):
    status: Literal["pending", "ready", "failed"]
    overall_score: float | None
    summary: str
    items: list[ReportItem]
    error: str | None
    # What invited human interviewers wrote and scored (read live, not part of the stored report).
    interviewer_notes: list[NoteOut] = Field(default_factory=list)

    # Derived from the stored items on every read, so older reports get them too.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def measures(self) -> OverallMeasures | None:
        per_answer = [i.measures.model_dump() for i in self.items if i.measures is not None]
        if len(per_answer) != len(self.items):
            return None
        summary = measures.overall_measures(per_answer)
        return OverallMeasures.model_validate(summary) if summary else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def signal(self) -> HiringSignal | None:
        if self.status != "ready":
            return None
        return measures.hiring_signal(self._item_dicts(), self.overall_score)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def strengths(self) -> list[str]:
        return self._bullets()[0]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def weaknesses(self) -> list[str]:
        return self._bullets()[1]

    def _item_dicts(self) -> list[dict[str, Any]]:
        return [{"scores": i.scores.model_dump()} for i in self.items]

    def _bullets(self) -> tuple[list[str], list[str]]:
        if self.status != "ready":
            return [], []
        overall = self.measures
        return measures.strengths_and_weaknesses(
            self._item_dicts(), overall.model_dump() if overall else None
        )


# ------------------------------------------------------------------------------- progress


class ProgressPoint(BaseModel):
    """One ended interview with a ready report, on the progress chart."""

    interview_id: uuid.UUID
    date: datetime = Field(description="When the interview ended (UTC).")
    target_role: str
    company: str
    overall_score: float | None = Field(description="0-100; null when no answer was scored.")
    answers: int = Field(description="Scored answers.")
    dimensions: dict[str, float] = Field(
        description="Mean 0-5 score per rubric dimension (relevance, structure, depth, communication, "
        "and correctness where technical answers had a rubric)."
    )
    categories: dict[str, float] = Field(description="Mean 0-5 answer score per question category.")


class WeakPoint(BaseModel):
    """A dimension or question category scoring low in recent interviews."""

    kind: Literal["dimension", "category"]
    name: str
    label: str
    average: float = Field(description="0-5, recent interviews weighing more.")
    interviews: int = Field(description="How many interviews the average rests on.")
    trend: Literal["improving", "declining", "flat"]
    reason: str


class ProgressOut(BaseModel):
    interviews: list[ProgressPoint] = Field(description="Oldest first, the last 20.")
    weak_points: list[WeakPoint] = Field(
        description="Weakest first; the next interview targets the first ones."
    )
    threshold: float = Field(description="A recent average (0-5) below this is a weak point.")
    window: int = Field(description="Weak points rest on each metric's last this-many interviews.")


# --------------------------------------------------------------------------- human interviewer


class InviteOut(BaseModel):
    code: str = Field(description="Single-use; shown only in this answer.")
    url: str = Field(description="The web app's join link: /join/<code>.")
    expires_at: datetime


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=200)


class AcceptOut(BaseModel):
    interview_id: uuid.UUID
    role: Literal["interviewer"]


ParticipantRole = Literal["owner", "interviewer"]


class ParticipantOut(BaseModel):
    user_id: uuid.UUID
    role: ParticipantRole
    email: str


class SuggestionOut(BaseModel):
    """What the AI would ask next from its plan; computed on each read, never stored."""

    text: str
    question_index: int
    agent: str


class LiveOut(BaseModel):
    interview_id: uuid.UUID
    status: Literal["created", "active", "ended"]
    controller: Literal["ai", "human"]
    you: ParticipantRole
    participants: list[ParticipantOut]
    # The transcript so far (a room's log is bounded; this is the whole of it).
    turns: list[TurnOut]
    suggestion: SuggestionOut | None = Field(description="Interviewers only; null for the owner.")
    notes: list[NoteOut] = Field(description="Interviewers only; empty for the owner.")


class HumanTurnIn(BaseModel):
    """What the human interviewer says (typed, or their transcribed speech)."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000)

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        return stripped_text(value, "the text")
