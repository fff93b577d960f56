"""Sign-in, sessions, token refresh (rotation and reuse detection), sign-out, throttling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from firegrid.accounts.audit import note, note_principal, record_event
from firegrid.accounts.errors import LoginThrottled
from firegrid.accounts.models import AuthSession, LoginThrottle, RefreshToken, User
from firegrid.accounts.passwords import hash_password, needs_rehash, verify_password
from firegrid.accounts.principal import Principal
from firegrid.accounts.service import venue_ids_of
from firegrid.accounts.tokens import issue_access_token, new_secret, new_session_id, sha256_hex
from firegrid.core.clock import utcnow
from firegrid.core.errors import Unauthenticated
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.places.public import Jurisdiction

# Sign-in throttling: failures count per (source address, name) and per source address.
# Past the limit the *address* must wait, longer after each further failure; the account
# is never locked for everyone, so nobody can lock an operator out by guessing wrong.
MAX_FAILURES_PER_SOURCE_ACCOUNT = 5
MAX_FAILURES_PER_SOURCE = 50
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
FAILURE_WINDOW = timedelta(minutes=15)
BAD_CREDENTIALS = "wrong username or password"


@dataclass(frozen=True)
class ClientInfo:
    ip: str = ""
    user_agent: str = ""


# Lock-out --------------------------------------------------------------------------------


def _source(client: ClientInfo) -> str:
    return (client.ip or "unknown")[:45]


def _account_prefix(username: str) -> str:
    return f"user:{username[:64]}|"


def _throttle_keys(username: str, client: ClientInfo) -> list[tuple[str, int]]:
    source = _source(client)
    return [
        (f"{_account_prefix(username)}ip:{source}", MAX_FAILURES_PER_SOURCE_ACCOUNT),
        (f"ip:{source}", MAX_FAILURES_PER_SOURCE),
    ]


def _waiting_until(session: Session, key: str, now: datetime) -> datetime | None:
    row = session.get(LoginThrottle, key)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


def _throttle_row(session: Session, key: str) -> LoginThrottle:
    """The counter row of ``key``, created if missing and locked for this transaction.

    ``INSERT ... ON CONFLICT DO NOTHING`` and ``SELECT ... FOR UPDATE`` keep concurrent failed
    sign-ins for one name from colliding on the primary key or losing counts.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(key=key, failures=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def delay_after(failures: int, limit: int) -> timedelta:
    """How long an address waits after its ``failures``-th failure (limit reached)."""
    doublings = min(max(failures - limit, 0), 10)
    delay: timedelta = FIRST_DELAY * (1 << doublings)
    return min(MAX_DELAY, delay)


def _register_failure(session: Session, key: str, limit: int, now: datetime) -> bool:
    """Count one failure; from ``limit`` on, make the key wait. True if it now waits.

    The count starts again after a quiet ``FAILURE_WINDOW`` (no failure, no wait).
    """
    row = _throttle_row(session, key)
    quiet_since = row.locked_until or row.first_failure_at
    if quiet_since is None or now - quiet_since > FAILURE_WINDOW:
        row.failures = 0
        row.first_failure_at = now
        row.locked_until = None
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + delay_after(row.failures, limit)
        return True
    return False


def clear_throttle(session: Session, username: str, client: ClientInfo | None = None) -> None:
    """Forget the failures of ``username``: from ``client``'s address, or from every one."""
    prefix = _account_prefix(username)
    query = select(LoginThrottle).where(
        or_(
            LoginThrottle.key.startswith(prefix, autoescape=True),
            LoginThrottle.key == f"user:{username}",  # rows of the former per-name lock-out
        )
    )
    if client is not None:
        query = select(LoginThrottle).where(LoginThrottle.key == f"{prefix}ip:{_source(client)}")
    for row in session.scalars(query):
        row.failures = 0
        row.first_failure_at = None
        row.locked_until = None


# Principals ------------------------------------------------------------------------------


def principal_for_user(
    session: Session, user: User, *, session_id: str | None = None, auth_method: str = "bearer"
) -> Principal:
    jurisdiction = session.get(Jurisdiction, user.jurisdiction_id)
    if jurisdiction is None:
        raise Unauthenticated(
            "the account has no jurisdiction",
            {"reason": "no_scope"},
            text=TextCode.AUTH_NO_JURISDICTION,
            params={},
        )
    venues = venue_ids_of(session, user.id) if user.role == "venue_manager" else []
    return Principal(
        subject=f"user:{user.id}",
        username=user.username,
        role=user.role,
        scope_path=jurisdiction.path,
        scope_code=jurisdiction.code,
        venue_ids=frozenset(venues),
        session_id=session_id,
        auth_method=auth_method,
    )


# Sessions and tokens ---------------------------------------------------------------------


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    session_id: str

    def as_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "token_type": "bearer",
            "access_token": self.access_token,
            "expires_in": max(0, int((self.access_expires_at - now).total_seconds())),
            "expires_at": self.access_expires_at,
            "refresh_token": self.refresh_token,
            "refresh_expires_at": self.refresh_expires_at,
        }


