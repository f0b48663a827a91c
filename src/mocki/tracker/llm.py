"""The LLM's view of an email, as structured output (a JSON schema), under a cap on concurrent calls.

The call goes through the `openai` SDK to the configured endpoint (or the packaged model's local
server) with `response_format` set to the schema below; a server that refuses `json_schema` is
asked again with llama.cpp's `json_object` + schema form, and the reply is validated either way.
The cap is a Redis semaphore shared by every worker process, so 32 analysis tasks on 8 workers
still make at most `tracker.llm_concurrency` calls at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import openai
from openai import AsyncOpenAI
from pydantic import BaseModel, ValidationError, field_validator
from redis.asyncio import Redis

from mocki.llm.base import Usage
from mocki.tracker.classifier import DESCRIPTIONS, STATUSES, Status

log = logging.getLogger(__name__)

MAX_BODY_CHARS = 3000
SEMAPHORE_KEY = "mocki:tracker:llm-slots"
# A holder that died keeps its slot this long at most.
LEASE_S = 120.0

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": list(STATUSES)},
        "company": {"type": ["string", "null"]},
        "position": {"type": ["string", "null"]},
        "interview_at": {"type": ["string", "null"], "description": "ISO 8601 date-time of an interview"},
        "deadline_at": {"type": ["string", "null"], "description": "ISO 8601 date-time of a deadline"},
        "assessment_url": {"type": ["string", "null"]},
        "next_action": {"type": "string"},
    },
    "required": [
        "status",
        "company",
        "position",
        "interview_at",
        "deadline_at",
        "assessment_url",
        "next_action",
    ],
    "additionalProperties": False,
}


class LLMView(BaseModel):
    """What the model said, validated; unusable fields become None rather than failing the whole reply."""

    status: Status
    company: str | None = None
    position: str | None = None
    interview_at: datetime | None = None
    deadline_at: datetime | None = None
    assessment_url: str | None = None
    next_action: str = ""

    @field_validator("company", "position", "assessment_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in {"", "null", "none", "unknown", "n/a"}:
            return None
        return value.strip()[:300] if isinstance(value, str) else value

    @field_validator("interview_at", "deadline_at", mode="before")
    @classmethod
    def _lenient_date(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None


def messages(subject: str, sender: str, received: datetime | None, body: str) -> list[dict[str, str]]:
    labels = "\n".join(f"- {s}: {DESCRIPTIONS[s]}" for s in STATUSES)
    system = (
        "You read one email from a job seeker's mailbox and reply with JSON only. Fields: status (one "
        f"of the labels below), company (the employer, not the job board or applicant tracking "
        "system), position (the job title), interview_at and deadline_at (ISO 8601, only when the email "
        "states them), assessment_url, next_action (one short sentence for the job seeker). Use null "
        f"for anything the email does not say.\nLabels:\n{labels}"
    )
    user = (
        f"Received: {received.isoformat() if received else 'unknown'}\nFrom: {sender or 'unknown'}\n"
        f"Subject: {subject or '(none)'}\n\n{body[:MAX_BODY_CHARS]}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


# ------------------------------------------------------------------------------- the semaphore

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[3])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  return 1
end
return 0
"""


class SlotTimeout(Exception):
    """No LLM slot became free in time."""


@asynccontextmanager
async def llm_slot(
    redis: Redis[bytes],
    limit: int,
    *,
    key: str = SEMAPHORE_KEY,
    lease_s: float = LEASE_S,
    wait_s: float = 300.0,
) -> AsyncIterator[None]:
    """Hold one of `limit` slots shared through Redis (atomic in a Lua script; expired leases are
    reclaimed, so a killed worker frees its slot after `lease_s`)."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait_s
    delay = 0.02
    while not await redis.eval(_ACQUIRE, 1, key, time.time(), limit, lease_s, token):  # type: ignore[no-untyped-call]
        if time.monotonic() > deadline:
            raise SlotTimeout(f"no LLM slot free after {wait_s:.0f} s")
        await asyncio.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 0.5)
    try:
        yield
    finally:
        await redis.zrem(key, token)


# ------------------------------------------------------------------------------------ the client


@dataclass
class LLMReply:
    view: LLMView | None
    usage: Usage


class StructuredLLM:
    """Asks an OpenAI-compatible endpoint for an `LLMView`; None when the reply is unusable."""

    def __init__(self, base_url: str, api_key: str, model: str, *, timeout_s: float = 60.0) -> None:
        self.model = model
        self._client = AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=1)
        self._mode = "json_schema"

    def _format(self) -> dict[str, Any]:
        if self._mode == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": "job_email", "strict": True, "schema": SCHEMA},
            }
        return {"type": "json_object", "schema": SCHEMA}

    async def read(self, subject: str, sender: str, received: datetime | None, body: str) -> LLMReply:
        usage = Usage(model=self.model)
        started = time.perf_counter()
        try:
            response = await self._create(messages(subject, sender, received, body))
        except (openai.OpenAIError, TimeoutError) as exc:
            usage.error = str(exc)[:500]
            usage.latency_s = time.perf_counter() - started
            log.warning("tracker: the LLM failed, keeping the offline analysis: %r", exc)
            return LLMReply(None, usage)
        usage.latency_s = time.perf_counter() - started
        if response.usage is not None:
            usage.prompt_tokens = response.usage.prompt_tokens
            usage.completion_tokens = response.usage.completion_tokens
        text = response.choices[0].message.content or "" if response.choices else ""
        return LLMReply(parse_view(text), usage)

    async def _create(self, chat: list[dict[str, str]]) -> Any:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": chat,
            "temperature": 0.0,
            "max_tokens": 200,
        }
        # The SDK's overloads cannot check a params dict; the endpoint validates it.
        completions: Any = self._client.chat.completions
        # The mode this call asked in: concurrent calls refused together must each retry, even
        # after the first of them has switched the shared mode.
        asked = self._mode
        try:
            return await completions.create(response_format=self._format(), **params)
        except openai.APIStatusError as exc:
            # llama.cpp-style servers take a schema inside json_object instead (llama-cpp-python's
            # answers a json_schema request with a 500 naming the field).
            refused = "response_format" in str(exc) or "json_schema" in str(exc)
            if asked != "json_schema" or not (exc.status_code in (400, 422) or refused):
                raise
            self._mode = "json_object"
            return await completions.create(response_format=self._format(), **params)

    async def aclose(self) -> None:
        await self._client.close()


def parse_view(text: str) -> LLMView | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        return LLMView.model_validate(json.loads(text[start : end + 1]))
    except (ValueError, ValidationError):
        return None
