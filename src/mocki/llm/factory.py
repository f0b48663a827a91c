"""Build the configured LLM client: a remote endpoint, or the packaged model's local server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from redis.asyncio import Redis

from mocki.llm.base import LLM
from mocki.llm.cache import AnswerCache, CachedLLM
from mocki.llm.openai_compat import OpenAICompatLLM
from mocki.settings import Settings

if TYPE_CHECKING:
    from mocki.retrieval.embeddings import Embedder


def local_base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.local_model.port}/v1"


def model_identity(settings: Settings) -> str:
    """What answered, for the answer cache's keys: the packaged models all call themselves "local"."""
    cfg = settings.llm
    if cfg.base_url:
        return f"{cfg.model}@{cfg.base_url}"
    return f"{cfg.model}@packaged:{settings.local_model.name}"


def make_llm(
    settings: Settings, *, redis: Redis[bytes] | None = None, embedder: Embedder | None = None
) -> LLM:
    """The client, behind the answer cache when it is enabled and both Redis and an embedder are given."""
    cfg = settings.llm
    base_url = cfg.base_url or local_base_url(settings)
    llm = OpenAICompatLLM(
        base_url,
        cfg.api_key,
        cfg.model,
        timeout_s=cfg.timeout_s,
        max_retries=cfg.max_retries,
        default_max_tokens=cfg.max_tokens,
        default_temperature=cfg.temperature,
        prewarm=cfg.prewarm,
    )
    if not settings.llm_cache.enabled or redis is None or embedder is None:
        return llm
    return CachedLLM(llm, AnswerCache(redis, embedder, settings.llm_cache, model_identity(settings)))
