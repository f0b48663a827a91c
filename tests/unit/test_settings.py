"""Settings: MOCKI_ variables, the flat LLM switches, and refusing default secrets in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mocki.settings import Settings


def test_production_refuses_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKI_ENV", "production")
    monkeypatch.delenv("MOCKI_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="MOCKI_SECRET_KEY"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_production_accepts_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKI_ENV", "production")
    monkeypatch.setenv("MOCKI_SECRET_KEY", "x" * 40)
    assert Settings(_env_file=None).env == "production"  # type: ignore[call-arg]


def test_one_variable_switches_each_component(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKI_DATABASE_URL", "postgresql+asyncpg://u@db/mocki")
    monkeypatch.setenv("MOCKI_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("MOCKI_LLM_BASE_URL", "https://llm.example/v1")
    monkeypatch.setenv("MOCKI_LLM_API_KEY", "sk-test")
    monkeypatch.setenv("MOCKI_LLM_MODEL", "gpt-test")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.resolved_database_url.startswith("postgresql+asyncpg://")
    assert s.celery_broker_url == "redis://cache:6379/0"
    assert (s.llm.base_url, s.llm.api_key, s.llm.model) == ("https://llm.example/v1", "sk-test", "gpt-test")


def test_embedded_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for var in ("MOCKI_DATABASE_URL", "MOCKI_REDIS_URL", "MOCKI_LLM_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    s = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert s.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert s.resolved_redis_url.startswith("unix://")
    assert s.celery_broker_url.startswith("redis+socket://")
    assert s.llm.base_url == ""


def test_env_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = tmp_path / ".env"
    env.write_text("MOCKI_PORT=9123\nMOCKI_LOCAL_MODEL__NAME=fast\n")
    monkeypatch.delenv("MOCKI_PORT", raising=False)
    s = Settings(_env_file=env)  # type: ignore[call-arg]
    assert s.port == 9123 and s.local_model.name == "fast"
