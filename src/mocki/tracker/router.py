"""HTTP endpoints of the tracker: mail accounts, syncs and uploads, applications, board, analytics, emails."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from redis.asyncio import Redis

from mocki.auth.deps import CurrentUser
from mocki.cache.reads import NOT_MODIFIED, json_response, list_adapter_of
from mocki.core.db import MAX_OFFSET
from mocki.deps import CeleryDep, SessionDep, SettingsDep
from mocki.documents.service import read_limited
from mocki.retrieval.embeddings import Embedder
from mocki.security import audit
from mocki.security.ratelimit import llm_limit
from mocki.tracker import service
from mocki.tracker.schemas import (
    AccountOut,
    AccountPatch,
    AnalyticsOut,
    ApplicationDetailOut,
    ApplicationIn,
    ApplicationOut,
    ApplicationPatch,
    ApplicationStatus,
    BoardOut,
    EmailOut,
    EventOut,
    GmailAuthorizeIn,
    GmailAuthorizeOut,
    GmailCallbackIn,
    ImapAccountIn,
    JobImportOut,
    JobPostingOut,
    NotificationPreferenceIn,
    NotificationPreferenceOut,
    PrepOut,
    RecommendationsOut,
    ReminderPreferenceIn,
    ReminderPreferenceOut,
    SyncOut,
    ThreadOut,
    TodoIn,
    TodoOut,
    TodoPatch,
    TodoStatus,
    UnsubscribeKind,
)

router = APIRouter(prefix="/tracker", tags=["tracker"])


def _redis(request: Request) -> Redis[bytes]:
    redis: Redis[bytes] = request.app.state.redis
    return redis


def _embedder(request: Request) -> Embedder:
    embedder: Embedder = request.app.state.embedder
    return embedder


# ------------------------------------------------------------------------------------ accounts


@router.post("/accounts/imap", response_model=AccountOut, status_code=status.HTTP_201_CREATED)
async def add_imap_account(
    body: ImapAccountIn, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> AccountOut:
    """Connect an IMAP mailbox (an app password for Gmail, Outlook, Fastmail); checked by signing in once."""
    account = await service.add_imap_account(session, settings, user.id, body)
    audit.record(session, user.id, audit.MAIL_CONNECTED, target_type="mail_account", target_id=account.id)
    return AccountOut.model_validate(account)


@router.post("/accounts/gmail/authorize", response_model=GmailAuthorizeOut)
async def gmail_authorize(
    body: GmailAuthorizeIn, request: Request, user: CurrentUser, settings: SettingsDep
) -> GmailAuthorizeOut:
    """Start Gmail's OAuth2 consent (read-only): send the browser to `authorization_url`."""
    url, state = await service.gmail_authorize(_redis(request), settings, user.id, body)
    return GmailAuthorizeOut(authorization_url=url, state=state)


