"""Mail through Resend's HTTP API (the `resend` SDK) pointed at a local server implementing POST
/emails: the request the SDK really sends, the tracker's mail kinds over it, failures released."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from mocki.core.timeutil import utcnow
from mocki.settings import Settings
from mocki.tracker import mailer, reminders
from mocki.tracker.config import TrackerSettings
from tests.integration.tracker.conftest import API
from tests.integration.tracker.mailsink import ResendServer


def _config(settings: Settings, server: ResendServer, **extra: Any) -> TrackerSettings:
    values = {
        "mail_provider": "resend", "resend_api_key": "re_test_123", "resend_base_url": server.url,
        "public_url": "http://mocki.test", "mail_from": "MOCKI <mocki@mocki.test>", **extra,
    }  # fmt: skip
    return settings.tracker.model_copy(update=values)


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = "Hello", "MOCKI <mocki@mocki.test>", "sam@example.com"
    msg["List-Unsubscribe"] = "<http://mocki.test/u?token=abc>"
    msg.set_content("Line one\nLine two — with a dash\n")
    return msg


def test_the_sdk_posts_the_message_to_the_configured_base_url(
    settings: Settings, resend_server: ResendServer
) -> None:
    sent_id = mailer.deliver(_config(settings, resend_server), _message(), "user-1:digest:2026-W48")
    assert sent_id  # the id the server answered
    [(headers, body)] = resend_server.requests
    assert headers["Authorization"] == "Bearer re_test_123"
    assert headers["Idempotency-Key"] == "user-1:digest:2026-W48"
    assert body["from"] == "MOCKI <mocki@mocki.test>" and body["to"] == ["sam@example.com"]
    assert body["subject"] == "Hello"
    assert body["text"] == "Line one\nLine two — with a dash\n"
    assert body["headers"] == {"List-Unsubscribe": "<http://mocki.test/u?token=abc>"}


def test_refusals_and_missing_keys_are_mail_not_sent(settings: Settings, resend_server: ResendServer) -> None:
    resend_server.status = 422
    with pytest.raises(mailer.MailNotSent, match="refused by the test"):
        mailer.deliver(_config(settings, resend_server), _message())
    with pytest.raises(mailer.MailNotSent, match="no resend_api_key"):
        mailer.deliver(_config(settings, resend_server, resend_api_key=""), _message())
    closed = _config(settings, resend_server, resend_base_url="http://127.0.0.1:9")  # nothing listens
    with pytest.raises(mailer.MailNotSent):
        mailer.deliver(closed, _message())
    assert resend_server.requests == []


async def test_deadline_reminders_go_out_through_resend(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], settings: Settings, resend_server: ResendServer
) -> None:
    now = utcnow()
    resp = await client.post(
        f"{API}/todos",
        headers=auth,
        json={"title": "Send the signed offer", "due_at": (now + timedelta(minutes=30)).isoformat()},
    )
    assert resp.status_code == 201, resp.text
    config = _config(settings, resend_server)
    assert (await reminders.send_due_reminders(app.state.sessionmaker, config, now))["sent"] == 1
    assert (await reminders.send_due_reminders(app.state.sessionmaker, config, now))["sent"] == 0
    [(headers, body)] = resend_server.requests
    assert body["subject"] == "Reminder: Send the signed offer (in 1 hour)"
    assert headers["Idempotency-Key"] == f"reminder:{resp.json()['id']}:1h"
    assert "http://mocki.test/api/v1/tracker/reminders/unsubscribe?token=" in body["text"]
