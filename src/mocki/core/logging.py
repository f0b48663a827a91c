"""Process-wide logging setup: one line per record, level from the environment, secrets redacted.

Redaction is a log-record factory, not a handler filter: it runs when any record is created, by
any logger (ours, uvicorn's access log, Celery's, a library's), whatever handlers the process's
logging config installs, so no configuration can forget it. It formats the message once, masks
bearer tokens, JWTs, Authorization and signing headers and any `password=`/`"api_key": ...`-style
value, and does the same to an exception's formatted traceback.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

MASK = "[REDACTED]"

# Names whose value is a secret wherever they appear as `name=value`, `name: value` or JSON.
_SECRET_NAMES = (
    r"password|passwd|pwd|app_password|new_password|current_password|secret|secret_key|client_secret"
    r"|api_key|apikey|x-api-key|token|access_token|refresh_token|id_token|vault_token|auth_token"
    r"|signing_key|private_key|authorization|x-mocki-signature|credentials|code_verifier"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "Authorization: Bearer abc", "bearer abc", Basic credentials.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), rf"\1 {MASK}"),
    # A JWT anywhere (three base64url parts, the first of them a JSON header).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    # JSON / dict reprs: "password": "x", 'api_key': 'x', b'authorization': b'x'.
    (
        re.compile(rf"""(?i)(b?["'](?:{_SECRET_NAMES})["']\s*[:,]\s*b?)(["'])(?:(?!\2).)*\2"""),
        rf"\1\2{MASK}\2",
    ),
    # key=value (query strings, command lines, logfmt) and "Header: value" up to the line end.
    (re.compile(rf"(?i)\b((?:{_SECRET_NAMES})\s*=\s*)[^\s&,;'\"]+"), rf"\1{MASK}"),
    (re.compile(rf"(?im)^(\s*(?:{_SECRET_NAMES})\s*:\s*)\S.*$"), rf"\1{MASK}"),
    # URLs with credentials: scheme://user:password@host.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@"), rf"\1{MASK}@"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# Loggers whose formatter unpacks record.args itself: their string arguments are redacted one by
# one and the tuple is kept (uvicorn's access log: client, method, path with query, version, status).
_TUPLE_ARGS = frozenset({"uvicorn.access"})


def _redact_arg(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


def _redact_record(record: logging.LogRecord) -> None:
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _redact_arg(v) for k, v in record.args.items()}
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it for logging to report
        return
    cleaned = redact(message)
    if cleaned != message and record.name not in _TUPLE_ARGS:
        # A secret only visible once formatted ("password=%s", a dict of headers as %r).
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


_installed = False


def install_redaction() -> None:
    """Redact every log record created from now on in this process (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def setup_logging(process: str) -> None:
    """MOCKI's own lines at MOCKI_LOG_LEVEL (INFO by default) and other libraries' warnings, to
    stderr, unless something (a test runner, an operator's config) gave the root logger a handler
    already. uvicorn configures only its own loggers, so without this the api printed none of
    ours below WARNING (a voice call closing, a model pool restarted...)."""
    install_redaction()
    if logging.getLogger().handlers:
        return
    logging.basicConfig(
        level=logging.WARNING,
        format=f"%(asctime)s {process} %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("mocki").setLevel(os.environ.get("MOCKI_LOG_LEVEL", "INFO").upper())
