"""The OpenAI-compatible client against the real local model server and against a flaky HTTP peer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mocki.llm.base import LLMError
from mocki.llm.openai_compat import OpenAICompatLLM


@pytest.mark.slow
async def test_streams_tokens_and_reports_usage_from_local_model(llm_server: str) -> None:
    llm = OpenAICompatLLM(llm_server, "local", "local", default_max_tokens=24)
    stream = llm.stream([{"role": "user", "content": "Say hello to the candidate."}])
    deltas = [d async for d in stream]
    await llm.aclose()
    assert len(deltas) > 1, "expected several streamed deltas"
    assert stream.text.strip()
    assert stream.usage.prompt_tokens > 0 and stream.usage.completion_tokens > 0
    assert stream.usage.first_token_s is not None and stream.usage.latency_s >= stream.usage.first_token_s


@pytest.mark.slow
async def test_complete_from_local_model(llm_server: str) -> None:
    llm = OpenAICompatLLM(llm_server, "local", "local", default_max_tokens=16)
    done = await llm.complete([{"role": "user", "content": "Name one programming language."}])
    await llm.aclose()
    assert done.text.strip() and done.usage.completion_tokens > 0


class _Flaky:
    """A local HTTP peer that fails the first `failures` requests with 503, then answers."""

    def __init__(self, failures: int, delay_s: float = 0.0) -> None:
        self.failures = failures
        self.delay_s = delay_s
        self.calls = 0


def _serve(state: _Flaky) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.calls += 1
            if state.delay_s:
                time.sleep(state.delay_s)
            if state.calls <= state.failures:
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error": {"message": "busy"}}')
                return
            body = {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "Tell me about a project."},
                    }
                ],
                "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12},
            }
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


async def test_retries_transient_errors_then_succeeds() -> None:
    state = _Flaky(failures=2)
    for url in _serve(state):
        llm = OpenAICompatLLM(url, "k", "m", max_retries=2)
        done = await llm.complete([{"role": "user", "content": "hi"}])
        await llm.aclose()
        assert done.text == "Tell me about a project."
        assert done.usage.prompt_tokens == 7
        assert state.calls == 3


async def test_gives_up_after_max_retries() -> None:
    state = _Flaky(failures=10)
    for url in _serve(state):
        llm = OpenAICompatLLM(url, "k", "m", max_retries=1)
        with pytest.raises(LLMError, match="unavailable after 2 tries"):
            await llm.complete([{"role": "user", "content": "hi"}])
        await llm.aclose()
        assert state.calls == 2


async def test_timeout_becomes_llm_error() -> None:
    state = _Flaky(failures=0, delay_s=2.0)
    for url in _serve(state):
        llm = OpenAICompatLLM(url, "k", "m", timeout_s=0.3, max_retries=0)
        with pytest.raises(LLMError):
            await llm.complete([{"role": "user", "content": "hi"}])
        await llm.aclose()


async def test_unreachable_endpoint_is_llm_error() -> None:
    llm = OpenAICompatLLM("http://127.0.0.1:9/v1", "k", "m", max_retries=0)
    with pytest.raises(LLMError):
        async for _ in llm.stream([{"role": "user", "content": "hi"}]):
            pass
    await llm.aclose()
