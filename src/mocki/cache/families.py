"""The kinds of cached values (key families); each is invalidated by the writes listed beside it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mocki.cache.core import Family
from mocki.cache.hooks import invalidate_on_commit

# A user's account row (profile, role, tier), by user id: read on every authenticated request.
# Invalidated by tier changes (users.service.set_tier) and sign-in linking (auth.service).
USER = Family("user")
# A user's interview summaries (GET /interviews, the dashboard's list: its last three among them),
# by owner id. Invalidated by interview create, start, each interviewer turn, end and delete
# (interviews.service), and the report (report.py).
INTERVIEWS = Family("interviews", ttl_s=120)
# A user's progress/dashboard aggregate (GET /progress), by owner id. Invalidated with INTERVIEWS.
PROGRESS = Family("progress")
# The tracker's companies and positions (GET /tracker/applications), its board and its analytics
# (dashboard aggregates), by owner id. Invalidated together by every write to an application or
# its events: mail analysis placing an event (tracker.timeline.place, in a worker), manual create
# and edit (timeline.edit) and a prep interview being attached (tracker.prep).
APPLICATIONS = Family("applications")
BOARD = Family("tracker_board")
ANALYTICS = Family("tracker_analytics")
TRACKER = (APPLICATIONS, BOARD, ANALYTICS)


def interviews_changed(session: AsyncSession, owner_id: object) -> None:
    """The owner's interview list and progress are stale once `session` commits."""
    invalidate_on_commit(session, INTERVIEWS.name, owner_id)
    invalidate_on_commit(session, PROGRESS.name, owner_id)


def applications_changed(session: AsyncSession, owner_id: object) -> None:
    """The owner's applications, board and analytics are stale once `session` commits."""
    for family in TRACKER:
        invalidate_on_commit(session, family.name, owner_id)
