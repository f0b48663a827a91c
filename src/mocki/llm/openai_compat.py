"""Any OpenAI-compatible chat endpoint through the openai SDK, the local model server included."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import openai
from openai import AsyncOpenAI

from mocki.llm.base import ChatMessage, ChatStream, Completion, LLMError, Usage

log = logging.getLogger(__name__)

# Errors worth another try: the server was busy, restarting or briefly unreachable.
_TRANSIENT = (
    openai.APIConnectionError,
    openai.APITimeoutError,
    openai.RateLimitError,
    openai.InternalServerError,
)


class OpenAICompatLLM:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        *,
        timeout_s: float = 120.0,
        max_retries: int = 2,
        default_max_tokens: int = 160,
        default_temperature: float = 0.4,
        prewarm: bool = False,
    ) -> None:
        # Only worth it on a local llama.cpp server, whose prompt cache keeps the last prefix;
        # on a hosted endpoint it would be a paid call for nothing.
        self.prewarm_enabled = prewarm
        self.model = model
        self.max_retries = max_retries
        self.default_max_tokens = default_max_tokens
        self.default_temperature = default_temperature
        # Retries are ours (with jitter) so a stream is only retried before its first token.
        self._client = AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0)
        self._tokenize_supported = True

    def _params(
        self,
        messages: Sequence[ChatMessage],
        max_tokens: int | None,
        temperature: float | None,
        stop: Sequence[str] | None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": max_tokens or self.default_max_tokens,
            "temperature": self.default_temperature if temperature is None else temperature,
        }
        if stop:
            params["stop"] = list(stop)
        return params

    async def _with_retries(self, params: dict[str, Any]) -> Any:
        attempt = 0
        while True:
            try:
                return await self._client.chat.completions.create(**params)
            except _TRANSIENT as exc:
                if attempt >= self.max_retries:
                    raise LLMError(f"LLM unavailable after {attempt + 1} tries: {exc}") from exc
                await asyncio.sleep(min(8.0, 0.5 * 2**attempt) * (0.5 + random.random()))
                attempt += 1
            except openai.APIStatusError as exc:
                raise LLMError(f"LLM refused the request ({exc.status_code}): {exc.message}") from exc

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> ChatStream:
        usage = Usage(model=self.model)
        params = self._params(messages, max_tokens, temperature, stop)
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}

        async def deltas() -> AsyncIterator[str]:
            started = time.perf_counter()
            chunks = 0
            try:
                response = await self._with_retries(params)
                async for chunk in response:
                    if chunk.usage is not None:
                        usage.prompt_tokens = chunk.usage.prompt_tokens
                        usage.completion_tokens = chunk.usage.completion_tokens
                    if not chunk.choices:
                        continue
                    text = chunk.choices[0].delta.content
                    if text:
                        if usage.first_token_s is None:
                            usage.first_token_s = time.perf_counter() - started
                        chunks += 1
                        yield text
                if usage.prompt_tokens == 0:
                    # Servers that ignore stream_options (llama-cpp-python's among them) send no
                    # usage: count the prompt with the server's tokenizer, one token per chunk.
                    usage.prompt_tokens = await self._count_prompt_tokens(params["messages"])
                    usage.completion_tokens = chunks
                    usage.estimated = True
            except (openai.OpenAIError, LLMError) as exc:
                usage.error = str(exc)[:500]
                raise exc if isinstance(exc, LLMError) else LLMError(str(exc)) from exc
            finally:
                usage.latency_s = time.perf_counter() - started

        return ChatStream(deltas=deltas(), usage=usage)

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> Completion:
        started = time.perf_counter()
        usage = Usage(model=self.model)
        try:
            response = await self._with_retries(self._params(messages, max_tokens, temperature, stop))
        except LLMError as exc:
            usage.error = str(exc)[:500]
            raise
        usage.latency_s = time.perf_counter() - started
        if response.usage is not None:
            usage.prompt_tokens = response.usage.prompt_tokens
            usage.completion_tokens = response.usage.completion_tokens
        text = response.choices[0].message.content or "" if response.choices else ""
        return Completion(text=text, usage=usage)

    async def prewarm(self, messages: Sequence[ChatMessage]) -> None:
        if not self.prewarm_enabled:
            return
        # An optimisation only: if it fails, the real call evaluates the prompt itself.
        with contextlib.suppress(openai.OpenAIError):
            await self._client.chat.completions.create(**self._params(messages, 1, 0.0, None))

    async def _count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        text = "\n".join(m["content"] for m in messages)
        # A few template tokens frame every message.
        overhead = 4 * len(messages)
        if self._tokenize_supported:
            root = str(self._client.base_url).rstrip("/").removesuffix("/v1")
            try:
                response = await self._client._client.post(
                    f"{root}/extras/tokenize/count", json={"input": text, "model": self.model}, timeout=10
                )
                if response.status_code == 200:
                    return int(response.json()["count"]) + overhead
            except Exception:
                log.debug("token count endpoint failed; estimating", exc_info=True)
            self._tokenize_supported = False
        return len(text) // 4 + overhead

    async def aclose(self) -> None:
        await self._client.close()
