"""Password hashing with argon2id and the password policy."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mocki.core.errors import Invalid

_hasher = PasswordHasher()
# A fixed hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY = _hasher.hash("not-a-real-password-0")

MIN_LENGTH = 10
MAX_LENGTH = 256

# Written here, not downloaded: the passwords and base words that top every leaked-password
# ranking. A password is refused when it is one of them, or one of the words with only digits and
# symbols around it ("Password123!", "qwerty2024"), since guessing tools try exactly those first.
COMMON_PASSWORDS = frozenset(
    [
        "123456",
        "1234567",
        "12345678",
        "111111",
        "123123",
        "123123123",
        "654321",
        "666666",
        "121212",
        "abc123",
        "password",
        "qwerty",
        "iloveyou",
        "123456789",
        "1234567890",
        "12345678910",
        "0123456789",
        "0987654321",
        "9876543210",
        "1111111111",
        "0000000000",
        "1234512345",
        "1122334455",
        "1234567890a",
        "qwertyuiop",
        "qwertyuiop123",
        "qwerty1234",
        "qwerty12345",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "asdfghjkl",
        "asdfghjkl1",
        "zxcvbnm123",
        "abcdefghij",
        "abcdefg123",
        "abc1234567",
        "password1234",
        "passw0rd123",
        "p@ssw0rd123",
        "iloveyou123",
        "letmein123",
        "welcome123",
        "trustno1234",
        "administrator",
        "changeme123",
        "princess123",
        "football123",
        "baseball123",
        "sunshine123",
        "superman123",
        "starwars123",
        "whatever123",
        "computer123",
        "internet123",
        "michael123",
        "jennifer123",
        "123qweasdzxc",
        "qazwsxedc123",
    ]
)
COMMON_WORDS = frozenset(
    [
        "password",
        "passw0rd",
        "p@ssword",
        "p@ssw0rd",
        "qwerty",
        "qwertyuiop",
        "qwertz",
        "azerty",
        "asdfgh",
        "asdfghjkl",
        "zxcvbnm",
        "letmein",
        "welcome",
        "iloveyou",
        "trustno",
        "monkey",
        "dragon",
        "master",
        "shadow",
        "sunshine",
        "princess",
        "football",
        "baseball",
        "soccer",
        "hockey",
        "superman",
        "batman",
        "starwars",
        "whatever",
        "computer",
        "internet",
        "secret",
        "admin",
        "administrator",
        "changeme",
        "login",
        "hello",
        "freedom",
        "charlie",
        "michael",
        "jennifer",
        "jordan",
        "hunter",
        "killer",
        "mocki",
        "interview",
        "abc",
        "abcdef",
        "abcdefgh",
    ]
)
_AROUND = re.compile(r"^[\d\W_]*(?P<core>.*?)[\d\W_]*$")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    try:
        return _hasher.verify(hashed or _DUMMY, password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def _is_common(password: str) -> bool:
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        return True
    match = _AROUND.match(lowered)
    core = match.group("core") if match else lowered
    return core in COMMON_WORDS or (not core and len(set(lowered)) < 6)


def policy_problems(password: str, email: str) -> list[str]:
    """Every reason the password is refused, in words a person understands (empty: acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    lowered, address = password.lower(), email.strip().lower()
    local = address.split("@", 1)[0]
    if address and (lowered == address or address in lowered or (len(local) >= 4 and lowered == local)):
        problems.append("Do not use your email address.")
    if _is_common(password):
        problems.append("This is one of the most common passwords; choose one that is harder to guess.")
    if len(set(password)) < 4:
        problems.append("Use more different characters.")
    return problems


def check_policy(password: str, email: str) -> None:
    problems = policy_problems(password, email)
    if problems:
        raise Invalid("Password is too weak: " + " ".join(problems), code="weak_password", details=problems)
