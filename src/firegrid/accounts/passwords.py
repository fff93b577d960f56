"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import contextlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode

MIN_LENGTH = 10
MAX_LENGTH = 128  # bounds the work an attacker can make argon2 do per request

# argon2id with the library's RFC 9106 "low memory" defaults (t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()

# A hash of a random password: verified against when the user does not exist, so that an
# unknown username costs the same time as a wrong password (no user enumeration by timing).
_DUMMY_HASH: str | None = None

COMMON_PASSWORDS = frozenset(
    {
        "password123",
        "password1234",
        "qwerty12345",
        "1234567890a",
        "a1234567890",
        "abc1234567",
        "iloveyou123",
        "admin12345",
        "administrator1",
        "firegrid123",
        "firegrid2026",
        "changeme123",
        "welcome123",
        "p@ssw0rd123",
    }
)


def set_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Replace the hasher (tests use cheap parameters); return the previous one."""
    global _hasher, _DUMMY_HASH
    previous = _hasher
    _hasher = hasher
    _DUMMY_HASH = None
    return previous


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``password_hash`` (``None``: unknown user, still costs time)."""
    global _DUMMY_HASH
    if len(password) > MAX_LENGTH:
        return False
    if password_hash is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
        password_hash = _DUMMY_HASH
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(password_hash, password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problems(password: str, username: str = "") -> list[str]:
    """Every way ``password`` breaks the policy (empty when it is acceptable)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters long")
    if not re.search(r"[^\W\d_]", password):
        problems.append("must contain at least one letter")
    if not re.search(r"\d", password):
        problems.append("must contain at least one digit")
    lowered = password.lower()
    if username and username.lower() in lowered:
        problems.append("must not contain the username")
    if lowered in COMMON_PASSWORDS:
        problems.append("is a commonly used password")
    return problems


def check_password_policy(password: str, username: str = "") -> None:
    """Raise :class:`ValidationFailed` listing every rule ``password`` breaks."""
    problems = password_problems(password, username)
    if problems:
        raise ValidationFailed(
            "the password " + "; ".join(problems),
            {
                "field": "password",
                "problems": problems,
                "policy": f"at least {MIN_LENGTH} characters, letters and digits, not the username",
            },
            text=TextCode.ACCOUNT_PASSWORD_POLICY,
            params={"min_length": MIN_LENGTH},
        )


def generate_password(username: str = "") -> str:
    """A random password that satisfies the policy for ``username`` (shown once to an
    administrator): a random string can contain a short username."""
    while True:
        candidate = secrets.token_urlsafe(15)
        if not password_problems(candidate, username):
            return candidate
