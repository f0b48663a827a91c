"""Browser-facing response hardening: security headers on every response and strict CORS.

Both are plain ASGI middlewares that only touch the `http.response.start` message, so they cost a
few list operations per response and never buffer a body (streamed answers and audio pass through).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocki.core.errors import error_body
from mocki.security.signing import NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from mocki.settings import SecuritySettings

API_PREFIX = "/api/v1"
# Api responses that carry personal data must not be kept by the browser or a shared proxy.
NO_STORE = (b"cache-control", b"no-store")
# The same answer without personal data may be cached (health, the OpenAPI document).
CACHEABLE_API_PATHS = frozenset({f"{API_PREFIX}/health", f"{API_PREFIX}/openapi.json", f"{API_PREFIX}/docs"})

# The request headers the web app sends besides the simple ones (the signing headers: replay.py).
ALLOWED_REQUEST_HEADERS = (
    "authorization",
    "content-type",
    *(h.lower() for h in (TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER)),
)
# Response headers a cross-origin script may read (rate limits, Retry-After for its back-off).
EXPOSED_HEADERS = ("retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PREFLIGHT_MAX_AGE_S = 600


def content_security_policy(settings: SecuritySettings) -> str:
    """The policy of the built web app (web/dist): one module script and one stylesheet from
    /assets, no inline script. React's `style={...}` sets properties through the CSSOM, which
    style-src does not govern, so no 'unsafe-inline' is needed. The Socket.IO client and the
    WebRTC signalling talk to the same host (ws/wss for the socket); recorded answers are played
    from blob: URLs; the favicon is an svg file."""
    connect = (
        ["'self'", "ws:", "wss:", *settings.csp_connect_src]
        if not settings.behind_tls
        else [
            "'self'",
            "wss:",
            *settings.csp_connect_src,
        ]
    )
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": connect,
        "media-src": ["'self'", "blob:"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


# FastAPI's interactive docs page is an inline script plus Swagger UI from a public CDN: it gets a
# looser policy of its own (still no framing, api calls to this origin only). No user data is on it.
DOCS_PATHS = frozenset({f"{API_PREFIX}/docs", f"{API_PREFIX}/docs/oauth2-redirect"})
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https:; style-src 'self' 'unsafe-inline' https:; "
    "img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)

# The microphone for voice answers; nothing else the page never uses.
PERMISSIONS_POLICY = (
    "microphone=(self), camera=(), geolocation=(), payment=(), usb=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), interest-cohort=()"
)


def security_headers(settings: SecuritySettings) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", content_security_policy(settings).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
    ]
    if settings.behind_tls:
        headers.append(
            (b"strict-transport-security", f"max-age={settings.hsts_max_age_s}; includeSubDomains".encode())
        )
    return headers


def _header_names(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    return {k.lower() for k, _ in headers}


class SecurityHeaders:
    """Adds the security headers to every http response, and no-store to /api responses."""

    def __init__(self, app: ASGIApp, settings: SecuritySettings) -> None:
        self.app = app
        self.headers = security_headers(settings)
        self.docs_headers = [
            (k, DOCS_POLICY.encode() if k == b"content-security-policy" else v) for k, v in self.headers
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        no_store = path.startswith(API_PREFIX + "/") and path not in CACHEABLE_API_PATHS
        own = self.docs_headers if path in DOCS_PATHS else self.headers

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = _header_names(headers)
                headers += [(k, v) for k, v in own if k not in present]
                if no_store:
                    # A route's own Cache-Control (e.g. a public file) loses to no-store on the api.
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"] + [NO_STORE]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, wrapped)


def _origin_of(scope: Scope) -> str:
    """This server's own origin as the browser sees it (Host header, the request's scheme)."""
    host = ""
    for key, value in scope.get("headers") or []:
        if key == b"host":
            host = value.decode("latin-1")
            break
    scheme = scope.get("scheme", "http")
    return f"{scheme}://{host}".lower()


def _request_header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class StrictCORS:
    """Cross-origin requests only from the configured origins, with credentials.

    Same-origin requests (no Origin header, or the server's own origin) pass untouched. A
    preflight from any other origin is answered 403, so the browser never sends the real request;
    a simple request from one gets no Access-Control-Allow-Origin, so its page cannot read the
    answer (and a mutating one is refused by the signature check before that: it has no token)."""

    def __init__(self, app: ASGIApp, settings: SecuritySettings) -> None:
        self.app = app
        self.allowed = {o.rstrip("/").lower() for o in settings.cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _request_header(scope, b"origin") if scope["type"] == "http" else None
        if origin is None or origin.rstrip("/").lower() == _origin_of(scope):
            await self.app(scope, receive, send)
            return
        allowed = origin.rstrip("/").lower() in self.allowed
        preflight = (
            scope.get("method") == "OPTIONS"
            and _request_header(scope, b"access-control-request-method") is not None
        )
        if preflight:
            await self._preflight(send, origin, allowed, scope)
            return
        if not allowed:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, self._with_cors(send, origin))

    async def _preflight(self, send: Send, origin: str, allowed: bool, scope: Scope) -> None:
        method = (_request_header(scope, b"access-control-request-method") or "").upper()
        asked = _request_header(scope, b"access-control-request-headers") or ""
        extra = {h.strip().lower() for h in asked.split(",") if h.strip()} - set(ALLOWED_REQUEST_HEADERS)
        if not allowed or method not in ALLOWED_METHODS or extra:
            reason = (
                f"Origin {origin} may not call this api."
                if not allowed
                else f"Method {method} or headers {sorted(extra)} are not allowed across origins."
            )
            await _send_json(send, 403, error_body("cors_refused", reason), [(b"vary", b"Origin")])
            return
        headers = [
            *_cors_headers(origin),
            (b"access-control-allow-methods", ", ".join(ALLOWED_METHODS).encode()),
            (b"access-control-allow-headers", ", ".join(ALLOWED_REQUEST_HEADERS).encode()),
            (b"access-control-max-age", str(PREFLIGHT_MAX_AGE_S).encode()),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    def _with_cors(send: Send, origin: str) -> Callable[[Message], Awaitable[None]]:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    *(message.get("headers") or []),
                    *_cors_headers(origin),
                    (b"access-control-expose-headers", ", ".join(EXPOSED_HEADERS).encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        return wrapped


def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin.encode()),
        (b"access-control-allow-credentials", b"true"),
        (b"vary", b"Origin"),
    ]


async def _send_json(
    send: Send, status: int, body: dict[str, object], headers: list[tuple[bytes, bytes]]
) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
