"""Where the tracker's outgoing mail lands in tests: an SMTP sink (aiosmtpd) and a Resend-like HTTP
server (POST /emails), both real servers on free ports of 127.0.0.1 that keep what they received."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from mocki.settings import Settings
from mocki.tracker.config import TrackerSettings
from tests.support.processes import free_port


class Sink:
    """Keeps every message the SMTP server accepts; `refuse` makes it refuse the next N."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse -= 1
            return "554 Transaction failed: refused by the test"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def bodies(self) -> list[str]:
        return [str(m.get_content()) for m in self.messages]


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def smtp_config(settings: Settings, port: int, **extra: Any) -> TrackerSettings:
    return settings.tracker.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "public_url": "http://mocki.test", **extra}
    )


@dataclass
class ResendServer:
    """What the fake Resend API got: each request's headers and JSON body."""

    url: str
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    status: int = 200  # what POST /emails answers; 4xx/5xx with Resend's error body
    seen_keys: set[str] = field(default_factory=set)


@pytest.fixture
def resend_server() -> Iterator[ResendServer]:
    port = free_port()
    server = ResendServer(f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path != "/emails":
                return self._answer(404, {"name": "not_found", "message": "no such route", "statusCode": 404})
            if server.status != 200:
                error = {
                    "name": "application_error",
                    "message": "refused by the test",
                    "statusCode": server.status,
                }
                return self._answer(server.status, error)
            key = self.headers.get("Idempotency-Key") or ""
            server.requests.append((dict(self.headers.items()), body))
            server.seen_keys.add(key)
            self._answer(200, {"id": str(uuid.uuid4())})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
