"""The two-level read-through cache: L1 in this process, L2 in Redis, invalidated everywhere on writes.

A read goes L1 -> L2 -> loader (the database). Correctness rules, in order of how often they matter:

- Invalidation (`invalidate`) deletes the keys from this process's L1 at once, then, in one Redis
  round trip, deletes them from L2, bumps each key's version and publishes them on a channel that
  every api process listens to (`start`), so their L1 copies go too. It runs after the writing
  transaction commits (`hooks.invalidate_on_commit`), from an api process or a worker.
- A loader that read the database before a write committed must not put its old value back. L2 is
  written only if the key's version is still the one read before loading (a Lua compare-and-set),
  and L1 only if no invalidation reached this process meanwhile (a generation counter).
- L1 is used only while the invalidation listener is subscribed; after a reconnect it starts empty,
  since messages sent meanwhile were lost.
- One loader per key: concurrent misses in a process wait for the first one (single flight), and
  across processes a short Redis lock lets one load while the others poll L2 for its result.
- A loader's `None` ("no such row") is cached too, for the shorter negative TTL.
- Every TTL gets +-jitter so keys filled together do not expire together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from mocki.cache import codec, metrics
from mocki.cache.local import LocalLRU
from mocki.settings import CacheSettings

log = logging.getLogger(__name__)

NEGATIVE = codec.encode(None)

# Set data only if the key's version is still the one the loader started from.
_SET_IF_VERSION = """
local v = redis.call('GET', KEYS[2]) or '0'
if v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Family:
    """A kind of cached value (its metrics label and key segment) and its TTLs; 0 takes the setting."""

    name: str
    ttl_s: float = 0
    negative_ttl_s: float = 0


Loader = Callable[[], Awaitable[Any]]


# The longest a stopping listener may take to close its subscription.
STOP_TIMEOUT_S = 3.0


