"""The pure parts of the tracker's mail: the digest slot in a user's zone, Resend's request body,
and how a notice words its changes."""

from __future__ import annotations

from datetime import UTC, datetime

from mocki.tracker import digest, mailer, notices
from mocki.tracker.config import TrackerSettings


def test_the_digest_slot_is_the_users_weekday_and_hour_in_their_zone() -> None:
    # Monday 30 November 2026 09:00 in New York is 14:00 UTC; the window stays open 6 hours.
    ny = "America/New_York"
    assert digest.slot(0, 9, ny, datetime(2026, 11, 30, 13, 59, tzinfo=UTC)) is None
    opened = digest.slot(0, 9, ny, datetime(2026, 11, 30, 14, 0, tzinfo=UTC))
    assert opened is not None and opened.key == "2026-W49"
    assert digest.slot(0, 9, ny, datetime(2026, 11, 30, 19, 59, tzinfo=UTC)) is not None
    assert digest.slot(0, 9, ny, datetime(2026, 11, 30, 20, 0, tzinfo=UTC)) is None
    # A Sunday 22:00 slot is still open early on Monday, under the week of that Sunday.
    late = digest.slot(6, 22, "UTC", datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    assert late is not None and late.key == "2026-W48"
    # An unknown zone (an old row, a removed zone) counts as UTC rather than failing.
    assert digest.slot(0, 8, "Nowhere/Else", datetime(2026, 11, 30, 8, 30, tzinfo=UTC)) is not None


def test_resend_gets_text_recipients_and_extra_headers() -> None:
    config = TrackerSettings(public_url="http://mocki.test")
    msg = notices.compose(
        config,
        "sam@example.com",
        [
            notices.Line("Acme", "Backend Engineer", "interview", "offer"),
            notices.Line("Brightpath", "", None, "applied"),
        ],
        "tok-123",
    )
    params = mailer.resend_params(msg)
    assert params["to"] == ["sam@example.com"] and params["subject"] == "2 application updates"
    assert params["text"].splitlines()[2:4] == [
        "- Acme (Backend Engineer): interview → offer",
        "- Brightpath: new application, applied",
    ]
    link = "http://mocki.test/api/v1/tracker/reminders/unsubscribe?token=tok-123&kind=notices"
    assert params["headers"] == {"List-Unsubscribe": f"<{link}>"}
    assert link in params["text"]
