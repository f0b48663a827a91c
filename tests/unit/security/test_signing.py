"""Request signing: the canonical form, a fixed test vector (shared with the web client's test),
what a change to any signed part does, and the header checks."""

from __future__ import annotations

import pytest

from mocki.security import signing

SECRET = "test-secret-key-that-is-long-enough-0123456789"
SESSION = "3f2c7f0e-3f5a-4c55-9b2e-0c1d2e3f4a5b"
BODY = b'{"text":"hello"}'
TARGET = "/api/v1/interviews/42/answer?lang=en"
TS = 1700000000
NONCE = "nonce-0123456789abcdef"
# Also in web/src/lib/signing.test.ts, and reproducible with openssl (docs/security.md).
KEY = "be1d7f909bf00ec0cd70d469bc2fe9243ab4594188ede7f5e08f226cf4db5beb"
SIGNATURE = "2c259a1b78d10255900e8625f300ba43d6868bb59829527cef67f104a3c9cce8"


def test_canonical_form_is_six_lines_without_trailing_newline() -> None:
    text = signing.canonical_request("post", TARGET, signing.body_digest(BODY), TS, NONCE)
    assert text.split("\n") == [
        "MOCKI-HMAC-SHA256",
        "POST",
        TARGET,
        "cbbbdcd27692344de5dbab3abcaba413fb0f45307267de7081401576df1cb176",
        "1700000000",
        NONCE,
    ]
    assert not text.endswith("\n")


def test_empty_body_hashes_to_the_sha256_of_nothing() -> None:
    assert signing.body_digest(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_known_vector() -> None:
    assert signing.session_signing_key(SECRET, SESSION) == KEY
    assert signing.sign(KEY, "POST", TARGET, BODY, TS, NONCE) == SIGNATURE


def test_keys_differ_by_session_and_by_secret() -> None:
    keys = {
        signing.session_signing_key(SECRET, SESSION),
        signing.session_signing_key(SECRET, SESSION + "x"),
        signing.session_signing_key(SECRET + "x", SESSION),
    }
    assert len(keys) == 3
    assert all(len(k) == 64 and int(k, 16) >= 0 for k in keys)


@pytest.mark.parametrize(
    ("method", "target", "body", "ts", "nonce"),
    [
        ("PUT", TARGET, BODY, TS, NONCE),
        ("POST", "/api/v1/interviews/43/answer?lang=en", BODY, TS, NONCE),
        ("POST", "/api/v1/interviews/42/answer?lang=zh", BODY, TS, NONCE),
        ("POST", "/api/v1/interviews/42/answer", BODY, TS, NONCE),
        ("POST", TARGET, b'{"text":"hellO"}', TS, NONCE),
        ("POST", TARGET, BODY, TS + 1, NONCE),
        ("POST", TARGET, BODY, TS, NONCE[:-1] + "0"),
    ],
)
def test_any_change_breaks_the_signature(method: str, target: str, body: bytes, ts: int, nonce: str) -> None:
    headers = signing.SignedHeaders(TS, NONCE, SIGNATURE)
    assert signing.verify(KEY, "POST", TARGET, BODY, headers)
    assert not signing.verify(KEY, method, target, body, signing.SignedHeaders(ts, nonce, SIGNATURE))


def test_parse_headers_accepts_the_documented_form() -> None:
    assert signing.parse_headers(None, None, None) is None
    parsed = signing.parse_headers("1700000000", NONCE, SIGNATURE.upper())
    assert parsed == signing.SignedHeaders(TS, NONCE, SIGNATURE)


@pytest.mark.parametrize(
    ("ts", "nonce", "sig", "message"),
    [
        ("1700000000", None, SIGNATURE, "Missing X-Mocki-Nonce"),
        (None, None, SIGNATURE, "Missing X-Mocki-Timestamp, X-Mocki-Nonce"),
        ("1700000000.5", NONCE, SIGNATURE, "whole seconds"),
        ("-5", NONCE, SIGNATURE, "whole seconds"),
        ("1700000000", "short", SIGNATURE, "16 to 64"),
        ("1700000000", "x" * 65, SIGNATURE, "16 to 64"),
        ("1700000000", "has space in it!!", SIGNATURE, "16 to 64"),
        ("1700000000", NONCE, SIGNATURE[:-1], "64 hex"),
        ("1700000000", NONCE, "g" * 64, "64 hex"),
    ],
)
def test_parse_headers_refuses_malformed(
    ts: str | None, nonce: str | None, sig: str | None, message: str
) -> None:
    with pytest.raises(signing.MalformedSignature, match=message):
        signing.parse_headers(ts, nonce, sig)


def test_fingerprint_is_per_session_and_nonce() -> None:
    a = signing.fingerprint(SESSION, NONCE)
    assert a == signing.fingerprint(SESSION, NONCE)
    assert a != signing.fingerprint(SESSION, NONCE + "x")
    assert a != signing.fingerprint(SESSION + "x", NONCE)
    assert len(a) == 32
