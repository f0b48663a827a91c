"""The `mocki` command against a real SQLite file: migrations, seeding, accounts, models."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx

from mocki.app import create_app
from mocki.settings import Settings
from tests.support.processes import PYTHON


def _mocki(args: list[str], data_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKI_") or k == "MOCKI_CACHE"}
    env.update({"MOCKI_DATA_DIR": str(data_dir), **extra})
    return subprocess.run(
        [PYTHON, "-m", "mocki.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


async def test_db_upgrade_and_users_create_then_login(tmp_path: Path) -> None:
    first = _mocki(["db", "upgrade"], tmp_path)
    assert first.returncode == 0, first.stderr
    again = _mocki(["db", "upgrade"], tmp_path)  # idempotent: same bank, no duplicates
    assert again.returncode == 0 and again.stdout.split()[-3] == first.stdout.split()[-3]

    made = _mocki(
        ["users", "create", "cli@example.com", "--password", "correct horse battery", "--admin"], tmp_path
    )
    assert made.returncode == 0, made.stderr
    assert "admin" in made.stdout

    dup = _mocki(["users", "create", "cli@example.com", "--password", "correct horse battery"], tmp_path)
    assert dup.returncode == 1 and "already exists" in dup.stderr

    weak = _mocki(["users", "create", "weak@example.com", "--password", "short"], tmp_path)
    assert weak.returncode == 1 and "at least" in weak.stderr

    settings = Settings(
        env="test", data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/15", secret_key="k" * 40
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        login = await c.post(
            "/api/v1/auth/login", json={"email": "cli@example.com", "password": "correct horse battery"}
        )
        assert login.status_code == 200
        me = await c.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert me.json()["role"] == "admin"


def test_production_without_secret_refuses_to_start(tmp_path: Path) -> None:
    result = _mocki(["db", "upgrade"], tmp_path, MOCKI_ENV="production")
    assert result.returncode == 1
    assert "MOCKI_SECRET_KEY" in result.stderr


def test_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    result = _mocki(["models", "ensure", "huge"], tmp_path)
    assert result.returncode == 1 and "Unknown model 'huge'" in result.stderr