@router.post("/accounts/gmail/callback", response_model=AccountOut, status_code=status.HTTP_201_CREATED)
async def gmail_callback(
    body: GmailCallbackIn, request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> AccountOut:
    """Finish the consent with the `code` and `state` Google sent back to the web app."""
    account = await service.gmail_callback(session, _redis(request), settings, user.id, body.code, body.state)
    audit.record(session, user.id, audit.MAIL_CONNECTED, target_type="mail_account", target_id=account.id)
    return AccountOut.model_validate(account)


@router.get("/accounts", response_model=list[AccountOut])
async def list_accounts(user: CurrentUser, session: SessionDep) -> list[AccountOut]:
    return [AccountOut.model_validate(a) for a in await service.list_accounts(session, user.id)]


@router.get("/accounts/{account_id}", response_model=AccountOut)
async def get_account(account_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> AccountOut:
    return AccountOut.model_validate(await service.get_account(session, user.id, account_id))


@router.patch("/accounts/{account_id}", response_model=AccountOut)
async def update_account(
    account_id: uuid.UUID, body: AccountPatch, user: CurrentUser, session: SessionDep
) -> AccountOut:
    return AccountOut.model_validate(await service.update_account(session, user.id, account_id, body))


@router.post("/accounts/{account_id}/revoke", response_model=AccountOut)
async def revoke_account(
    account_id: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> AccountOut:
    """Delete the stored password or tokens (Gmail: also revoked at Google); the emails read stay."""
    audit.record(session, user.id, audit.MAIL_REVOKED, target_type="mail_account", target_id=account_id)
    return AccountOut.model_validate(await service.revoke_account(session, settings, user.id, account_id))


@router.delete("/accounts/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_account(
    account_id: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> Response:
    await service.delete_account(session, settings, user.id, account_id)
    audit.record(session, user.id, audit.MAIL_DELETED, target_type="mail_account", target_id=account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------------------- syncs


@router.post(
    "/accounts/{account_id}/sync",
    response_model=SyncOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[llm_limit("tracker.sync")],
)
async def start_sync(
    account_id: uuid.UUID, user: CurrentUser, session: SessionDep, celery: CeleryDep
) -> SyncOut:
    """Read the account's new mail and analyse it; poll the sync for progress (one runs per account)."""
    return SyncOut.model_validate(await service.start_sync(session, celery, user.id, account_id))


@router.post(
    "/uploads",
    response_model=SyncOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[llm_limit("tracker.upload")],
)
async def upload_mail(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    celery: CeleryDep,
    file: Annotated[UploadFile, File(description=".eml message or .mbox mailbox")],
) -> SyncOut:
    limit = settings.documents.max_bytes
    data = await read_limited(file, limit)
    sync = await service.upload(session, celery, user.id, file.filename or "", data, max_bytes=limit)
    return SyncOut.model_validate(sync)


@router.get("/syncs", response_model=list[SyncOut])
async def list_syncs(
    user: CurrentUser, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[SyncOut]:
    return [SyncOut.model_validate(s) for s in await service.list_syncs(session, user.id, limit)]


@router.get("/syncs/{sync_id}", response_model=SyncOut)
async def get_sync(sync_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> SyncOut:
    return SyncOut.model_validate(await service.get_sync(session, user.id, sync_id))


# -------------------------------------------------------------------------------- applications


@router.get("/applications", response_model=list[ApplicationOut], responses=NOT_MODIFIED)
async def list_applications(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[ApplicationStatus | None, Query()] = None,
) -> Response:
    # Companies and positions, from the cache (mocki.cache.reads): the JSON as it was stored.
    if status is None:
        return json_response(request, await service.applications_json(session, user.id))
    found = await service.applications_with_status(session, user.id, status)
    return json_response(request, list_adapter_of(ApplicationOut).dump_json(found))


@router.post("/applications", response_model=ApplicationOut, status_code=status.HTTP_201_CREATED)
async def create_application(body: ApplicationIn, user: CurrentUser, session: SessionDep) -> ApplicationOut:
    return ApplicationOut.model_validate(await service.create_application(session, user.id, body))


@router.get("/applications/{application_id}", response_model=ApplicationDetailOut)
async def get_application(
    application_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> ApplicationDetailOut:
    """The application with its status history (its events, oldest first)."""
    app, events = await service.get_application(session, user.id, application_id)
    out = ApplicationOut.model_validate(app)
    return ApplicationDetailOut(**out.model_dump(), events=[EventOut.model_validate(e) for e in events])


@router.patch("/applications/{application_id}", response_model=ApplicationOut)
async def update_application(
    application_id: uuid.UUID, body: ApplicationPatch, user: CurrentUser, session: SessionDep
) -> ApplicationOut:
    """Set company, position or status by hand (they win over every later sync); null hands one back."""
    return ApplicationOut.model_validate(
        await service.update_application(session, user.id, application_id, body)
    )


@router.post(
    "/applications/{application_id}/prep", response_model=PrepOut, status_code=status.HTTP_201_CREATED
)
async def prepare_application(
    application_id: uuid.UUID, user: CurrentUser, session: SessionDep, celery: CeleryDep
) -> PrepOut:
    """Make the application's prep mock interview now (409 naming it when one is still open)."""
    interview_id = await service.prepare(session, celery, user.id, application_id)
    return PrepOut(application_id=application_id, interview_id=interview_id)


@router.get("/board", response_model=BoardOut, responses=NOT_MODIFIED)
async def board(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Applications in columns: applied → assessment → interview → offer / rejected."""
    return json_response(request, await service.board_json(session, user.id))


@router.get("/analytics", response_model=AnalyticsOut, responses=NOT_MODIFIED)
async def analytics(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Response rate, days to a first response (overall and by company), the active pipeline."""
    return json_response(request, await service.analytics_json(session, user.id))


# -------------------------------------------------------------------------------------- emails


@router.get("/emails", response_model=list[EmailOut])
async def list_emails(
    user: CurrentUser,
    session: SessionDep,
    thread: Annotated[str | None, Query(max_length=64)] = None,
    application: Annotated[uuid.UUID | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[EmailOut]:
    emails = await service.list_emails(
        session, user.id, thread_key=thread, application_id=application, limit=limit, offset=offset
    )
    return [EmailOut.model_validate(e) for e in emails]


@router.get("/threads", response_model=list[ThreadOut])
async def list_threads(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[ThreadOut]:
    return [ThreadOut(**t) for t in await service.list_threads(session, user.id, limit, offset)]


# ------------------------------------------------------------------------------ todos, reminders


@router.get("/todos", response_model=list[TodoOut])
async def list_todos(
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[TodoStatus | None, Query()] = None,
    application: Annotated[uuid.UUID | None, Query()] = None,
) -> list[TodoOut]:
    """Open todos first, by due date: from the emails (assessments, interviews, follow-ups) and your own."""
    return [
        TodoOut.model_validate(t) for t in await service.list_todos(session, user.id, status, application)
    ]


@router.post("/todos", response_model=TodoOut, status_code=status.HTTP_201_CREATED)
async def create_todo(body: TodoIn, user: CurrentUser, session: SessionDep) -> TodoOut:
    return TodoOut.model_validate(await service.create_todo(session, user.id, body))


@router.patch("/todos/{todo_id}", response_model=TodoOut)
async def update_todo(todo_id: uuid.UUID, body: TodoPatch, user: CurrentUser, session: SessionDep) -> TodoOut:
    """Edit a todo or mark it `done` (and back to `todo`); every device of yours hears it live."""
    return TodoOut.model_validate(await service.update_todo(session, user.id, todo_id, body))


@router.delete("/todos/{todo_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_todo(todo_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete_todo(session, user.id, todo_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/reminders/preferences", response_model=ReminderPreferenceOut)
async def reminder_preferences(user: CurrentUser, session: SessionDep) -> ReminderPreferenceOut:
    return ReminderPreferenceOut.model_validate(await service.reminder_preference(session, user.id))


@router.put("/reminders/preferences", response_model=ReminderPreferenceOut)
async def set_reminder_preferences(
    body: ReminderPreferenceIn, user: CurrentUser, session: SessionDep
) -> ReminderPreferenceOut:
    """Turn deadline reminder mail on or off."""
    return ReminderPreferenceOut.model_validate(
        await service.set_reminder_preference(session, user.id, body.enabled)
    )


@router.get("/reminders/unsubscribe", response_model=ReminderPreferenceOut)
async def unsubscribe(
    session: SessionDep,
    token: Annotated[str, Query(min_length=16, max_length=64)],
    kind: Annotated[UnsubscribeKind, Query()] = "reminders",
) -> ReminderPreferenceOut:
    """The link in every tracker mail: turns that kind (reminders, notices, digest) off without signing in."""
    await service.unsubscribe_reminders(session, token, kind)
    return ReminderPreferenceOut(enabled=False)


@router.get("/notifications/preferences", response_model=NotificationPreferenceOut)
async def notification_preferences(user: CurrentUser, session: SessionDep) -> NotificationPreferenceOut:
    """Deadline reminders, status-change notices and the weekly digest (its weekday and hour)."""
    return await service.notification_preference(session, user.id)


@router.put("/notifications/preferences", response_model=NotificationPreferenceOut)
async def set_notification_preferences(
    body: NotificationPreferenceIn, user: CurrentUser, session: SessionDep
) -> NotificationPreferenceOut:
    """Change any of them; fields left out keep their value. The digest hour is in `timezone`."""
    return await service.set_notification_preference(session, user.id, body)


# ------------------------------------------------------------------------- jobs, recommendations


@router.post("/jobs/import", response_model=JobImportOut, status_code=status.HTTP_202_ACCEPTED)
async def import_jobs(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    celery: CeleryDep,
    file: Annotated[UploadFile, File(description=".jsonl (one posting a line) or .csv with a header")],
    shared: Annotated[bool, Form(description="admins: share the postings with every user")] = False,
) -> JobImportOut:
    """Add postings (title, company, location, description, url, skills, posted_at); bad rows are
    reported by line and the good ones kept. Poll the import while its postings are embedded."""
    data = await read_limited(file, settings.documents.max_bytes)
    job = await service.import_jobs(session, celery, user, file.filename or "", data, shared=shared)
    return JobImportOut.model_validate(job)


@router.get("/jobs/imports/{import_id}", response_model=JobImportOut)
async def get_job_import(import_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> JobImportOut:
    return JobImportOut.model_validate(await service.get_job_import(session, user.id, import_id))


@router.get("/jobs", response_model=list[JobPostingOut])
async def list_jobs(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[JobPostingOut]:
    """Your catalogue and the shared one, newest postings first."""
    return await service.list_jobs(session, user.id, limit, offset)


@router.get("/recommendations", response_model=RecommendationsOut)
async def recommendations(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> RecommendationsOut:
    """Postings ranked for your latest resume, with the skills matched and missing and the resume
    line that matched best; postings you already applied to are left out."""
    return await service.recommendations(session, _embedder(request), user.id, limit)
