"""The one send helper: pool from the task name, lane from tier or urgency, expires always, and
sending only after the commit."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from mocki.core.db import run_after_commit
from mocki.models import User
from mocki.tasks import routing
from mocki.tasks.names import EXTRACT_DOCUMENT, GENERATE_REPORT, PRIORITY_HIGH, PRIORITY_NORMAL


class RecordingCelery:
    """Stands in for Celery in unit tests: keeps what would have been sent."""

    def __init__(self, lanes: str = "priority", high_tiers: tuple[str, ...] = ("vip",)) -> None:
        self.conf = {"mocki_lanes": lanes, "mocki_high_tiers": high_tiers}
        self.sent: list[dict[str, Any]] = []

    def send_task(self, name: str, **options: Any) -> None:
        self.sent.append({"name": name, **options})


@pytest.mark.parametrize(
    ("tier", "urgent", "lane"),
    [
        ("vip", False, "high"),
        ("free", False, "normal"),
        ("pro", False, "normal"),
        (None, True, "high"),
        ("free", True, "high"),
    ],
)
def test_lane_for_tier_and_urgency(tier: str | None, urgent: bool, lane: str) -> None:
    assert routing.lane_for(tier, urgent=urgent) == lane


def test_high_tiers_are_configurable() -> None:
    assert routing.lane_for("pro", high_tiers=("pro", "vip")) == "high"


@pytest.mark.parametrize(
    ("lanes", "lane", "expected"),
    [
        ("priority", "high", {"queue": "io", "priority": PRIORITY_HIGH}),
        ("priority", "normal", {"queue": "io", "priority": PRIORITY_NORMAL}),
        ("queues", "high", {"queue": "io.high", "priority": PRIORITY_NORMAL}),
        ("queues", "normal", {"queue": "io", "priority": PRIORITY_NORMAL}),
        ("off", "high", {"queue": "io", "priority": PRIORITY_NORMAL}),
    ],
)
def test_delivery_options_per_lane_form(lanes: str, lane: routing.Lane, expected: dict[str, Any]) -> None:
    assert routing.delivery(lanes, "io", lane) == expected


def test_send_picks_the_pool_from_the_task_and_always_sets_expires() -> None:
    celery = RecordingCelery()
    task_id = routing.send(celery, EXTRACT_DOCUMENT, ["d1"], expires=60, tier="vip")  # type: ignore[arg-type]
    (sent,) = celery.sent
    assert sent["name"] == EXTRACT_DOCUMENT and sent["queue"] == "cpu" and sent["priority"] == PRIORITY_HIGH
    assert sent["expires"] == 60 and sent["args"] == ["d1"] and sent["task_id"] == task_id


def test_outside_a_task_an_unknown_tier_is_the_normal_lane() -> None:
    celery = RecordingCelery(lanes="queues")
    routing.send(celery, GENERATE_REPORT, ["i1"], expires=60)  # type: ignore[arg-type]
    assert celery.sent[0]["queue"] == "io"


def test_an_unknown_task_needs_its_pool_named() -> None:
    with pytest.raises(KeyError):
        routing.send(RecordingCelery(), "nobody.knows", [], expires=60)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("info", "lane"),
    [
        ({"routing_key": "io", "priority": 0}, "high"),
        ({"routing_key": "cpu.high", "priority": 6}, "high"),
        ({"routing_key": "io", "priority": 6}, "normal"),
        ({"routing_key": "io"}, None),
        (None, None),
    ],
)
def test_the_lane_of_a_received_message(info: dict[str, Any] | None, lane: str | None) -> None:
    assert routing.lane_of_message(info) == lane


def _session_with(user: User) -> AsyncSession:
    session = AsyncSession()
    make_transient_to_detached(user)
    session.add(user)  # persistent in the identity map, as the request's signed-in user is
    return session


def test_send_after_commit_waits_for_the_commit_and_uses_the_owners_tier() -> None:
    owner = User(id=uuid.uuid4(), email="v@example.com", tier="vip")
    session = _session_with(owner)
    celery = RecordingCelery()
    routing.send_after_commit(session, celery, GENERATE_REPORT, ["i1"], expires=30, owner_id=owner.id)  # type: ignore[arg-type]
    assert celery.sent == []
    run_after_commit(session)
    assert celery.sent[0]["priority"] == PRIORITY_HIGH and celery.sent[0]["expires"] == 30


def test_an_owner_the_session_has_not_loaded_gets_the_normal_lane() -> None:
    session = _session_with(User(id=uuid.uuid4(), email="f@example.com", tier="free"))
    assert routing.tier_in_session(session, uuid.uuid4()) is None
    assert routing.tier_in_session(session, None) is None
