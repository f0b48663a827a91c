"""How database errors reach the client: a lost race is a 503 to retry, NUL in text a 422, and
anything else a 500 with a generic message."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from mocki.core.errors import install_error_handlers, is_retryable


class _Driver(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"driver error {sqlstate}")
        self.sqlstate = sqlstate


def _db_error(sqlstate: str) -> DBAPIError:
    return DBAPIError("DELETE FROM users", {}, _Driver(sqlstate))


def _app(sqlstate: str) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise _db_error(sqlstate)

    return app


@pytest.mark.parametrize(
    ("sqlstate", "status", "code"),
    [
        ("40P01", 503, "database_busy"),  # deadlock victim
        ("40001", 503, "database_busy"),  # serialization failure
        ("22021", 422, "nul_character"),
        ("XX000", 500, "internal_error"),
    ],
)
async def test_database_errors_answer_by_their_sqlstate(sqlstate: str, status: int, code: str) -> None:
    transport = httpx.ASGITransport(app=_app(sqlstate), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        resp = await client.get("/boom")
    assert resp.status_code == status and resp.json()["error"]["code"] == code
    assert (resp.headers.get("Retry-After") == "1") is (status == 503)
    assert is_retryable(_db_error(sqlstate)) is (status == 503)
