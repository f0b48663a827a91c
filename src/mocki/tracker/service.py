"""The tracker's operations for the api: mail accounts, syncs and uploads, applications, board, analytics.

Services never commit; syncs are sent to the io workers after the request's commit.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from celery import Celery
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.cache.families import ANALYTICS, APPLICATIONS, BOARD
from mocki.cache.reads import adapter_of, list_adapter_of, read_json
from mocki.core.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, Unavailable, UnsupportedMedia
from mocki.core.timeutil import utcnow
from mocki.models.jobs import SHARED_SCOPE, JobImport, JobPosting
from mocki.models.tracker import (
    Application,
    ApplicationEvent,
    Email,
    MailAccount,
    MailSync,
    ReminderPreference,
    Todo,
)
from mocki.models.user import User
from mocki.retrieval.embeddings import Embedder
from mocki.settings import Settings
from mocki.tasks import routing
from mocki.tasks.names import EMBED_JOBS, QUEUE_IO, SYNC_MAILBOX
from mocki.tracker import gmail, jobs, prep, recommend, reminders, repository, timeline, todos
from mocki.tracker.crypto import CredentialsUnreadable
from mocki.tracker.imap import ImapConfig, check_account, tls_context
from mocki.tracker.parsing import looks_like_mbox
from mocki.tracker.pipeline import open_credentials, seal_credentials
from mocki.tracker.schemas import (
    AccountPatch,
    AnalyticsOut,
    ApplicationIn,
    ApplicationOut,
    ApplicationPatch,
    BoardOut,
    GmailAuthorizeIn,
    ImapAccountIn,
    JobPostingOut,
    NotificationPreferenceIn,
    NotificationPreferenceOut,
    RecommendationOut,
    RecommendationsOut,
    ResumeLine,
    TodoIn,
    TodoPatch,
)
from mocki.tracker.sources import MailSourceError
from mocki.tracker.tasks import EMBED_JOBS_EXPIRES_S, SYNC_EXPIRES_S

OAUTH_STATE_KEY = "mocki:tracker:oauth:{state}"
OAUTH_STATE_TTL_S = 600


# ------------------------------------------------------------------------------------ accounts


async def _owned_account(
    session: AsyncSession, owner_id: uuid.UUID, account_id: uuid.UUID, **kw: Any
) -> MailAccount:
    account = await repository.account(session, owner_id, account_id, **kw)
    if account is None:
        raise NotFound("No such mail account.")
    return account


async def add_imap_account(
    session: AsyncSession, settings: Settings, owner_id: uuid.UUID, body: ImapAccountIn
) -> MailAccount:
    """Signs in once to check the server, the password and the folders, then stores it encrypted."""
    config = {
        "host": body.host.strip(), "port": body.port, "security": body.security,
        "folders": body.folders, "since": body.since.isoformat() if body.since else None,
    }  # fmt: skip
    try:
        await asyncio.to_thread(
            check_account, ImapConfig.from_account(config, body.username), body.password,
            timeout_s=min(settings.tracker.imap_timeout_s, 30.0),
            ssl_context=tls_context(settings.tracker.imap_ca_file),
        )  # fmt: skip
    except MailSourceError as exc:
        raise Invalid(str(exc), code="mail_account_unusable") from exc
    account_id = uuid.uuid4()
    account = MailAccount(
        id=account_id,
        owner_id=owner_id,
        kind="imap",
        label=body.label.strip() or f"{body.username} ({body.host})",
        address=body.username,
        config=config,
        credentials=seal_credentials(settings, account_id, {"password": body.password}),
        status="active",
        cursor={},
    )
    session.add(account)
    await session.flush()
    return account


def _gmail_configured(settings: Settings) -> None:
    if not (settings.tracker.google_client_id and settings.tracker.google_client_secret):
        raise Unavailable(
            "Gmail is not configured on this server: set MOCKI_TRACKER__GOOGLE_CLIENT_ID and "
            "MOCKI_TRACKER__GOOGLE_CLIENT_SECRET, or connect the mailbox over IMAP.",
            code="gmail_disabled",
        )


def redirect_uri(settings: Settings) -> str:
    return (
        settings.tracker.google_redirect_uri
        or f"http://{settings.host}:{settings.port}/tracker/gmail/callback"
    )


async def gmail_authorize(
    redis: Redis[bytes], settings: Settings, owner_id: uuid.UUID, body: GmailAuthorizeIn
) -> tuple[str, str]:
    """The consent URL; the state (bound to this user) and PKCE verifier wait in Redis for the callback."""
    _gmail_configured(settings)
    state = secrets.token_urlsafe(32)
    url, verifier = gmail.authorization_url(settings.tracker, redirect_uri(settings), state)
    pending = {
        "owner_id": str(owner_id), "verifier": verifier, "label": body.label, "labels": body.labels,
        "since": body.since.isoformat() if body.since else None,
    }  # fmt: skip
    await redis.set(OAUTH_STATE_KEY.format(state=state), json.dumps(pending), ex=OAUTH_STATE_TTL_S)
    return url, state


async def gmail_callback(
    session: AsyncSession, redis: Redis[bytes], settings: Settings, owner_id: uuid.UUID, code: str, state: str
) -> MailAccount:
    _gmail_configured(settings)
    raw = await redis.getdel(OAUTH_STATE_KEY.format(state=state))
    pending = json.loads(raw) if raw else None
    if pending is None or pending.get("owner_id") != str(owner_id):
        raise Invalid(
            "This sign-in link expired or belongs to another session; start again.", code="oauth_state"
        )
    cfg = settings.tracker
    try:
        tokens = await asyncio.to_thread(
            gmail.exchange_code, cfg, redirect_uri(settings), code, pending["verifier"]
        )
        client = gmail.GmailClient(cfg, tokens)
        try:
            profile = await asyncio.to_thread(client.profile)
            if pending["labels"]:
                await asyncio.to_thread(client.label_ids, pending["labels"])
        finally:
            client.close()
    except MailSourceError as exc:
        raise Invalid(str(exc), code="mail_account_unusable") from exc
    address = str(profile.get("emailAddress", ""))
    account_id = uuid.uuid4()
    account = MailAccount(
        id=account_id,
        owner_id=owner_id,
        kind="gmail",
        label=str(pending.get("label") or "").strip() or f"Gmail {address}",
        address=address,
        config={"labels": pending["labels"], "since": pending["since"]},
        credentials=seal_credentials(settings, account_id, tokens),
        status="active",
        cursor={},
    )
    session.add(account)
    await session.flush()
    return account


async def list_accounts(session: AsyncSession, owner_id: uuid.UUID) -> Sequence[MailAccount]:
    return await repository.accounts(session, owner_id)


async def get_account(session: AsyncSession, owner_id: uuid.UUID, account_id: uuid.UUID) -> MailAccount:
    return await _owned_account(session, owner_id, account_id)


async def update_account(
    session: AsyncSession, owner_id: uuid.UUID, account_id: uuid.UUID, body: AccountPatch
) -> MailAccount:
    account = await _owned_account(session, owner_id, account_id)
    config = dict(account.config)
    if body.label is not None:
        account.label = body.label.strip() or account.label
    if body.folders is not None and account.kind == "imap":
        config["folders"] = body.folders
    if body.labels is not None and account.kind == "gmail":
        config["labels"] = body.labels
        account.cursor = {}  # another filter: read again (duplicates are dropped)
    if "since" in body.model_fields_set:
        config["since"] = body.since.isoformat() if body.since else None
    account.config = config
    await session.flush()
    return account


async def revoke_account(
    session: AsyncSession, settings: Settings, owner_id: uuid.UUID, account_id: uuid.UUID
) -> MailAccount:
    """Wipe the stored credentials (and, for Gmail, ask Google to revoke the grant). Emails stay."""
    account = await _owned_account(session, owner_id, account_id, with_credentials=True)
    if account.kind == "gmail" and account.credentials is not None:
        try:
            tokens = open_credentials(settings, account) or {}
        except CredentialsUnreadable:
            tokens = {}
        token = str(tokens.get("refresh_token") or tokens.get("access_token") or "")
        if token:
            await asyncio.to_thread(
                gmail.revoke, settings.tracker, token, timeout_s=settings.tracker.http_timeout_s
            )
    account.credentials = None
    account.status, account.revoked_at, account.error = "revoked", utcnow(), None
    await session.flush()
    return account


async def delete_account(
    session: AsyncSession, settings: Settings, owner_id: uuid.UUID, account_id: uuid.UUID
) -> None:
    account = await revoke_account(session, settings, owner_id, account_id)
    await session.delete(account)
    await session.flush()


# --------------------------------------------------------------------------------------- syncs


def _send_sync(session: AsyncSession, celery: Celery, sync: MailSync) -> None:
    routing.send_after_commit(
        session,
        celery,
        SYNC_MAILBOX,
        [str(sync.id)],
        expires=SYNC_EXPIRES_S,
        owner_id=sync.owner_id,
        queue=QUEUE_IO,
    )


async def start_sync(
    session: AsyncSession, celery: Celery, owner_id: uuid.UUID, account_id: uuid.UUID
) -> MailSync:
    account = await _owned_account(session, owner_id, account_id)
    if account.kind == "upload":
        raise Invalid("Uploaded files are read when they are uploaded; upload another file instead.")
    if account.status == "revoked":
        raise Conflict("This account's access was revoked; connect it again to sync.", code="account_revoked")
    running = await repository.running_sync(session, account.id)
    if running is not None:
        return running  # one sync per account at a time: the cursor is theirs
    sync = MailSync(id=uuid.uuid4(), owner_id=owner_id, account_id=account.id, status="queued", problems=[])
    session.add(sync)
    await session.flush()
    _send_sync(session, celery, sync)
    return sync


async def upload(
    session: AsyncSession, celery: Celery, owner_id: uuid.UUID, filename: str, data: bytes, *, max_bytes: int
) -> MailSync:
    """Queue an uploaded .eml or .mbox file for reading; its bytes wait on the sync row."""
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:300] or "upload.eml"
    if len(data) > max_bytes:
        raise TooLarge(
            f"The file is larger than {max_bytes // (1024 * 1024)} MB; split the mailbox into smaller files."
        )
    if not data.strip():
        raise Invalid("The file is empty.")
    lowered = name.lower()
    if not (lowered.endswith((".eml", ".mbox")) or looks_like_mbox(data)):
        raise UnsupportedMedia("Upload an .eml message or an .mbox mailbox file.")
    if lowered.endswith(".eml") and b":" not in data[:2000]:
        raise UnsupportedMedia(
            "This .eml file has no mail headers; export the message again from your mail client."
        )
    account = await repository.upload_account(session, owner_id)
    if account is None:
        account = MailAccount(
            id=uuid.uuid4(), owner_id=owner_id, kind="upload", label="Uploaded files", config={}, cursor={}
        )
        session.add(account)
        await session.flush()
    sync = MailSync(
        id=uuid.uuid4(),
        owner_id=owner_id,
        account_id=account.id,
        status="queued",
        filename=name,
        payload=data,
        problems=[],
    )
    session.add(sync)
    await session.flush()
    _send_sync(session, celery, sync)
    return sync


async def get_sync(session: AsyncSession, owner_id: uuid.UUID, sync_id: uuid.UUID) -> MailSync:
    sync = await repository.sync(session, owner_id, sync_id)
    if sync is None:
        raise NotFound("No such sync.")
    return sync


async def list_syncs(session: AsyncSession, owner_id: uuid.UUID, limit: int) -> Sequence[MailSync]:
    return await repository.syncs(session, owner_id, limit)


# -------------------------------------------------------------------------------- applications


async def _owned_application(
    session: AsyncSession, owner_id: uuid.UUID, application_id: uuid.UUID
) -> Application:
    app = await repository.application(session, owner_id, application_id)
    if app is None:
        raise NotFound("No such application.")
    return app


async def list_applications(
    session: AsyncSession, owner_id: uuid.UUID, status: str | None
) -> Sequence[Application]:
    return await repository.applications(session, owner_id, status)


# Cached reads (mocki.cache): companies and positions, the board and the analytics, each kept as
# its response's JSON; timeline.place/edit and prep.create invalidate them (applications_changed).


async def _applications_out(session: AsyncSession, owner_id: uuid.UUID) -> list[ApplicationOut]:
    return [ApplicationOut.model_validate(a) for a in await repository.applications(session, owner_id)]


async def applications_json(session: AsyncSession, owner_id: uuid.UUID) -> bytes:
    return await read_json(
        session, APPLICATIONS, owner_id, list_adapter_of(ApplicationOut),
        lambda: _applications_out(session, owner_id),
    )  # fmt: skip


async def applications_with_status(
    session: AsyncSession, owner_id: uuid.UUID, status: str
) -> list[ApplicationOut]:
    """The cached list, filtered: same order as the query with that status (it sorts the same way)."""
    found = list_adapter_of(ApplicationOut).validate_json(await applications_json(session, owner_id))
    return [a for a in found if a.status == status]


async def board_json(session: AsyncSession, owner_id: uuid.UUID) -> bytes:
    async def load() -> BoardOut:
        columns = await board(session, owner_id)
        out = {k: [ApplicationOut.model_validate(a) for a in v] for k, v in columns.items()}
        return BoardOut(columns=out)

    return await read_json(session, BOARD, owner_id, adapter_of(BoardOut), load)


async def analytics_json(session: AsyncSession, owner_id: uuid.UUID) -> bytes:
    async def load() -> AnalyticsOut:
        return AnalyticsOut(**await analytics(session, owner_id))

    return await read_json(session, ANALYTICS, owner_id, adapter_of(AnalyticsOut), load)


async def get_application(
    session: AsyncSession, owner_id: uuid.UUID, application_id: uuid.UUID
) -> tuple[Application, Sequence[ApplicationEvent]]:
    app = await _owned_application(session, owner_id, application_id)
    return app, await repository.events(session, app.id)


async def create_application(session: AsyncSession, owner_id: uuid.UUID, body: ApplicationIn) -> Application:
    return await timeline.create_manual(
        session, owner_id, body.company.strip(), body.position.strip(), body.status, body.notes
    )


async def update_application(
    session: AsyncSession, owner_id: uuid.UUID, application_id: uuid.UUID, body: ApplicationPatch
) -> Application:
    app = await _owned_application(session, owner_id, application_id)
    changes = {name: getattr(body, name) for name in timeline.MANUAL_FIELDS if name in body.model_fields_set}
    for name in ("company", "position"):
        value = changes.get(name)
        if isinstance(value, str):
            changes[name] = value.strip()
    if changes.get("company") == "" and "company" in body.model_fields_set:
        changes["company"] = None
    await timeline.edit(session, app, changes, body.notes)
    return app


async def board(session: AsyncSession, owner_id: uuid.UUID) -> dict[str, list[Application]]:
    return timeline.board(await repository.applications(session, owner_id))


async def analytics(session: AsyncSession, owner_id: uuid.UUID) -> dict[str, Any]:
    return timeline.analytics(await repository.applications(session, owner_id))


async def list_emails(
    session: AsyncSession,
    owner_id: uuid.UUID,
    *,
    thread_key: str | None,
    application_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> Sequence[Email]:
    return await repository.emails(
        session, owner_id, thread_key=thread_key, application_id=application_id, limit=limit, offset=offset
    )


async def list_threads(
    session: AsyncSession, owner_id: uuid.UUID, limit: int, offset: int
) -> list[dict[str, Any]]:
    return await repository.threads(session, owner_id, limit, offset)


# ------------------------------------------------------------------------------ todos, reminders


async def _owned_todo(session: AsyncSession, owner_id: uuid.UUID, todo_id: uuid.UUID) -> Todo:
    todo = await todos.owned(session, owner_id, todo_id)
    if todo is None:
        raise NotFound("No such todo.")
    return todo


async def list_todos(
    session: AsyncSession, owner_id: uuid.UUID, status: str | None, application_id: uuid.UUID | None
) -> Sequence[Todo]:
    return await todos.listed(session, owner_id, status, application_id)


async def create_todo(session: AsyncSession, owner_id: uuid.UUID, body: TodoIn) -> Todo:
    if body.application_id is not None:
        await _owned_application(session, owner_id, body.application_id)
    todo = Todo(
        id=uuid.uuid4(), owner_id=owner_id, application_id=body.application_id, kind="user",
        title=body.title.strip() or body.title, notes=body.notes, link=body.link, due_at=body.due_at,
        status="todo",
    )  # fmt: skip
    session.add(todo)
    await session.flush()
    todos.broadcast_after_commit(session, owner_id, todos.payload(todo, "created"))
    return todo


async def update_todo(
    session: AsyncSession, owner_id: uuid.UUID, todo_id: uuid.UUID, body: TodoPatch
) -> Todo:
    todo = await _owned_todo(session, owner_id, todo_id)
    fields = body.model_fields_set
    if "title" in fields:
        if body.title is None:
            raise Invalid("A todo needs a title.", code="todo_title_required")
        todo.title = body.title
    for name in ("notes", "link", "due_at"):
        if name in fields:
            value = getattr(body, name)
            setattr(todo, name, "" if name == "notes" and value is None else value)
    if "status" in fields:
        if body.status is None:
            raise Invalid("Status is 'todo' or 'done'.", code="todo_status_required")
        todos.set_status(todo, body.status)
    await session.flush()
    todos.broadcast_after_commit(session, owner_id, todos.payload(todo, "updated"))
    return todo


async def delete_todo(session: AsyncSession, owner_id: uuid.UUID, todo_id: uuid.UUID) -> None:
    todo = await _owned_todo(session, owner_id, todo_id)
    data = todos.payload(todo, "deleted")
    await session.delete(todo)
    await session.flush()
    todos.broadcast_after_commit(session, owner_id, data)


async def reminder_preference(session: AsyncSession, owner_id: uuid.UUID) -> ReminderPreference:
    return await reminders.preference(session, owner_id)


async def set_reminder_preference(
    session: AsyncSession, owner_id: uuid.UUID, enabled: bool
) -> ReminderPreference:
    pref = await reminders.preference(session, owner_id)
    pref.enabled = enabled
    return pref


async def unsubscribe_reminders(session: AsyncSession, token: str, kind: str = "reminders") -> None:
    if not await reminders.unsubscribe(session, token, kind):
        raise NotFound("This unsubscribe link is not valid.", code="unsubscribe_token_unknown")


# ------------------------------------------------------------------ notices and the weekly digest


def notification_preference_out(pref: ReminderPreference) -> NotificationPreferenceOut:
    return NotificationPreferenceOut(
        reminders=pref.enabled, notices=pref.notices_enabled, digest=pref.digest_enabled,
        digest_weekday=pref.digest_weekday, digest_hour=pref.digest_hour, timezone=pref.timezone,
    )  # fmt: skip


async def notification_preference(session: AsyncSession, owner_id: uuid.UUID) -> NotificationPreferenceOut:
    return notification_preference_out(await reminders.preference(session, owner_id))


async def set_notification_preference(
    session: AsyncSession, owner_id: uuid.UUID, body: NotificationPreferenceIn
) -> NotificationPreferenceOut:
    pref = await reminders.preference(session, owner_id)
    columns = {"reminders": "enabled", "notices": "notices_enabled", "digest": "digest_enabled"}
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(pref, columns.get(name, name), value)
    await session.flush()
    return notification_preference_out(pref)


# ------------------------------------------------------------------------- jobs, recommendations


async def import_jobs(
    session: AsyncSession, celery: Celery, user: User, filename: str, data: bytes, *, shared: bool
) -> JobImport:
    """Keep the file's good rows (bad ones are reported by line) and embed the new ones on a worker."""
    if shared and user.role != "admin":
        raise Forbidden("Only administrators import a catalogue shared with everyone.", code="admin_only")
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:300] or "postings"
    parsed = await asyncio.to_thread(jobs.parse_catalogue, name, data)
    job = await jobs.store(session, user.id, name, parsed, shared=shared)
    if job.added:
        routing.send_after_commit(
            session, celery, EMBED_JOBS, [str(job.id)], expires=EMBED_JOBS_EXPIRES_S, owner_id=user.id,
            queue=QUEUE_IO,
        )  # fmt: skip
    return job


