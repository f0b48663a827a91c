"""Request and response bodies of the tracker endpoints."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

Security = Literal["ssl", "starttls", "none"]
AccountKind = Literal["imap", "gmail", "upload"]
AccountStatus = Literal["active", "revoked", "error"]
SyncStatus = Literal["queued", "fetching", "analysing", "done", "failed"]
ApplicationStatus = Literal["applied", "assessment", "interview", "offer", "rejected", "recruiter_outreach"]


class ImapAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(default="", max_length=200)
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=993, ge=1, le=65535)
    security: Security = "ssl"
    username: str = Field(min_length=1, max_length=320)
    # An app password for Gmail, Outlook, Fastmail and most providers with two-factor sign-in.
    password: str = Field(min_length=1, max_length=1000)
    folders: list[str] = Field(default_factory=lambda: ["INBOX"], min_length=1, max_length=20)
    since: date | None = None

    @field_validator("host")
    @classmethod
    def _host_is_a_name(cls, value: str) -> str:
        # A name the resolver cannot encode (a stray byte, an empty or over-long label) would
        # otherwise fail deep inside the connection, as a 500 instead of a 422.
        try:
            value.encode("idna")
        except UnicodeError as exc:
            raise ValueError("The host is not a valid host name.") from exc
        return value


class GmailAuthorizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(default="", max_length=200)
    labels: list[str] = Field(default_factory=list, max_length=20)
    since: date | None = None


class GmailAuthorizeOut(BaseModel):
    authorization_url: str
    state: str


class GmailCallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=2000)
    state: str = Field(min_length=1, max_length=200)


class AccountPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, max_length=200)
    folders: list[str] | None = Field(default=None, min_length=1, max_length=20)
    labels: list[str] | None = Field(default=None, max_length=20)
    since: date | None = None


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: AccountKind
    label: str
    address: str
    config: dict[str, Any]
    status: AccountStatus
    error: str | None
    last_synced_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class Problem(BaseModel):
    ref: str
    reason: str


class SyncOut(BaseModel):
    """A sync's progress: `fetched` of `total` read, `stored` new, `analysed` of those stored."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    account_id: uuid.UUID
    status: SyncStatus
    filename: str
    total: int | None
    fetched: int
    stored: int
    duplicates: int
    malformed: int
    analysed: int
    analysis_failed: int
    problems: list[Problem]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: str
    occurred_at: datetime
    interview_at: datetime | None
    deadline_at: datetime | None
    assessment_url: str | None
    links: list[dict[str, str]]
    next_action: str
    summary: str
    source: str
    confidence: float
    email_id: uuid.UUID | None


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    company: str
    position: str
    status: str
    extracted_status: str
    # The fields a person set by hand; they win over anything read from mail.
    manual: dict[str, str]
    notes: str
    source: str
    applied_at: datetime | None
    first_response_at: datetime | None
    last_event_at: datetime | None
    created_at: datetime
    # The mock interview to prepare with (made from an invitation, or on demand).
    prep_interview_id: uuid.UUID | None = None


class ApplicationDetailOut(ApplicationOut):
    events: list[EventOut]


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company: str = Field(min_length=1, max_length=300)
    position: str = Field(default="", max_length=300)
    status: ApplicationStatus = "applied"
    notes: str = Field(default="", max_length=20_000)


class ApplicationPatch(BaseModel):
    """Fields given are set by hand; `null` hands a field back to what the emails say."""

    model_config = ConfigDict(extra="forbid")
    company: str | None = Field(default=None, max_length=300)
    position: str | None = Field(default=None, max_length=300)
    status: ApplicationStatus | None = None
    notes: str | None = Field(default=None, max_length=20_000)


class BoardOut(BaseModel):
    columns: dict[str, list[ApplicationOut]]


class AnalyticsOut(BaseModel):
    applications: int
    applied: int
    responded: int
    response_rate: float | None
    median_days_to_response: float | None
    days_to_response_by_company: dict[str, float]
    active: int
    pipeline: dict[str, int]


class EmailOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    subject: str
    sender: str
    sent_at: datetime | None
    thread_key: str
    source_ref: str
    analysis_status: str
    analysis: dict[str, Any] | None
    application_id: uuid.UUID | None


class ThreadOut(BaseModel):
    thread_key: str
    subject: str
    emails: int
    last_at: datetime | None


# ------------------------------------------------------------------------------ todos, reminders

TodoStatus = Literal["todo", "done"]
TodoKind = Literal["assessment", "interview", "follow_up", "user"]


class TodoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=500)
    notes: str = Field(default="", max_length=10_000)
    link: str | None = Field(default=None, max_length=2000)
    due_at: datetime | None = None
    application_id: uuid.UUID | None = None


class TodoPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=500)
    notes: str | None = Field(default=None, max_length=10_000)
    link: str | None = Field(default=None, max_length=2000)
    due_at: datetime | None = None
    status: TodoStatus | None = None


class TodoOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    application_id: uuid.UUID | None
    kind: TodoKind
    title: str
    notes: str
    link: str | None
    due_at: datetime | None
    status: TodoStatus
    done_at: datetime | None
    created_at: datetime
    updated_at: datetime
    # The prep mock interview of an interview or assessment todo.
    interview_id: uuid.UUID | None = None


class ReminderPreferenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool


class ReminderPreferenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    enabled: bool


# ------------------------------------------------------------------ notices and the weekly digest

UnsubscribeKind = Literal["reminders", "notices", "digest"]


class NotificationPreferenceIn(BaseModel):
    """Which tracker mail you get; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")
    reminders: bool | None = None
    notices: bool | None = None
    digest: bool | None = None
    digest_weekday: int | None = Field(default=None, ge=0, le=6, description="0 = Monday")
    digest_hour: int | None = Field(default=None, ge=0, le=23)
    timezone: str | None = Field(
        default=None, min_length=1, max_length=64, description="IANA, e.g. Europe/Berlin"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from exc
        return value


class NotificationPreferenceOut(BaseModel):
    reminders: bool
    notices: bool
    digest: bool
    digest_weekday: int
    digest_hour: int
    timezone: str


# ------------------------------------------------------------------------- jobs, recommendations

JobImportStatus = Literal["queued", "embedding", "done", "failed"]


class RowProblem(BaseModel):
    line: int
    reason: str


class JobImportOut(BaseModel):
    """An import's rows (`added` new, `duplicates`, `invalid` with `problems` by line) and the embedding
    progress: `embedded` of `added`."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    filename: str
    shared: bool
    status: JobImportStatus
    rows: int
    added: int
    duplicates: int
    invalid: int
    embedded: int
    problems: list[RowProblem]
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class JobPostingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    title: str
    company: str
    location: str
    url: str
    skills: list[str]
    posted_at: datetime | None
    shared: bool
    embedded: bool


class ResumeLine(BaseModel):
    line: int
    text: str


class RecommendationOut(BaseModel):
    """A posting and why: `score` blends `semantic` (resume lines vs posting) and `skill_overlap`."""

    posting: JobPostingOut
    score: float
    semantic: float
    skill_overlap: float
    matched_skills: list[str]
    missing_skills: list[str]
    best_resume_line: ResumeLine | None


class RecommendationsOut(BaseModel):
    resume_id: uuid.UUID
    resume_title: str
    resume_skills: list[str]
    items: list[RecommendationOut]


class PrepOut(BaseModel):
    application_id: uuid.UUID
    interview_id: uuid.UUID
