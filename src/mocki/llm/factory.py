"""Build the configured LLM client: a remote endpoint, or the packaged model's local server."""

from __future__ import annotations

from mocki.llm.base import LLM
from mocki.llm.openai_compat import OpenAICompatLLM
from mocki.settings import Settings


def local_base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.local_model.port}/v1"


def make_llm(settings: Settings) -> LLM:
    cfg = settings.llm
    base_url = cfg.base_url or local_base_url(settings)
    return OpenAICompatLLM(
        base_url,
        cfg.api_key,
        cfg.model,
        timeout_s=cfg.timeout_s,
        max_retries=cfg.max_retries,
        default_max_tokens=cfg.max_tokens,
        default_temperature=cfg.temperature,
        prewarm=cfg.prewarm,
    )
