"""Celery beat that fires only while it holds a Redis lock, so two beat processes never double-fire.

Run as many `mocki beat` processes as you like: one is the leader and sends the schedule; the
others wait, and take over within `beat_lock_ttl_s` when the leader stops renewing its lock (its
process or machine died). The lock is a random token under one key, taken with SET NX PX and
renewed or released only by its owner (a compare-and-set script), so a paused leader that lost
the lock cannot extend somebody else's.

Schedule state is in memory: a new leader counts every entry's interval from its own start, so a
takeover delays an entry by at most one interval and never fires it twice.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from typing import Any

import redis
from celery.beat import Scheduler

log = logging.getLogger(__name__)

LOCK_KEY = "mocki:beat:leader"
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class LeaderLock:
    """A lease in Redis: `hold()` takes or renews it and says whether this process has it."""

    def __init__(self, client: redis.Redis[bytes], ttl_s: float, key: str = LOCK_KEY) -> None:
        self.client, self.key, self.ttl_ms = client, key, int(ttl_s * 1000)
        self.token = secrets.token_hex(16)
        self.held = False

    def hold(self) -> bool:
        try:
            if self.held and self._script(_RENEW, self.ttl_ms):
                return True
            self.held = bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))
        except redis.exceptions.RedisError as exc:
            # Without Redis nobody can prove leadership: fire nothing rather than maybe twice.
            log.warning("beat lock unavailable (%s); not firing", exc)
            self.held = False
        return self.held

    def _script(self, script: str, *args: int) -> object:
        # Compare-and-set on the owner's token: only the holder renews or releases.
        return self.client.eval(script, 1, self.key, self.token, *args)  # type: ignore[no-untyped-call]

    def release(self) -> None:
        with contextlib.suppress(redis.exceptions.RedisError):  # else it expires by itself
            self._script(_RELEASE)
        self.held = False


class LockedScheduler(Scheduler):  # type: ignore[misc]  # celery ships no type hints
    """The in-memory scheduler, ticking only while this process leads."""

    def __init__(self, app: Any, *args: Any, **kwargs: Any) -> None:
        ttl = float(app.conf.get("mocki_beat_lock_ttl_s") or 30)
        client = redis.Redis.from_url(app.conf.get("mocki_redis_url"))
        self.lock = LeaderLock(client, ttl, app.conf.get("mocki_beat_lock_key") or LOCK_KEY)
        # Renew well before the lease ends, however far away the next entry is.
        self.renew_every_s = max(ttl / 3, 0.5)
        self.leading = False
        super().__init__(app, *args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.lock.hold():
            if self.leading:
                log.warning("beat lost the leader lock; standing by")
            self.leading = False
            return self.renew_every_s
        if not self.leading:
            log.info("beat holds the leader lock (%s); firing the schedule", self.lock.token[:8])
            self.leading = True
            # Intervals count from taking the lead, not from this process's start.
            for entry in self.schedule.values():
                entry.last_run_at = self.app.now()
        started = time.monotonic()
        wait = float(super().tick(*args, **kwargs))
        return max(0.0, min(wait, self.renew_every_s - (time.monotonic() - started)))

    def close(self) -> None:
        super().close()
        if self.leading:
            self.lock.release()
