"""LLM calls, tokens, latency, errors and cost as Prometheus counters, wherever the call was made.

`observe` is called where each `llm_calls` row is written (llm/usage.py). In the api process the
counters are on its /metrics. A call made inside a Celery task is also sent as a `mocki-llm` event,
which `mocki flower` counts into the same metrics on its /metrics (tasks/monitoring.py): worker
processes have no endpoint of their own to scrape.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_task
from prometheus_client import Counter, Histogram

from mocki.llm.base import Usage
from mocki.settings import get_settings

log = logging.getLogger(__name__)

EVENT = "mocki-llm"
_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0)

CALLS = Counter(
    "mocki_llm_calls_total",
    "LLM calls by model, purpose and outcome (cached: answered from the answer cache)",
    ["model", "purpose", "status", "cached"],
)
TOKENS = Counter("mocki_llm_tokens_total", "Tokens sent and received, by model", ["model", "kind"])
LATENCY = Histogram(
    "mocki_llm_call_duration_seconds", "Whole LLM call time", ["model", "purpose"], buckets=_LATENCY_BUCKETS
)
FIRST_TOKEN = Histogram(
    "mocki_llm_first_token_seconds", "Time to the first streamed token", ["model"], buckets=_LATENCY_BUCKETS
)
COST = Counter("mocki_llm_cost_usd_total", "Estimated LLM spend at the configured prices", ["model"])


def cost_usd(prompt_tokens: int, completion_tokens: int) -> float:
    prices = get_settings().monitoring
    return (
        prompt_tokens * prices.llm_prompt_usd_per_mtok
        + completion_tokens * prices.llm_completion_usd_per_mtok
    ) / 1_000_000


def fields(usage: Usage, purpose: str, status: str) -> dict[str, Any]:
    return {
        "model": usage.model,
        "purpose": purpose,
        "status": status,
        "cached": usage.cached or "no",
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "latency_s": usage.latency_s,
        "first_token_s": usage.first_token_s,
        "cost_usd": 0.0 if usage.cached else cost_usd(usage.prompt_tokens, usage.completion_tokens),
    }


def count(call: dict[str, Any]) -> None:
    """Add one call (as made by `fields`, or received in a `mocki-llm` event) to the counters."""
    model, purpose = str(call["model"]), str(call["purpose"])
    CALLS.labels(model, purpose, str(call["status"]), str(call["cached"])).inc()
    if call["cached"] != "no":
        return  # no model time, no tokens, no spend
    TOKENS.labels(model, "prompt").inc(int(call["prompt_tokens"]))
    TOKENS.labels(model, "completion").inc(int(call["completion_tokens"]))
    LATENCY.labels(model, purpose).observe(float(call["latency_s"]))
    if call.get("first_token_s") is not None:
        FIRST_TOKEN.labels(model).observe(float(call["first_token_s"]))
    COST.labels(model).inc(float(call["cost_usd"]))


def observe(usage: Usage, purpose: str, status: str) -> None:
    call = fields(usage, purpose, status)
    count(call)
    task = current_task
    if not task or task.request.id is None or task.request.called_directly:
        return
    try:
        task.send_event(EVENT, **call)
    except Exception as exc:  # metrics never fail the work they measure
        log.warning("could not send the LLM usage event: %s", exc)
