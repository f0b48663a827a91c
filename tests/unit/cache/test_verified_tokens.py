"""auth.deps.VerifiedTokens: a known access token skips the HMAC and JSON work, but never outlives
its `exp`, never crosses secrets and never grows past its bound."""

from __future__ import annotations

import time
import uuid

import pytest

from mocki.auth import deps
from mocki.auth.deps import VerifiedTokens
from mocki.auth.tokens import issue_access_token
from mocki.core.errors import Unauthorized

SECRET = "unit-secret-that-is-long-enough-0123456789abcdef"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_known_token_is_not_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    memo = VerifiedTokens()
    user_id = uuid.uuid4()
    token = issue_access_token(user_id, "user", SECRET, 5)
    first = memo.decode(token, SECRET)
    assert first.user_id == user_id and first.expires_at is not None

    def refuse(*_: object) -> None:
        raise AssertionError("decoded again")

    monkeypatch.setattr(deps, "decode_access_token", refuse)
    assert memo.decode(token, SECRET) is first


def test_an_expired_token_is_refused_and_not_remembered() -> None:
    memo = VerifiedTokens()
    token = issue_access_token(uuid.uuid4(), "user", SECRET, -1)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            memo.decode(token, SECRET)
    assert len(memo._claims) == 0


def test_past_exp_the_memo_decodes_again(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    memo = VerifiedTokens(clock=clock)
    token = issue_access_token(uuid.uuid4(), "user", SECRET, 1)
    memo.decode(token, SECRET)
    calls: list[str] = []
    real = deps.decode_access_token

    def counting(token: str, secret: str) -> object:
        calls.append(token)
        return real(token, secret)

    monkeypatch.setattr(deps, "decode_access_token", counting)
    memo.decode(token, SECRET)
    assert calls == []
    clock.now += 61
    memo.decode(token, SECRET)
    assert calls == [token]


def test_another_secret_does_not_reuse_the_entry() -> None:
    memo = VerifiedTokens()
    token = issue_access_token(uuid.uuid4(), "user", SECRET, 5)
    memo.decode(token, SECRET)
    with pytest.raises(Unauthorized):
        memo.decode(token, "another-secret-that-is-long-enough-0123456789ab")


def test_the_memo_is_bounded() -> None:
    memo = VerifiedTokens(max_entries=3)
    tokens = [issue_access_token(uuid.uuid4(), "user", SECRET, 5) for _ in range(5)]
    for token in tokens:
        memo.decode(token, SECRET)
    assert len(memo._claims) == 3
