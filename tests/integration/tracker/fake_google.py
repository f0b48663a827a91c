"""A local HTTP server implementing the Google endpoints the tracker calls: OAuth2 token and revoke, and
Gmail's profile, labels, messages (list, raw) and history. In-memory, on a free port of 127.0.0.1."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

CLIENT_ID = "test-client.apps.example"
CLIENT_SECRET = "test-client-secret"
SCOPE = "https://www.googleapis.com/auth/gmail.readonly"
LABELS = [{"id": "INBOX", "name": "INBOX"}, {"id": "Label_7", "name": "Jobs"}]


@dataclass
class Mailbox:
    address: str = "sam@example.com"
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: list[tuple[int, str]] = field(default_factory=list)
    history_id: int = 100
    oldest_history: int = 0
    codes: dict[str, str] = field(default_factory=dict)  # code -> expected PKCE verifier presence
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    revoked: list[str] = field(default_factory=list)
    refreshes: int = 0
    calls: list[str] = field(default_factory=list)

    def add(self, raw: bytes, labels: list[str], internal_ms: int = 1_709_280_000_000) -> str:
        self.history_id += 1
        message_id = f"m{len(self.messages) + 1:04d}"
        self.messages[message_id] = {"raw": raw, "labels": labels, "internal": internal_ms}
        self.history.append((self.history_id, message_id))
        return message_id


class _Handler(BaseHTTPRequestHandler):
    mailbox: Mailbox

    def log_message(self, *_: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        path = urlparse(self.path).path
        box = self.mailbox
        box.calls.append(f"POST {path}")
        if path == "/revoke":
            box.revoked.append(form.get("token", ""))
            self._send(200, {})
            return
        if path != "/token":
            self._send(404, {"error": "not_found"})
            return
        basic = (self.headers.get("Authorization") or "").removeprefix("Basic ")
        if basic:  # client credentials may come as HTTP Basic auth instead of in the form
            client_id, _, secret = base64.b64decode(basic).decode().partition(":")
            form.setdefault("client_id", client_id)
            form.setdefault("client_secret", secret)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            self._send(401, {"error": "invalid_client"})
            return
        access = secrets.token_hex(8)
        if form.get("grant_type") == "authorization_code":
            if form.get("code") not in box.codes or not form.get("code_verifier"):
                self._send(400, {"error": "invalid_grant"})
                return
            refresh = secrets.token_hex(8)
            box.refresh_tokens.add(refresh)
            box.access_tokens.add(access)
            self._send(
                200,
                {
                    "access_token": access,
                    "refresh_token": refresh,
                    "expires_in": 3600,
                    "scope": SCOPE,
                    "token_type": "Bearer",
                },
            )
        elif form.get("grant_type") == "refresh_token" and form.get("refresh_token") in box.refresh_tokens:
            box.refreshes += 1
            box.access_tokens.add(access)
            self._send(200, {"access_token": access, "expires_in": 3600, "token_type": "Bearer"})
        else:
            self._send(400, {"error": "invalid_grant"})

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        box = self.mailbox
        box.calls.append(f"GET {url.path}")
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in box.access_tokens:
            self._send(401, {"error": {"code": 401, "message": "Invalid Credentials"}})
            return
        base = "/gmail/v1/users/me"
        path = url.path.removeprefix(base)
        if path == "/profile":
            self._send(200, {"emailAddress": box.address, "historyId": str(box.history_id)})
        elif path == "/labels":
            self._send(200, {"labels": LABELS})
        elif path == "/messages":
            self._list(query)
        elif path.startswith("/messages/"):
            message_id = path.rsplit("/", 1)[1]
            item = box.messages.get(message_id)
            if item is None:
                self._send(404, {"error": {"code": 404}})
                return
            raw = base64.urlsafe_b64encode(item["raw"]).decode().rstrip("=")
            self._send(
                200,
                {
                    "id": message_id,
                    "labelIds": item["labels"],
                    "raw": raw,
                    "internalDate": str(item["internal"]),
                },
            )
        elif path == "/history":
            self._history(query)
        else:
            self._send(404, {"error": {"code": 404}})

    def _list(self, query: dict[str, list[str]]) -> None:
        labels = set(query.get("labelIds", []))
        ids = [i for i, m in self.mailbox.messages.items() if not labels or labels <= set(m["labels"])]
        size = int(query.get("maxResults", ["100"])[0])
        start = int(query.get("pageToken", ["0"])[0])
        page = ids[start : start + size]
        body: dict[str, Any] = {
            "messages": [{"id": i, "threadId": i} for i in page],
            "resultSizeEstimate": len(ids),
        }
        if start + size < len(ids):
            body["nextPageToken"] = str(start + size)
        self._send(200, body)

    def _history(self, query: dict[str, list[str]]) -> None:
        box = self.mailbox
        start = int(query["startHistoryId"][0])
        if start < box.oldest_history:
            self._send(404, {"error": {"code": 404, "message": "Requested entity was not found."}})
            return
        records = [
            {
                "id": str(hid),
                "messagesAdded": [{"message": {"id": mid, "labelIds": box.messages[mid]["labels"]}}],
            }
            for hid, mid in box.history
            if hid > start
        ]
        self._send(200, {"history": records, "historyId": str(box.history_id)})


class FakeGoogle:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        handler = type("Handler", (_Handler,), {"mailbox": self.mailbox})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeGoogle:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