@dataclass(frozen=True)
class CookieSession:
    session_id: str
    cookie_value: str  # "<sid>.<secret>" for the HttpOnly cookie
    csrf_token: str
    expires_at: datetime


def _new_refresh_token(session: Session, auth: AuthSession, now: datetime) -> tuple[str, datetime]:
    token = new_secret(32)
    session.add(
        RefreshToken(
            session_id=auth.id,
            token_hash=sha256_hex(token),
            created_at=now,
            expires_at=auth.expires_at,
        )
    )
    return token, auth.expires_at


def _open_session(
    session: Session,
    settings: Settings,
    user: User,
    client: ClientInfo,
    now: datetime,
    *,
    mode: str,
    **secrets_: str,
) -> AuthSession:
    """A new stored session of ``user`` (token or cookie mode), flushed so it has its id."""
    auth = AuthSession(
        id=new_session_id(),
        user_id=user.id,
        mode=mode,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.refresh_token_ttl_s),
        client_ip=client.ip[:64],
        user_agent=client.user_agent[:300],
        **secrets_,
    )
    session.add(auth)
    session.flush()
    return auth


def start_token_session(
    session: Session,
    settings: Settings,
    user: User,
    client: ClientInfo = ClientInfo(),  # immutable default
    *,
    now: datetime | None = None,
) -> TokenPair:
    """A new session for ``user`` with an access token and its first refresh token."""
    now = now or utcnow()
    auth = _open_session(session, settings, user, client, now, mode="token")
    refresh, refresh_expires = _new_refresh_token(session, auth, now)
    access, access_expires = issue_access_token(
        settings, subject=f"user:{user.id}", session_id=auth.id, role=user.role, now=now
    )
    return TokenPair(access, access_expires, refresh, refresh_expires, auth.id)


def start_cookie_session(
    session: Session,
    settings: Settings,
    user: User,
    client: ClientInfo = ClientInfo(),  # immutable default
    *,
    now: datetime | None = None,
) -> CookieSession:
    """A console session: an opaque HttpOnly cookie bound to a CSRF token."""
    now = now or utcnow()
    secret, csrf = new_secret(32), new_secret(24)
    auth = _open_session(
        session,
        settings,
        user,
        client,
        now,
        mode="cookie",
        secret_hash=sha256_hex(secret),
        csrf_hash=sha256_hex(csrf),
    )
    return CookieSession(auth.id, f"{auth.id}.{secret}", csrf, auth.expires_at)


