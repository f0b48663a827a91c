"""The application tracker: mail accounts, their syncs, the emails read, and the applications and
status-history events built from them.

An application's history is a list of dated events. Each event came from one email (or a manual
edit) and may carry an interview time, a deadline and an assessment link: what the todos,
reminders and prep of later rounds read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column
from sqlalchemy.sql.expression import true

from mocki.models.base import Base, IdMixin, TimestampMixin, UTCDateTime


class MailAccount(IdMixin, TimestampMixin, Base):
    """A mailbox the tracker reads: IMAP, Gmail, or the per-user bucket of uploaded files."""

    __tablename__ = "mail_accounts"

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # imap | gmail | upload
    label: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(320), default="")
    # Non-secret connection settings: host, port, security, folders, labels, since.
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Password or OAuth tokens, encrypted (tracker/crypto.py); null once revoked.
    credentials: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | revoked | error
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Where the next incremental sync starts: {"folders": {name: {uidvalidity, last_uid}}} for
    # IMAP, {"history_id": ...} for Gmail.
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MailSync(IdMixin, TimestampMixin, Base):
    """One run of reading an account (or one uploaded file) and analysing what was new.

    The counts are its progress while it runs: `fetched` of `total` messages read, `stored` new
    ones, `analysed` (+ `analysis_failed`) of those stored.
    """

    __tablename__ = "mail_syncs"

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("mail_accounts.id", ondelete="CASCADE"), index=True
    )
    # queued -> fetching -> analysing -> done | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    fetch_done: Mapped[bool] = mapped_column(Boolean, default=False)
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    malformed: Mapped[int] = mapped_column(Integer, default=0)
    analysed: Mapped[int] = mapped_column(Integer, default=0)
    analysis_failed: Mapped[int] = mapped_column(Integer, default=0)
    # What could not be read, message by message: [{"ref", "reason"}], the first 200.
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    filename: Mapped[str] = mapped_column(String(300), default="")
    # An uploaded .eml/.mbox until the sync has read it.
    payload: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Email(IdMixin, Base):
    """A message as read from a source: headers, text body, links, and its analysis once done."""

    __tablename__ = "emails"
    __table_args__ = (
        # Duplicates by Message-ID are dropped per user, whichever source they came from.
        UniqueConstraint("owner_id", "message_key", name="uq_emails_owner_message"),
        Index("ix_emails_owner_thread", "owner_id", "thread_key"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("mail_accounts.id", ondelete="SET NULL"), nullable=True, index=True
    )
    sync_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("mail_syncs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # sha256 of the normalised Message-ID (or of the content when there is none).
    message_key: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(500), default="")
    # sha256 of the thread's root Message-ID (References, In-Reply-To, else its own).
    thread_key: Mapped[str] = mapped_column(String(64))
    source_ref: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(String(1000), default="")
    sender: Mapped[str] = mapped_column(String(500), default="")
    sender_address: Mapped[str] = mapped_column(String(320), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    body: Mapped[str] = deferred(mapped_column(Text, default="", nullable=False))
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    defects: Mapped[list[str]] = mapped_column(JSON, default=list)
    # pending -> done | failed; written once, by the analysis that commits first.
    analysis_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    application_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("applications.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Application(IdMixin, TimestampMixin, Base):
    """A job applied for (company + position) and its current status.

    `company_key`/`position_key` are what emails are matched on; `manual` holds the fields a
    person set by hand (company, position, status), which win over anything extracted later.
    """

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("owner_id", "company_key", "position_key", name="uq_applications_owner_key"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    company: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[str] = mapped_column(String(300), default="")
    company_key: Mapped[str] = mapped_column(String(300))
    position_key: Mapped[str] = mapped_column(String(300), default="")
    # The status shown: the manual one when set, else the one the events give.
    status: Mapped[str] = mapped_column(String(32), default="applied", index=True)
    extracted_status: Mapped[str] = mapped_column(String(32), default="applied")
    manual: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="email")  # email | manual
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    # The mock interview made to prepare for this application's interview or assessment (tracker/prep.py).
    prep_interview_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("interviews.id", ondelete="SET NULL"), nullable=True
    )


class ApplicationEvent(IdMixin, Base):
    """One dated step of an application's history, from one email or a manual edit."""

    __tablename__ = "application_events"

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    # At most one event per email: a second analysis of the same email cannot add another.
    email_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("emails.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    # applied | rejected | interview | assessment | offer | recruiter_outreach | other | manual
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    interview_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    assessment_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    next_action: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(16), default="model")  # model | rules | llm | manual
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Todo(IdMixin, TimestampMixin, Base):
    """Something the user should do: generated from an application's events, or written by hand.

    `source_key` makes generation idempotent: one per event (`event:<id>`) or per application's
    follow-up (`follow_up:<id>`), so a redelivered analysis or a re-sync never adds a second one.
    """

    __tablename__ = "todos"
    __table_args__ = (UniqueConstraint("owner_id", "source_key", name="uq_todos_owner_source"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("applications.id", ondelete="CASCADE"), nullable=True, index=True
    )
    source_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # assessment | interview | follow_up | user
    title: Mapped[str] = mapped_column(String(500))
    notes: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(8), default="todo", index=True)  # todo | done
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The prep mock interview an interview or assessment todo links to.
    interview_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("interviews.id", ondelete="SET NULL"), nullable=True
    )


class Reminder(IdMixin, Base):
    """One reminder of a todo's deadline, claimed (inserted) before it is sent: never sent twice."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("todo_id", "kind", name="uq_reminders_todo_kind"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    todo_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("todos.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # 24h | 1h
    status: Mapped[str] = mapped_column(String(16), default="claimed")  # claimed | sent | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ReminderPreference(Base):
    """A user's reminder choice and the secret of their unsubscribe link (absent row: reminders on)."""

    __tablename__ = "reminder_preferences"

    owner_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    # Status-change notices and the weekly digest (tracker/notices.py, tracker/digest.py).
    notices_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # When the digest goes out, in the user's own time zone: 0 = Monday.
    digest_weekday: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    digest_hour: Mapped[int] = mapped_column(Integer, default=8, server_default="8")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")


class StatusChange(IdMixin, Base):
    """An application's status moved because of an analysed email (or by hand): what notices list.

    `notification_id` is set when a notice claims the change (a compare-and-set on null), so a
    change is in at most one notice."""

    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_pending", "notification_id", "sync_id"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    sync_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("mail_syncs.id", ondelete="SET NULL"), nullable=True
    )
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)  # null: a new application
    to_status: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16), default="email")  # email | manual
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notification_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("notifications.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Notification(IdMixin, Base):
    """One notice or digest, claimed (inserted, unique per user, kind and key) before it is sent.

    Keys: `notice` → `sync:<id>` or `change:<id>`; `digest` → the ISO week (`2026-W48`). A failed
    send deletes the row (and frees its changes) so the next beat run tries again."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("owner_id", "kind", "key", name="uq_notifications_owner_kind_key"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # notice | digest
    key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="claimed")  # claimed | sent | skipped
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
