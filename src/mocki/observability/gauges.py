"""Gauges read when /metrics is scraped: interviews in progress and open dead letters (from the
database), voice calls (from this process).

Every api process reports the same database-wide numbers: aggregate those with max(), not sum().
Voice calls are each process's own: sum them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client import Gauge

from mocki.interviews import service as interviews
from mocki.tasks import deadletters

log = logging.getLogger(__name__)

# Scrapes closer together than this reuse the last numbers.
MIN_INTERVAL_S = 5.0

ACTIVE_INTERVIEWS = Gauge(
    "mocki_interviews_active", "Interviews in progress with a turn in the last 30 minutes"
)
OPEN_DEAD_LETTERS = Gauge("mocki_dead_letters_open", "Failed tasks waiting for an administrator")
VOICE_CALLS = Gauge("mocki_voice_calls_active", "WebRTC voice calls held by this api process")


async def refresh(app: Any) -> None:
    state: Any = getattr(app, "state", None)
    hub = getattr(state, "voice", None)  # made at the first call (voice/session.py)
    VOICE_CALLS.set(hub.call_count if hub is not None else 0)
    factory = getattr(state, "sessionmaker", None)
    if (
        factory is None
        or time.monotonic() - getattr(state, "gauges_refreshed", -MIN_INTERVAL_S) < MIN_INTERVAL_S
    ):
        return
    state.gauges_refreshed = time.monotonic()
    try:
        async with factory() as session:
            ACTIVE_INTERVIEWS.set(await interviews.active_count(session))
            OPEN_DEAD_LETTERS.set(await deadletters.open_count(session))
    except Exception as exc:  # a scrape must still answer with everything else
        log.warning("could not refresh database gauges: %s", exc)