def login(
    session: Session,
    username: str,
    password: str,
    client: ClientInfo = ClientInfo(),  # immutable default
    *,
    now: datetime | None = None,
) -> User:
    """Check a username and password, with throttling; return the user or raise.

    Failures are committed before raising so the counts survive the rollback of the
    request. An address past its limit (for this name, or overall) is told to wait
    (:class:`LoginThrottled`, 429 with ``Retry-After``) without the password being looked
    at; the same name from another address is not affected.
    """
    now = now or utcnow()
    name = username.strip().lower()
    note(action="auth.login", username=name)
    keys = _throttle_keys(name, client)
    for key, _limit in keys:
        until = _waiting_until(session, key, now)
        if until is not None:
            note(outcome="throttled", reason="throttled")
            raise LoginThrottled(
                "too many failed sign-ins from this address; wait and try again",
                int((until - now).total_seconds()) + 1,
                {"until": until.isoformat()},
            )
    user = session.scalars(
        select(User).where(User.username == name, User.deleted_at.is_(None))
    ).first()
    if not verify_password(user.password_hash if user else None, password):
        waiting = [_register_failure(session, key, limit, now) for key, limit in keys]
        session.commit()
        note(outcome="failure", reason="bad_credentials", throttled_now=any(waiting))
        raise Unauthenticated(
            BAD_CREDENTIALS,
            {"reason": "bad_credentials"},
            text=TextCode.AUTH_BAD_CREDENTIALS,
            params={},
        )
    assert user is not None
    if user.disabled:
        note(outcome="failure", reason="disabled")
        raise Unauthenticated(
            "this account is disabled",
            {"reason": "disabled"},
            text=TextCode.AUTH_ACCOUNT_DISABLED,
            params={},
        )
    clear_throttle(session, name, client)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    note(outcome="success")
    return user


def _live_session(
    session: Session, session_id: str, now: datetime
) -> tuple[AuthSession, User] | None:
    auth = session.get(AuthSession, session_id)
    if auth is None or auth.revoked_at is not None or auth.expires_at <= now:
        return None
    user = session.get(User, auth.user_id)
    if user is None or user.disabled or user.deleted_at is not None:
        return None
    return auth, user


def refresh_tokens(
    session: Session,
    settings: Settings,
    refresh_token: str,
    *,
    now: datetime | None = None,
) -> tuple[TokenPair, User]:
    """Rotate a refresh token. Presenting a used one revokes the whole session (theft)."""
    now = now or utcnow()
    note(action="auth.refresh")
    row = session.scalars(
        select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(refresh_token))
    ).first()
    if row is None:
        note(outcome="failure", reason="unknown")
        raise Unauthenticated(
            "the refresh token is not valid",
            {"reason": "invalid"},
            text=TextCode.AUTH_REFRESH_INVALID,
            params={},
        )
    claimed = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if not getattr(claimed, "rowcount", 0):
        auth = session.get(AuthSession, row.session_id)
        if auth is not None and auth.revoked_at is None:
            auth.revoked_at = now
            auth.revoked_reason = "refresh_reuse"
        user = session.get(User, auth.user_id) if auth is not None else None
        record_event(
            session,
            None,
            "auth.refresh_reuse",
            outcome="failure",
            username=user.username if user else "",
            resource_type="session",
            resource_id=row.session_id,
        )
        session.commit()
        note(outcome="failure", reason="reuse", resource_type="session", resource_id=row.session_id)
        raise Unauthenticated(
            "the refresh token was already used; the session is revoked",
            {"reason": "reused"},
            text=TextCode.AUTH_REFRESH_REUSED,
            params={},
        )
    live = _live_session(session, row.session_id, now)
    if live is None or row.expires_at <= now:
        note(outcome="failure", reason="expired_or_revoked")
        raise Unauthenticated(
            "the session has expired or was revoked",
            {"reason": "expired_or_revoked"},
            text=TextCode.AUTH_SESSION_ENDED,
            params={},
        )
    auth, user = live
    refresh, refresh_expires = _new_refresh_token(session, auth, now)
    access, access_expires = issue_access_token(
        settings, subject=f"user:{user.id}", session_id=auth.id, role=user.role, now=now
    )
    note_principal(principal_for_user(session, user, session_id=auth.id))
    note(outcome="success", resource_type="session", resource_id=auth.id)
    return TokenPair(access, access_expires, refresh, refresh_expires, auth.id), user


def revoke_session(session: Session, session_id: str, reason: str = "logout") -> None:
    auth = session.get(AuthSession, session_id)
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = utcnow()
        auth.revoked_reason = reason
    note(action="auth.logout", resource_type="session", resource_id=session_id)


def live_session(
    session: Session, session_id: str, *, now: datetime | None = None
) -> tuple[AuthSession, User] | None:
    """The session and its user if the session is live (not revoked, expired, disabled)."""
    return _live_session(session, session_id, now or utcnow())
