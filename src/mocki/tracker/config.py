"""The tracker's settings section (`MOCKI_TRACKER__*`), kept free of imports so settings.py can use it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

GMAIL_READONLY_SCOPE = "https://www.googleapis.com/auth/gmail.readonly"


class TrackerSettings(BaseModel):
    # Gmail (OAuth2 web flow, read-only). Off until a client id and secret are configured.
    google_client_id: str = ""
    google_client_secret: str = ""
    # Where Google sends the browser back: a page of the web app, which hands the code and state
    # to POST /api/v1/tracker/accounts/gmail/callback. Empty: http://<host>:<port>/tracker/gmail/callback.
    google_redirect_uri: str = ""
    google_auth_uri: str = "https://accounts.google.com/o/oauth2/auth"
    google_token_uri: str = "https://oauth2.googleapis.com/token"
    google_revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    gmail_api_url: str = "https://gmail.googleapis.com"
    # When the LLM reads emails: "always" (every email), "fallback" (only those the offline
    # classifier is unsure of), "off", or "auto": always with an endpoint, fallback with the
    # packaged local model.
    llm: Literal["auto", "always", "fallback", "off"] = "auto"
    # Model calls of all analysis tasks together, across every worker (a Redis semaphore).
    llm_concurrency: int = Field(default=4, ge=1, le=256)
    # Local default: an email the offline classifier labels with less confidence than this is
    # also asked of the local model (0 never asks it). With an endpoint every email is asked.
    llm_fallback_below: float = Field(default=0.5, ge=0.0, le=1.0)
    # Messages fetched and stored per transaction, and emails per analysis task.
    fetch_batch: int = Field(default=200, ge=1, le=5000)
    analysis_batch: int = Field(default=50, ge=1, le=1000)
    # Bigger messages are skipped (and reported); attachments are never stored.
    max_message_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # A first sync without a `since` date reaches this far back.
    first_sync_days: int = Field(default=365, ge=1)
    imap_timeout_s: float = Field(default=60.0, gt=0)
    http_timeout_s: float = Field(default=30.0, gt=0)
    # Reminder mail (tracker/reminders.py): SMTP server; empty host logs the messages instead.
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = "MOCKI <mocki@localhost>"
    # Where the unsubscribe link points (the api's public address).
    public_url: str = "http://127.0.0.1:8765"
    # Outgoing mail (reminders, status notices, the weekly digest): SMTP above, or Resend's
    # HTTP API with an API key (`resend_base_url` points it elsewhere, e.g. a test server).
    mail_provider: Literal["smtp", "resend"] = "smtp"
    resend_api_key: str = ""
    resend_base_url: str = ""
    # Status notices only for changes whose email is at most this old: importing a year of mail
    # is no news (0: every change).
    notice_max_age_days: int = Field(default=14, ge=0)
    # Beat: an incremental sync of every connected mailbox this often (0: never).
    sync_every_minutes: float = Field(default=30.0, ge=0)
    # IMAP over SSL/STARTTLS: a PEM file of extra CA certificates to trust (a self-signed or
    # company CA), besides the system's.
    imap_ca_file: str = ""
