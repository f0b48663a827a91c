"""A small job search in mail form, written for these tests: what each message should become is known."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime


def message(
    subject: str, sender: str, day: int, body: str, *, message_id: str, html: str | None = None, hour: int = 9
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "sam@example.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2024, 3, day, hour, 0, tzinfo=UTC))
    msg["Message-ID"] = f"<{message_id}@test.example>"
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    return bytes(msg)


ACME_APPLIED = message(
    "Thank you for applying to Acme Robotics",
    "Acme Robotics Careers <careers@acmerobotics.example>",
    1,
    "Hi Sam,\n\nThank you for applying for the Backend Engineer position at Acme Robotics. We have received "
    "your application and our team will review it.\n\nThe Acme Robotics Recruiting Team",
    message_id="acme-applied",
)
ACME_INTERVIEW = message(
    "Interview invitation - Backend Engineer",
    "Acme Robotics Careers <careers@acmerobotics.example>",
    5,
    "Hi Sam,\n\nWe were impressed by your application and would like to invite you to an interview for the "
    "Backend Engineer position. Your interview is confirmed for Monday, March 11 at 2:00 PM UTC over Zoom: "
    "https://acme.zoom.us/j/123456789\n\nThe Acme Robotics Recruiting Team",
    message_id="acme-interview",
)
ACME_REJECTED = message(
    "Update on your Backend Engineer application",
    "Acme Robotics Careers <careers@acmerobotics.example>",
    14,
    "Hi Sam,\n\nThank you for your time interviewing with Acme Robotics. Unfortunately, we have decided to "
    "move forward with other candidates whose experience more closely matches our needs.\n\nWe wish you the "
    "best of luck in your job search.\n\nThe Acme Robotics Recruiting Team",
    message_id="acme-rejected",
)
BRIGHTPATH_ASSESSMENT = message(
    "Brightpath coding assessment",
    "Brightpath Hiring Team <no-reply@greenhouse.io>",
    6,
    "Hello Sam,\n\nAs the next step in our process for the Data Engineer role, we'd like you to complete an "
    "online coding assessment on HackerRank. Please complete it within 5 days.\n\nBrightpath Hiring Team",
    message_id="brightpath-assessment",
    html="<p>As the next step in our process for the Data Engineer role, we'd like you to complete an online "
    "coding assessment on HackerRank. Please complete it within 5 days.</p>"
    '<p><a href="https://www.hackerrank.com/test/brightpath-42">Start the assessment</a></p>',
)
JOB_ALERT = message(
    "New jobs matching your search",
    "JobBoard Alerts <alerts@jobboard.example>",
    7,
    "Here are new jobs that match your saved search: Data Analyst at Orbitly, QA Engineer at Fernway. "
    "Manage your job alerts or unsubscribe.",
    message_id="alert-1",
)
GARBAGE = b"\x00\x01\x02 this is not mail \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

ALL = [ACME_APPLIED, ACME_INTERVIEW, BRIGHTPATH_ASSESSMENT, JOB_ALERT]


def numbered(count: int, *, start: int = 0, tag: str = "bulk") -> list[bytes]:
    """Small distinct application confirmations, quick to write by the thousand."""
    out = []
    for n in range(start, start + count):
        out.append(
            (
                f"From: Company {n % 97} Careers <careers@company{n % 97}.example>\r\n"
                f"Subject: Thank you for applying to Company {n % 97}\r\n"
                f"Date: Mon, 04 Mar 2024 {n % 24:02d}:{n % 60:02d}:00 +0000\r\n"
                f"Message-ID: <{tag}-{n}@test.example>\r\n\r\n"
                f"We have received your application number {n}.\r\n"
            ).encode()
        )
    return out
