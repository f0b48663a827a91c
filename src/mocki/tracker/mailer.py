"""Outgoing mail of the tracker (reminders, status notices, the weekly digest): SMTP or Resend.

Messages are composed once as `EmailMessage`s; `deliver` hands them to the configured provider in
the caller's thread (callers run it with `asyncio.to_thread`). Every provider failure comes out as
`MailNotSent`, so a caller releases its claim on one exception type whatever the provider.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from email.message import EmailMessage
from typing import Any

from mocki.tracker.config import TrackerSettings

log = logging.getLogger(__name__)

# The resend SDK keeps its key and address in module globals: one send at a time sets and uses them.
_RESEND_LOCK = threading.Lock()
# Headers Resend takes as fields of its own; any other header travels in `headers`.
_RESEND_FIELDS = {"from", "to", "subject", "cc", "bcc", "reply-to", "content-type", "mime-version",
                  "content-transfer-encoding"}  # fmt: skip


class MailNotSent(Exception):
    """The provider refused the message or could not be reached; safe to try again later."""


def deliver(config: TrackerSettings, msg: EmailMessage, idempotency_key: str = "") -> str:
    """Send one message; returns the provider's id for it ("" for SMTP, which gives none).

    `idempotency_key` goes to Resend as its Idempotency-Key: a retry it already accepted is not
    sent again there either."""
    if config.mail_provider == "resend":
        return _resend_send(config, msg, idempotency_key)
    _smtp_send(config, msg)
    return ""


def _smtp_send(config: TrackerSettings, msg: EmailMessage) -> None:
    """With no server configured the message is logged (development)."""
    if not config.smtp_host:
        log.info("mail (no SMTP server configured):\n%s", msg)
        return
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=30) as smtp:
            if config.smtp_starttls:
                smtp.starttls()
            if config.smtp_username:
                smtp.login(config.smtp_username, config.smtp_password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(f"SMTP {config.smtp_host}:{config.smtp_port}: {exc}") from exc


def resend_params(msg: EmailMessage) -> dict[str, Any]:
    """The message as the body of Resend's POST /emails: plain text, extra headers kept."""
    body = msg.get_body(("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else str(msg.get_payload())
    headers = {k: str(v) for k, v in msg.items() if k.lower() not in _RESEND_FIELDS}
    params: dict[str, Any] = {
        "from": str(msg["From"]),
        "to": [a.strip() for a in str(msg["To"]).split(",") if a.strip()],
        "subject": str(msg["Subject"]),
        "text": text,
    }
    if headers:
        params["headers"] = headers
    return params


def _resend_send(config: TrackerSettings, msg: EmailMessage, idempotency_key: str) -> str:
    if not config.resend_api_key:
        raise MailNotSent("mail_provider is resend but no resend_api_key is configured")
    import resend  # only deployments that use Resend need the SDK loaded

    params = resend_params(msg)
    with _RESEND_LOCK:
        resend.api_key = config.resend_api_key
        if config.resend_base_url:
            resend.api_url = config.resend_base_url.rstrip("/")
        try:
            options: resend.Emails.SendOptions = (
                {"idempotency_key": idempotency_key} if idempotency_key else {}
            )
            sent = resend.Emails.send(params, options)  # type: ignore[arg-type]  # a TypedDict we fill as a dict
        except Exception as exc:  # the SDK raises its own errors and requests' alike
            raise MailNotSent(f"Resend: {exc}") from exc
    return str(sent.get("id", "")) if isinstance(sent, dict) else ""