class TwoLevelCache:
    def __init__(
        self,
        settings: CacheSettings,
        redis: Redis[bytes] | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.rng = rng
        self.l1 = LocalLRU(
            settings.l1_max_entries,
            settings.l1_max_mb * 1024 * 1024,
            clock=clock,
            on_evict=lambda reason: metrics.EVICTIONS.labels(reason).inc(),
        )
        self.instance = uuid.uuid4().hex
        self._generation = 0
        self._inflight: dict[str, asyncio.Future[tuple[bool, bytes]]] = {}
        self._subscribed = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._set_if_version = redis.register_script(_SET_IF_VERSION) if redis is not None else None

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    # ------------------------------------------------------------------------------ keys, TTLs

    def key(self, family: str, ident: str) -> str:
        return f"{self.settings.key_prefix}:{family}:{ident}"

    def _version_key(self, key: str) -> str:
        return f"{self.settings.key_prefix}:v:{key}"

    def _lock_key(self, key: str) -> str:
        return f"{self.settings.key_prefix}:lock:{key}"

    def jittered(self, ttl_s: float) -> float:
        """`ttl_s` spread by +-jitter (a fraction), so entries filled together expire apart."""
        spread = self.settings.jitter
        return ttl_s * (1 - spread + 2 * spread * self.rng())

    def _ttl(self, family: Family, negative: bool) -> float:
        if negative:
            return self.jittered(family.negative_ttl_s or self.settings.negative_ttl_s)
        return self.jittered(family.ttl_s or self.settings.ttl_s)

    @property
    def _l1_usable(self) -> bool:
        return self.redis is None or self._subscribed.is_set()

    # ------------------------------------------------------------------------------ reading

    async def get_or_load(self, family: Family, ident: str, loader: Loader) -> Any:
        """The cached value of `family`/`ident`, or `loader()`'s (cached on the way back)."""
        if not self.enabled:
            return await loader()
        key = self.key(family.name, ident)
        if self._l1_usable:
            blob = self.l1.get(key)
            metrics.REQUESTS.labels(family.name, "l1", "miss" if blob is None else "hit").inc()
            if blob is not None:
                return codec.decode(blob)
        running = self._inflight.get(key)
        if running is not None:
            ok, shared = await asyncio.shield(running)
            return codec.decode(shared) if ok else await loader()
        return codec.decode(await self._lead(family, key, loader))

    async def _lead(self, family: Family, key: str, loader: Loader) -> bytes:
        flight: asyncio.Future[tuple[bool, bytes]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = flight
        try:
            blob = await self._fill(family, key, loader)
        except BaseException:
            flight.set_result((False, b""))  # the waiters load for themselves
            raise
        else:
            flight.set_result((True, blob))
        finally:
            self._inflight.pop(key, None)
        return blob

    async def _fill(self, family: Family, key: str, loader: Loader) -> bytes:
        generation = self._generation
        blob, version, reachable = await self._l2_get(key)
        if self.redis is not None and reachable:
            metrics.REQUESTS.labels(family.name, "l2", "miss" if blob is None else "hit").inc()
        if blob is not None:
            self._l1_set(key, blob, family, generation)
            return blob
        locked = reachable and await self._lock(key)
        if reachable and not locked:
            blob = await self._wait_for_other(key)
            if blob is not None:
                self._l1_set(key, blob, family, generation)
                return blob
        try:
            started = time.perf_counter()
            value = await loader()
            metrics.LOAD_SECONDS.labels(family.name).observe(time.perf_counter() - started)
            blob = codec.encode(value)
            ttl = self._ttl(family, value is None)
            stored = not reachable or await self._l2_set(key, version, blob, ttl)
        finally:
            if locked:
                await self._unlock(key)
        if stored:
            self._l1_set(key, blob, family, generation)
        return blob

    def _l1_set(self, key: str, blob: bytes, family: Family, generation: int) -> None:
        # An invalidation that arrived while this value was being read may concern it: skip L1.
        if generation != self._generation or not self._l1_usable:
            return
        ttl = self._ttl(family, blob == NEGATIVE)
        self.l1.set(key, blob, min(ttl, self.jittered(self.settings.l1_ttl_s)))
        metrics.L1_BYTES.set(self.l1.bytes)

    # ------------------------------------------------------------------------------ L2

    async def _l2_get(self, key: str) -> tuple[bytes | None, bytes | None, bool]:
        if self.redis is None:
            return None, None, False
        try:
            blob, version = await self.redis.mget(key, self._version_key(key))
        except (RedisError, OSError) as exc:
            log.warning("cache: Redis unreachable, reading from the database: %s", exc)
            return None, None, False
        return blob, version, True

    async def _l2_set(self, key: str, version: bytes | None, blob: bytes, ttl_s: float) -> bool:
        assert self._set_if_version is not None
        try:
            done = await self._set_if_version(
                keys=[key, self._version_key(key)],
                args=[version or b"0", blob, max(1, int(ttl_s * 1000))],
            )
        except (RedisError, OSError) as exc:
            log.warning("cache: could not store %s: %s", key, exc)
            return False
        return bool(done)

    async def _lock(self, key: str) -> bool:
        assert self.redis is not None
        try:
            return bool(
                await self.redis.set(self._lock_key(key), self.instance, nx=True, px=self.settings.lock_ms)
            )
        except (RedisError, OSError):
            return False

    async def _unlock(self, key: str) -> None:
        assert self.redis is not None
        with contextlib.suppress(RedisError, OSError):  # else it expires after lock_ms
            await self.redis.delete(self._lock_key(key))

    async def _wait_for_other(self, key: str) -> bytes | None:
        """Poll L2 while another process loads the key; None if it did not finish in time."""
        assert self.redis is not None
        deadline = time.monotonic() + self.settings.lock_ms / 1000
        while time.monotonic() < deadline:
            await asyncio.sleep(0.005)
            try:
                blob, locked = await self.redis.mget(key, self._lock_key(key))
            except (RedisError, OSError):
                return None
            if blob is not None:
                return bytes(blob)
            if locked is None:
                return None  # the other loader gave up or its value was refused as stale
        return None

    # ------------------------------------------------------------------------------ invalidation

    def drop_local(self, keys: Iterable[str]) -> None:
        self._generation += 1
        for key in keys:
            self.l1.delete(key)
        metrics.L1_BYTES.set(self.l1.bytes)

    async def invalidate(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Forget (family, ident) pairs here, in Redis and in every listening process."""
        pairs = sorted(set(pairs))
        if not pairs:
            return
        keys = [self.key(family, ident) for family, ident in pairs]
        self.drop_local(keys)
        for family, _ in pairs:
            metrics.INVALIDATIONS.labels(family).inc()
        if self.redis is None:
            return
        version_ttl = int(max(self.settings.ttl_s, self.settings.negative_ttl_s) * 2 + 60)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.delete(key)
                    pipe.incr(self._version_key(key))
                    pipe.expire(self._version_key(key), version_ttl)
                pipe.publish(self.settings.channel, codec.encode(keys))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            # Entries elsewhere then live until their TTL; the write itself has committed.
            log.warning("cache: could not invalidate %d keys: %s", len(keys), exc)

    # ------------------------------------------------------------------------------ listener

    async def start(self) -> None:
        """Listen for invalidations from other processes (the api lifespan calls this)."""
        if self.redis is not None and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="cache-invalidation")

    async def wait_subscribed(self, timeout_s: float = 5.0) -> None:
        await asyncio.wait_for(self._subscribed.wait(), timeout_s)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            # Bounded: a shutdown must never hang on a Redis connection that will not close.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._listener, STOP_TIMEOUT_S)
            self._listener = None
        self._subscribed.clear()
        self.l1.clear()

    async def _listen(self) -> None:
        assert self.redis is not None
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.settings.channel)
                # Whatever was published while we were not subscribed is lost: start empty.
                self.drop_local([])
                self.l1.clear()
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.drop_local(codec.decode(message["data"]))
            except (RedisError, OSError) as exc:
                log.warning("cache: invalidation listener lost Redis, retrying: %s", exc)
                self._subscribed.clear()
                await asyncio.sleep(1)
            finally:
                self._subscribed.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), STOP_TIMEOUT_S)  # type: ignore[attr-defined]
