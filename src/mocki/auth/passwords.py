"""Password hashing with argon2id and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mocki.core.errors import Invalid

_hasher = PasswordHasher()
# A fixed hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY = _hasher.hash("not-a-real-password-0")

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    try:
        return _hasher.verify(hashed or _DUMMY, password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def check_policy(password: str, email: str) -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid(f"Password must be at least {MIN_LENGTH} characters long.", code="weak_password")
    if len(password) > 256:
        raise Invalid("Password must be at most 256 characters long.", code="weak_password")
    if password.lower() == email.lower() or password.lower() in email.lower():
        raise Invalid("Password must not contain your email address.", code="weak_password")
    if len(set(password)) < 4:
        raise Invalid("Password is too repetitive.", code="weak_password")
