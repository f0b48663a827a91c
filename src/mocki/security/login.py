"""Login throttling: failed sign-ins counted per account and per client address on Redis.

After `threshold` failures (each within `window_s` of the previous one) the account, or the
address, is locked for `base_lockout_s`, and every further failure doubles the lockout up to
`max_lockout_s`. A locked attempt is refused with 429 and Retry-After before the password is
checked, so guessing gains nothing while locked.

No user enumeration: the account key is a hash of the email as typed (normalised), whether or not
such an account exists, so an unknown email is counted, locked and answered exactly like a known
one; Redis never holds the email itself. A success clears the account's counter, not the
address's (one address may try many accounts).

The counters live on the rate limiter's Redis (`MOCKI_RATE_LIMITS__STORAGE_URL`, else the app's).
When it cannot be reached, sign-in goes on unthrottled (one warning a minute): argon2 still makes
each guess slow, and refusing every sign-in during an outage would lock everyone out.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from mocki.core.errors import DomainError
from mocki.security.ratelimit import client_key
from mocki.settings import LoginThrottleSettings

log = logging.getLogger(__name__)

# KEYS[1] failure counter, KEYS[2] lock; ARGV: window_s, threshold, base_ms, max_ms.
# Returns the lockout just set in ms (0: none yet). One round trip, atomic across api processes.
_FAIL = """
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
local over = n - tonumber(ARGV[2])
if over < 0 then return 0 end
local ms = tonumber(ARGV[3]) * (2 ^ math.min(over, 30))
if ms > tonumber(ARGV[4]) then ms = tonumber(ARGV[4]) end
redis.call('SET', KEYS[2], n, 'PX', math.floor(ms))
return math.floor(ms)
"""


class LoginLocked(DomainError):
    status_code = 429
    code = "login_locked"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"Too many failed sign-ins; try again in {retry_after_s} s.",
            details={"retry_after_s": retry_after_s},
        )
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


@dataclass(frozen=True)
class _Keys:
    fails: str
    lock: str


class LoginThrottle:
    def __init__(self, redis: Redis[bytes], settings: LoginThrottleSettings) -> None:
        self.redis = redis
        self.settings = settings
        self._script = redis.register_script(_FAIL)
        self._last_warning = 0.0

    def _keys(self, kind: str, ident: str) -> _Keys:
        base = f"{self.settings.key_prefix}:{kind}:{ident}"
        return _Keys(fails=f"{base}:fails", lock=f"{base}:lock")

    def _subjects(self, email: str, ip: str | None) -> list[tuple[_Keys, int]]:
        return [
            (self._keys("acct", account_key(email)), self.settings.account_threshold),
            (self._keys("ip", client_key(ip)), self.settings.ip_threshold),
        ]

    async def check(self, email: str, ip: str | None) -> None:
        """Raise LoginLocked while the account or the address is locked."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            for keys, _ in self._subjects(email, ip):
                pipe.pttl(keys.lock)
            ttls = [int(t) for t in await pipe.execute()]
        except (RedisError, OSError) as exc:
            self._warn(exc)
            return
        longest = max(ttls)
        if longest > 0:
            raise LoginLocked(max(1, math.ceil(longest / 1000)))

    async def failed(self, email: str, ip: str | None) -> int:
        """Count a failure on both subjects; returns the longest lockout it started, in seconds."""
        s = self.settings
        longest = 0
        try:
            for keys, threshold in self._subjects(email, ip):
                ms = await self._script(
                    keys=[keys.fails, keys.lock],
                    args=[s.window_s, threshold, s.base_lockout_s * 1000, s.max_lockout_s * 1000],
                )
                longest = max(longest, int(ms))
        except (RedisError, OSError) as exc:
            self._warn(exc)
        return math.ceil(longest / 1000)

    async def succeeded(self, email: str) -> None:
        try:
            await self.redis.delete(self._keys("acct", account_key(email)).fails)
        except (RedisError, OSError) as exc:
            self._warn(exc)

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            log.warning("login throttling is off while its store is unreachable: %s", exc)
