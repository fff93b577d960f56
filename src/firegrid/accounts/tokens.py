"""Access tokens (JWT HS256), opaque secrets and their hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from firegrid.core.clock import utcnow
from firegrid.core.errors import Unauthenticated
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode

ISSUER = "firegrid"
AUDIENCE = "firegrid-api"
ALGORITHM = "HS256"


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same_hash(value: str, expected_hash: str | None) -> bool:
    """Constant-time check that ``sha256(value) == expected_hash``."""
    if expected_hash is None:
        return False
    return hmac.compare_digest(sha256_hex(value), expected_hash)


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_session_id() -> str:
    return secrets.token_hex(16)


def signing_key(settings: Settings) -> bytes:
    """The JWT key, derived from ``secret_key`` so the raw secret is used for nothing else."""
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, b"firegrid/access-token/v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class AccessClaims:
    subject: str
    session_id: str
    expires_at: datetime


def issue_access_token(
    settings: Settings,
    *,
    subject: str,
    session_id: str,
    role: str,
    now: datetime | None = None,
    ttl_s: int | None = None,
) -> tuple[str, datetime]:
    """A signed access token for ``subject`` bound to ``session_id``, and its expiry."""
    issued = now or utcnow()
    expires = issued + timedelta(seconds=settings.access_token_ttl_s if ttl_s is None else ttl_s)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "sid": session_id,
        "role": role,  # informative only: the role is re-read from the database per request
        "typ": "access",
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM), expires


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """Verify signature, issuer, audience, type and expiry; raise 401 otherwise."""
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated(
            "the access token has expired",
            {"reason": "expired"},
            text=TextCode.AUTH_TOKEN_EXPIRED,
            params={},
        ) from None
    except jwt.PyJWTError:
        raise Unauthenticated(
            "the access token is not valid",
            {"reason": "invalid"},
            text=TextCode.AUTH_TOKEN_INVALID,
            params={},
        ) from None
    if claims.get("typ") != "access" or not isinstance(claims.get("sid"), str):
        raise Unauthenticated(
            "the access token is not valid",
            {"reason": "invalid"},
            text=TextCode.AUTH_TOKEN_INVALID,
            params={},
        )
    return AccessClaims(
        subject=str(claims["sub"]),
        session_id=claims["sid"],
        expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=utcnow().tzinfo),
    )
