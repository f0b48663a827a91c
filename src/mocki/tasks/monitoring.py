"""`mocki flower`: Flower behind basic auth, and the task metrics on its /metrics.

Flower already turns Celery events into `flower_events_total{type,task,worker}` (sent, received,
started, succeeded, failed, retried), `flower_task_runtime_seconds` and worker gauges. This
process adds what Flower cannot see from events:

- `mocki_celery_queue_depth{queue,lane}`: messages waiting per pool and lane, read from Redis at
  each scrape (both lane forms: priority lists and `.high` queues);
- `mocki_celery_unacked`: messages held by workers (running or reserved);
- `mocki_celery_workers_alive`: workers whose heartbeat is current (a `kill -9`ed worker sends no
  goodbye; this drops when its heartbeats stop);
- the LLM counters of calls made inside tasks (observability/llm.py sends them as events).

Flower serves /metrics and /healthcheck without authentication (its own choice); keep its port on
the internal network. Everything else needs the basic-auth login.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from functools import partial
from typing import Any

import redis
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from mocki.observability import llm as llm_metrics
from mocki.settings import Settings
from mocki.tasks.names import BASE_QUEUES, high_queue

log = logging.getLogger(__name__)

# kombu's Redis transport keeps priority p of queue q in the list "q\x06\x16p" (p = 0: "q").
PRIORITY_SEPARATOR = "\x06\x16"
NORMAL_PRIORITIES = (3, 6, 9)
UNACKED_KEY = "unacked"


def parse_basic_auth(value: str) -> list[str]:
    """`user:password` pairs, comma-separated; refuses an empty or malformed setting."""
    pairs = [item.strip() for item in value.split(",") if item.strip()]
    if not pairs:
        raise ValueError(
            "Flower needs a login: set MOCKI_MONITORING__FLOWER_BASIC_AUTH=user:password "
            "(several pairs may be separated by commas)"
        )
    for pair in pairs:
        user, _, password = pair.partition(":")
        if not user or len(password) < 8:
            raise ValueError(f"bad Flower login {user or '?'}: use user:password, the password 8+ characters")
    return pairs


def queue_keys(pool: str, prefix: str = "") -> dict[str, list[str]]:
    """The Redis lists that hold each lane of a pool (under settings.tasks.key_prefix)."""
    high = high_queue(pool)
    everything_high = [high] + [f"{high}{PRIORITY_SEPARATOR}{p}" for p in NORMAL_PRIORITIES]
    return {
        "high": [prefix + key for key in (pool, *everything_high)],
        "normal": [f"{prefix}{pool}{PRIORITY_SEPARATOR}{p}" for p in NORMAL_PRIORITIES],
    }


def queue_depths(client: redis.Redis[bytes], prefix: str = "") -> dict[tuple[str, str], int]:
    """Messages waiting per (pool, lane)."""
    lanes = [(pool, lane, keys) for pool in BASE_QUEUES for lane, keys in queue_keys(pool, prefix).items()]
    plan = [(pool, lane, key) for pool, lane, keys in lanes for key in keys]
    pipe = client.pipeline()
    for _, _, key in plan:
        pipe.llen(key)
    depths: dict[tuple[str, str], int] = {}
    for (pool, lane, _), length in zip(plan, pipe.execute(), strict=True):
        depths[(pool, lane)] = depths.get((pool, lane), 0) + int(length)
    return depths


class QueueCollector(Collector):
    def __init__(self, client: redis.Redis[bytes], prefix: str = "") -> None:
        self.client, self.prefix = client, prefix

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "mocki_celery_queue_depth", "Task messages waiting, per pool and lane", labels=["queue", "lane"]
        )
        unacked = GaugeMetricFamily("mocki_celery_unacked", "Task messages held by workers")
        try:
            for (pool, lane), n in queue_depths(self.client, self.prefix).items():
                depth.add_metric([pool, lane], n)
            unacked.add_metric([], int(self.client.hlen(self.prefix + UNACKED_KEY)))
        except redis.exceptions.RedisError as exc:
            log.warning("queue depth unavailable: %s", exc)
            return
        yield depth
        yield unacked


class WorkerCollector(Collector):
    """Workers alive by their heartbeats, from Flower's event state."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        alive = GaugeMetricFamily("mocki_celery_workers_alive", "Celery workers with a current heartbeat")
        alive.add_metric([], sum(1 for worker in list(self.state.workers.values()) if worker.alive))
        yield alive


class _UsageEvents:
    """Wraps Flower's event handler: `mocki-llm` events go to the LLM counters, the rest on."""

    def __init__(self, events: Any) -> None:
        self.events = events
        self.forward = events.on_event

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("type") == llm_metrics.EVENT:
            self.events.io_loop.add_callback(partial(_count_llm_event, event))
            return
        self.forward(event)


def _count_llm_event(event: dict[str, Any]) -> None:
    try:
        llm_metrics.count(event)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("bad %s event: %s", llm_metrics.EVENT, exc)


def flower_argv(port: int, address: str) -> list[str]:
    return [
        f"--port={port}",
        f"--address={address}",
        # Forget a worker's metrics ten minutes after it went away (a scaled-down worker).
        "--purge_offline_workers=600",
        "--max_tasks=20000",
    ]


def run_flower(settings: Settings, *, port: int, address: str) -> None:
    """Flower in the foreground until SIGTERM or Ctrl-C (`mocki flower`)."""
    try:
        logins = parse_basic_auth(settings.monitoring.flower_basic_auth)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from exc
    from flower.app import Flower  # type: ignore[import-untyped]
    from flower.command import (  # type: ignore[import-untyped]
        apply_env_options,
        apply_options,
        extract_settings,
        setup_logging,
    )
    from flower.urls import settings as flower_settings  # type: ignore[import-untyped]
    from tornado.options import options

    from mocki.tasks.celery_app import make_celery

    apply_env_options()
    apply_options("mocki flower", flower_argv(port, address))
    options.basic_auth = logins
    extract_settings()
    setup_logging()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)

    app = Flower(capp=make_celery(settings), options=options, **flower_settings)
    app.events.on_event = _UsageEvents(app.events)
    client = redis.Redis.from_url(settings.resolved_redis_url)
    REGISTRY.register(QueueCollector(client, settings.tasks.key_prefix))
    REGISTRY.register(WorkerCollector(app.events.state))

    def _exit(_signum: int, _frame: Any) -> None:
        sys.exit(0)

    atexit.register(app.stop)
    signal.signal(signal.SIGTERM, _exit)
    bound = app.start_http_server()
    log.info("flower on http://%s:%s (basic auth; /metrics open)", address, bound)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        app.start()
