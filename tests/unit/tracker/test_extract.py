"""Extraction rules, credentials encryption, status derivation, the LLM reply parser and the metrics."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mocki.models.tracker import Application, ApplicationEvent
from mocki.settings import Settings
from mocki.tracker import extract, timeline
from mocki.tracker.analysis import MailInput, with_fields
from mocki.tracker.crypto import CredentialsUnreadable, seal, unseal
from mocki.tracker.evaluate import status_metrics
from mocki.tracker.llm import parse_view

RECEIVED = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("subject", "sender", "address", "body", "company"),
    [
        (
            "Thank you for applying to Northwind Labs",
            "",
            "",
            "We received your application.",
            "Northwind Labs",
        ),
        (
            "Application update",
            "Workday - Marigold Bank",
            "marigold@myworkday.com",
            "Thanks.",
            "Marigold Bank",
        ),
        ("Update", "Kestrel Recruiting", "no-reply@greenhouse.io", "Hello", "Kestrel"),
        ("", "", "", "Thank you for your interest in joining the Jelli team. We reviewed it.", "Jelli"),
        (
            "",
            "",
            "",
            "We will not proceed with your candidacy for the opening at DriveWealth.\nBest",
            "DriveWealth",
        ),
        (
            "Quick question",
            "Alex Kim",
            "alex.kim@opaline.io",
            "I'm a recruiter at Opaline. Open to a chat?",
            "Opaline",
        ),
        ("Hello", "Priya Patel", "priya@tandem.com", "Are you open to new roles?", "Tandem"),
    ],
)
def test_company(subject: str, sender: str, address: str, body: str, company: str) -> None:
    assert extract.extract_company(subject, sender, address, body) == company


def test_company_key_ignores_spelling_details() -> None:
    assert extract.company_key("Acme, Inc.") == extract.company_key("ACME") == "acme"
    assert extract.company_key("Just Eat Takeaway") == extract.company_key("JustEatTakeaway")


@pytest.mark.parametrize(
    ("subject", "body", "position"),
    [
        ("Application received: Senior Backend Engineer", "", "Senior Backend Engineer"),
        ("", "Thank you for applying for the Data Analyst position at Acme.", "Data Analyst"),
        ("", "We are hiring a Machine Learning Engineer in Berlin.", "Machine Learning Engineer"),
        ("Your application for iOS Developer at Bluehaven", "", "iOS Developer"),
        ("Confirmation: DevOps Engineer (Req 95045)", "", "DevOps Engineer"),
        ("Hello", "Thanks for writing.", None),
    ],
)
def test_position(subject: str, body: str, position: str | None) -> None:
    assert extract.extract_position(subject, body) == position


def test_interview_time_with_zone() -> None:
    found = extract.find_dates("Your interview is confirmed for Thursday, March 7 at 2:30 PM ET.", RECEIVED)
    interview, deadline = extract.pick_dates("interview", found)
    assert interview == datetime(2024, 3, 7, 19, 30, tzinfo=UTC)
    assert deadline is None


def test_assessment_deadline_relative_and_absolute() -> None:
    relative = extract.find_dates("Please complete the test within 5 days.", RECEIVED)
    assert extract.pick_dates("assessment", relative) == (None, RECEIVED + timedelta(days=5))
    absolute = extract.find_dates("The link expires. Complete it by March 15, 2024.", RECEIVED)
    _, deadline = extract.pick_dates("assessment", absolute)
    assert deadline == datetime(2024, 3, 15, 23, 59, tzinfo=UTC)


def test_dates_far_in_the_past_are_ignored() -> None:
    assert extract.find_dates("We met on January 3, 2019 at 10:00.", RECEIVED) == []


def test_links_are_classified() -> None:
    links = extract.useful_links(
        [
            {"url": "https://www.hackerrank.com/test/abc", "text": ""},
            {"url": "https://calendly.com/acme/30min", "text": "Pick a time"},
            {"url": "https://acme.zoom.us/j/123", "text": ""},
            {"url": "https://acme.example/blog", "text": "Our blog"},
        ]
    )
    assert [link["kind"] for link in links] == ["assessment", "scheduling", "meeting"]


def test_next_action_for_an_assessment_names_link_and_deadline() -> None:
    item = MailInput(
        "Coding assessment",
        "Kestrel Careers",
        "careers@kestrel.example",
        RECEIVED,
        "Please complete the assessment within 3 days.",
        [{"url": "https://app.codility.com/test/xyz", "text": "Start"}],
    )
    analysis = with_fields(item, "assessment", 0.9, {}, "model")
    assert analysis.assessment_url == "https://app.codility.com/test/xyz"
    assert analysis.deadline_at == RECEIVED + timedelta(days=3)
    assert "https://app.codility.com/test/xyz" in analysis.next_action
    assert analysis.company == "Kestrel"


def test_credentials_round_trip_and_bound_to_their_row(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "a")
    blob = seal(settings, b"app-password", "account-1")
    assert b"app-password" not in blob
    assert unseal(settings, blob, "account-1") == b"app-password"
    with pytest.raises(CredentialsUnreadable):
        unseal(settings, blob, "account-2")
    with pytest.raises(CredentialsUnreadable):
        unseal(Settings(data_dir=tmp_path / "b"), blob, "account-1")
    with pytest.raises(CredentialsUnreadable):
        unseal(settings, blob[:-1] + bytes([blob[-1] ^ 1]), "account-1")


def _event(kind: str, day: int) -> ApplicationEvent:
    return ApplicationEvent(kind=kind, occurred_at=RECEIVED + timedelta(days=day), links=[])


def test_status_follows_the_latest_event_and_manual_wins() -> None:
    events = [_event("applied", 0), _event("interview", 5), _event("other", 9), _event("rejected", 12)]
    status, applied, responded, last = timeline.derive(events)
    assert (status, applied, responded) == ("rejected", RECEIVED, RECEIVED + timedelta(days=5))
    assert last == RECEIVED + timedelta(days=12)
    app = Application(id=uuid.uuid4(), manual={"status": "offer"}, company="Acme")
    timeline.refresh(app, events)
    assert (app.status, app.extracted_status) == ("offer", "rejected")


def test_analytics_response_rate_and_days() -> None:
    answered = Application(
        company="Acme",
        status="interview",
        applied_at=RECEIVED,
        first_response_at=RECEIVED + timedelta(days=4),
    )
    silent = Application(company="Brightpath", status="applied", applied_at=RECEIVED, first_response_at=None)
    figures = timeline.analytics([answered, silent])
    assert figures["response_rate"] == 0.5
    assert figures["days_to_response_by_company"] == {"Acme": 4.0}
    assert figures["active"] == 2


def test_llm_reply_is_validated() -> None:
    view = parse_view('Sure! {"status": "interview", "company": "Acme", "position": null, '
                      '"interview_at": "2024-03-07T14:00:00Z", "deadline_at": "soon", '
                      '"assessment_url": "", "next_action": "Prepare."}')  # fmt: skip
    assert view is not None
    assert (view.status, view.company, view.position) == ("interview", "Acme", None)
    assert view.interview_at == datetime(2024, 3, 7, 14, 0, tzinfo=UTC)
    assert view.deadline_at is None and view.assessment_url is None
    assert parse_view('{"status": "hired"}') is None
    assert parse_view("no json here") is None


def test_metrics_macro_f1_over_present_labels() -> None:
    figures = status_metrics(
        ["applied", "applied", "rejected", "offer"], ["applied", "rejected", "rejected", "offer"]
    )
    assert figures["accuracy"] == 0.75
    assert figures["per_label"]["applied"]["recall"] == 0.5
    assert figures["confusion"]["applied"]["rejected"] == 1
    # applied F1 2/3, rejected F1 2/3, offer 1.0
    assert figures["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3, abs=1e-4)
