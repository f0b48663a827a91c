"""The LLM Protocol every caller depends on, with streaming and per-call usage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypedDict


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass
class Usage:
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    first_token_s: float | None = None
    error: str | None = None
    # True when the endpoint sent no usage and the counts were made client-side.
    estimated: bool = False
    cached: str | None = None  # "exact" | "semantic" when served from the answer cache


@dataclass
class Completion:
    text: str
    usage: Usage


@dataclass
class ChatStream:
    """Async iterator of text deltas; `usage` is filled in once the stream is exhausted."""

    deltas: AsyncIterator[str]
    usage: Usage
    text_parts: list[str] = field(default_factory=list)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str]:
        async for delta in self.deltas:
            self.text_parts.append(delta)
            yield delta

    @property
    def text(self) -> str:
        return "".join(self.text_parts)


class LLMError(Exception):
    """The model could not answer (unreachable, timed out, refused)."""


class LLM(Protocol):
    model: str

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> ChatStream: ...

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> Completion: ...

    async def prewarm(self, messages: Sequence[ChatMessage]) -> None:
        """Let a local server evaluate a prompt prefix ahead of time (a no-op elsewhere)."""
        ...

    async def aclose(self) -> None: ...
