"""Domain errors carry their HTTP status and a stable code; one handler renders them."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Gone(DomainError):
    """Existed once and is no longer usable (a spent or expired single-use code)."""

    status_code = 410
    code = "gone"


class Invalid(DomainError):
    status_code = 422
    code = "invalid"


class TooLarge(DomainError):
    status_code = 413
    code = "too_large"


class UnsupportedMedia(DomainError):
    status_code = 415
    code = "unsupported_media_type"


class Unavailable(DomainError):
    status_code = 503
    code = "unavailable"


log = logging.getLogger(__name__)

# PostgreSQL's "character not in repertoire": text holding a NUL character, which no text column
# of PostgreSQL can store (SQLite can); it is the client's input, so a 422, not a 500.
_NUL_SQLSTATE = "22021"


# A deadlock or a serialization failure: PostgreSQL rolled this transaction back so a concurrent
# one could go on. Nothing was saved and the same request will very likely pass: a 503 to retry.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def _sqlstate(exc: DBAPIError) -> str | None:
    cause = getattr(exc.orig, "__cause__", None) or exc.orig
    state = getattr(cause, "sqlstate", None) or getattr(exc.orig, "sqlstate", None)
    return str(state) if state is not None else None


def _is_nul_in_text(exc: DBAPIError) -> bool:
    return _sqlstate(exc) == _NUL_SQLSTATE or "0x00" in str(exc.orig)


def is_retryable(exc: BaseException) -> bool:
    """A database error that only says a concurrent transaction got in the way (deadlock victim,
    serialization failure): the whole transaction may be run again."""
    return isinstance(exc, DBAPIError) and _sqlstate(exc) in _RETRYABLE_SQLSTATES


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": err.get("msg", "invalid"),
            }
            for err in exc.errors()
        ]
        summary = "; ".join(f"{p['field'] or 'body'}: {p['message']}" for p in problems)
        return JSONResponse(
            error_body("validation_error", f"Invalid request: {summary}", problems),
            status_code=422,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # Services check uniqueness first; this is the race two concurrent requests can still hit.
        return JSONResponse(
            error_body("conflict", "This change conflicts with data saved a moment ago; try again."),
            status_code=409,
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if _is_nul_in_text(exc):
            return JSONResponse(
                error_body("nul_character", "Text must not contain the NUL character (\\u0000)."),
                status_code=422,
            )
        if is_retryable(exc):
            log.warning("%s %s lost a race in the database: %s", request.method, request.url.path, exc.orig)
            return JSONResponse(
                error_body("database_busy", "A concurrent change got in the way; nothing was saved. Retry."),
                status_code=503,
                headers={"Retry-After": "1"},
            )
        # Anything else is ours: logged with its traceback, answered as the 500 it always was.
        log.error("%s %s failed in the database", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "Something went wrong on our side; try again."), status_code=500
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