async def get_job_import(session: AsyncSession, owner_id: uuid.UUID, import_id: uuid.UUID) -> JobImport:
    job = await repository.job_import(session, owner_id, import_id)
    if job is None:
        raise NotFound("No such import.", code="job_import_not_found")
    return job


def _line(best: tuple[int, str] | None) -> ResumeLine | None:
    return ResumeLine(line=best[0], text=best[1]) if best else None


def posting_out(posting: JobPosting) -> JobPostingOut:
    return JobPostingOut(
        id=posting.id, title=posting.title, company=posting.company, location=posting.location,
        url=posting.url, skills=list(posting.skills), posted_at=posting.posted_at,
        shared=posting.scope == SHARED_SCOPE, embedded=posting.embed_model is not None,
    )  # fmt: skip


async def list_jobs(
    session: AsyncSession, owner_id: uuid.UUID, limit: int, offset: int
) -> list[JobPostingOut]:
    return [posting_out(p) for p in await repository.job_postings(session, owner_id, limit, offset)]


async def recommendations(
    session: AsyncSession, embedder: Embedder, owner_id: uuid.UUID, limit: int
) -> RecommendationsOut:
    resume, ranked = await recommend.recommend(session, embedder, owner_id, limit)
    return RecommendationsOut(
        resume_id=resume.document_id,
        resume_title=resume.title,
        resume_skills=sorted(resume.skills),
        items=[
            RecommendationOut(
                posting=posting_out(r.posting),
                score=r.score,
                semantic=r.semantic,
                skill_overlap=r.skill_overlap,
                matched_skills=r.matched_skills,
                missing_skills=r.missing_skills,
                best_resume_line=_line(r.best_line),
            )
            for r in ranked
        ],
    )


async def prepare(
    session: AsyncSession, celery: Celery, owner_id: uuid.UUID, application_id: uuid.UUID
) -> uuid.UUID:
    """A prep interview for the application now; Conflict naming the open one when it has one."""
    app = await repository.application(session, owner_id, application_id, for_update=True)
    if app is None:
        raise NotFound("No such application.")
    return await prep.on_demand(session, app, celery)
