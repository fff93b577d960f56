"""Rules for users and API keys: who may manage whom, within which jurisdiction.

Every function takes the acting :class:`Principal`. An administrator manages only users and
keys whose scope lies inside its own; anything else is reported as not found.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from firegrid.accounts.audit import jsonable, record_change
from firegrid.accounts.models import ApiKey, AuthSession, User, UserVenue
from firegrid.accounts.passwords import (
    check_password_policy,
    generate_password,
    hash_password,
    verify_password,
)
from firegrid.accounts.principal import Principal
from firegrid.accounts.roles import Role
from firegrid.accounts.tokens import new_secret, same_hash, sha256_hex
from firegrid.core.clock import utcnow
from firegrid.core.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.places.public import Jurisdiction, Venue

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
API_KEY_PREFIX = "fgk_"
ROUTE_PREFIX = re.compile(r"^/api/v1(/[A-Za-z0-9._~{}-]+)*$")
API_KEY_ROLES = frozenset(role.value for role in Role) - {Role.ADMIN.value}


# Jurisdictions ---------------------------------------------------------------------------


def jurisdiction_by_code(session: Session, code: str) -> Jurisdiction:
    row = session.scalars(
        select(Jurisdiction).where(Jurisdiction.code == code, Jurisdiction.deleted_at.is_(None))
    ).first()
    if row is None:
        raise ValidationFailed(
            f"no jurisdiction with code {code!r}",
            {"scope_code": code},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "jurisdiction", "id": code},
        )
    return row


def _scope_for(session: Session, actor: Principal, code: str) -> Jurisdiction:
    """The jurisdiction ``code``, which must lie inside the actor's own scope."""
    jurisdiction = jurisdiction_by_code(session, code)
    if not actor.can_see_path(jurisdiction.path):
        raise Forbidden(
            f"jurisdiction {code!r} lies outside your scope",
            {"scope_code": code, "your_scope": actor.scope_code},
            text=TextCode.ACCESS_OUTSIDE_SCOPE,
            params={"kind": "jurisdiction", "id": code},
        )
    return jurisdiction


def _check_role(role: str) -> str:
    try:
        return Role(role).value
    except ValueError:
        raise ValidationFailed(
            f"unknown role {role!r}",
            {"role": role, "roles": [r.value for r in Role]},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "role", "value": role, "allowed": [r.value for r in Role]},
        ) from None


# Users -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserView:
    """A user as the API shows it (never the password hash)."""

    user: User
    jurisdiction: Jurisdiction
    venue_ids: list[int]

    def as_dict(self) -> dict[str, Any]:
        user = self.user
        return {
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "scope_code": self.jurisdiction.code,
            "scope_path": self.jurisdiction.path,
            "scope_level": self.jurisdiction.level,
            "venue_ids": self.venue_ids,
            "disabled": user.disabled,
            "created_at": user.created_at,
            "updated_at": user.updated_at,
            "password_changed_at": user.password_changed_at,
            "last_login_at": user.last_login_at,
        }


def venue_ids_of(session: Session, user_id: int) -> list[int]:
    return sorted(
        session.scalars(select(UserVenue.venue_id).where(UserVenue.user_id == user_id)).all()
    )


def view_user(session: Session, user: User) -> UserView:
    jurisdiction = session.get(Jurisdiction, user.jurisdiction_id)
    assert jurisdiction is not None  # foreign key
    return UserView(user, jurisdiction, venue_ids_of(session, user.id))


def _user_snapshot(session: Session, user: User) -> dict[str, Any]:
    data = view_user(session, user).as_dict()
    return {key: jsonable(value) for key, value in data.items()}


def scoped_users(actor: Principal) -> Select[User]:
    """Users whose scope lies inside the actor's scope."""
    return (
        select(User)
        .join(Jurisdiction, Jurisdiction.id == User.jurisdiction_id)
        .where(User.deleted_at.is_(None), actor.scope_filter(Jurisdiction.path))
    )


def get_user(session: Session, actor: Principal, user_id: int) -> User:
    user = session.scalars(scoped_users(actor).where(User.id == user_id)).first()
    if user is None:
        raise NotFound(
            f"user {user_id} not found",
            {"id": user_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "user", "id": user_id},
        )
    return user


def list_users(
    session: Session,
    actor: Principal,
    *,
    role: str | None = None,
    disabled: bool | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[User]:
    query = scoped_users(actor)
    if role is not None:
        query = query.where(User.role == role)
    if disabled is not None:
        query = query.where(User.disabled.is_(disabled))
    if after_id is not None:
        query = query.where(User.id > after_id)
    return list(session.scalars(query.order_by(User.id).limit(limit)).all())


def _set_venues(
    session: Session, actor: Principal, user: User, scope: Jurisdiction, venue_ids: Iterable[int]
) -> None:
    wanted = sorted(set(venue_ids))
    if wanted:
        venues = session.scalars(
            select(Venue).where(Venue.id.in_(wanted), Venue.deleted_at.is_(None))
        ).all()
        found = {venue.id: venue for venue in venues}
        bad = [
            venue_id
            for venue_id in wanted
            if venue_id not in found
            or not actor.can_see_path(found[venue_id].jurisdiction_path)
            or not found[venue_id].jurisdiction_path.startswith(scope.path)
        ]
        if bad:
            raise ValidationFailed(
                "venues must exist and lie inside both your scope and the user's scope",
                {"venue_ids": bad},
                text=TextCode.ACCOUNT_VENUES_OUT_OF_SCOPE,
                params={"venue_ids": bad},
            )
    for link in session.scalars(select(UserVenue).where(UserVenue.user_id == user.id)).all():
        session.delete(link)
    session.flush()
    for venue_id in wanted:
        session.add(UserVenue(user_id=user.id, venue_id=venue_id))
    session.flush()


def create_user(
    session: Session,
    actor: Principal,
    *,
    username: str,
    role: str,
    scope_code: str,
    password: str | None = None,
    display_name: str = "",
    venue_ids: Sequence[int] = (),
) -> tuple[User, str | None]:
    """Create a user; returns it and the generated password when none was given."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise ValidationFailed(
            "the username must be 3-64 characters: lower-case letters, digits, '.', '_', '-'",
            {"field": "username"},
            text=TextCode.ACCOUNT_USERNAME_FORMAT,
            params={},
        )
    role = _check_role(role)
    scope = _scope_for(session, actor, scope_code)
    if venue_ids and role != Role.VENUE_MANAGER:
        raise ValidationFailed(
            "only a venue_manager is linked to venues",
            {"role": role},
            text=TextCode.ACCOUNT_VENUES_FOR_MANAGER,
            params={"role": role},
        )
    generated = None
    if password is None:
        password = generated = generate_password(username)
    check_password_policy(password, username)
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise Conflict(
            f"username {username!r} is taken",
            {"username": username},
            text=TextCode.USERNAME_TAKEN,
            params={"username": username},
        )
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        jurisdiction_id=scope.id,
    )
    session.add(user)
    session.flush()
    _set_venues(session, actor, user, scope, venue_ids)
    record_change(
        session, actor, "user.create", "user", user.id, None, _user_snapshot(session, user)
    )
    return user, generated


def revoke_user_sessions(session: Session, user_id: int, reason: str) -> int:
    """Revoke every live session of a user (access tokens die with them)."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def update_user(
    session: Session,
    actor: Principal,
    user_id: int,
    *,
    role: str | None = None,
    scope_code: str | None = None,
    disabled: bool | None = None,
    display_name: str | None = None,
    venue_ids: Sequence[int] | None = None,
) -> User:
    """Change role, scope, display name, venues or the disabled flag of a user."""
    user = get_user(session, actor, user_id)
    if user.id == actor.user_id and (
        disabled or (role is not None and role != user.role) or scope_code is not None
    ):
        raise Forbidden(
            "you cannot disable yourself or change your own role or scope",
            text=TextCode.ACCESS_OWN_ACCOUNT,
            params={},
        )
    before = _user_snapshot(session, user)
    if role is not None:
        user.role = _check_role(role)
    scope = session.get(Jurisdiction, user.jurisdiction_id)
    if scope_code is not None:
        scope = _scope_for(session, actor, scope_code)
        user.jurisdiction_id = scope.id
    assert scope is not None
    if display_name is not None:
        user.display_name = display_name
    if venue_ids is not None:
        if venue_ids and user.role != Role.VENUE_MANAGER:
            raise ValidationFailed(
                "only a venue_manager is linked to venues",
                {"role": user.role},
                text=TextCode.ACCOUNT_VENUES_FOR_MANAGER,
                params={"role": user.role},
            )
        _set_venues(session, actor, user, scope, venue_ids)
    elif role is not None and user.role != Role.VENUE_MANAGER:
        _set_venues(session, actor, user, scope, ())
    if disabled is not None:
        user.disabled = disabled
        if disabled:
            revoke_user_sessions(session, user.id, "disabled")
    user.updated_at = utcnow()
    session.flush()
    record_change(
        session, actor, "user.update", "user", user.id, before, _user_snapshot(session, user)
    )
    return user


def reset_password(
    session: Session, actor: Principal, user_id: int, password: str | None = None
) -> tuple[User, str | None]:
    """Set a new password (generated if not given), sign the user out everywhere, unlock."""
    from firegrid.accounts.sessions import clear_throttle

    user = get_user(session, actor, user_id)
    generated = None
    if password is None:
        password = generated = generate_password(user.username)
    check_password_policy(password, user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    revoke_user_sessions(session, user.id, "password_reset")
    clear_throttle(session, user.username)
    session.flush()
    record_change(
        session, actor, "user.reset_password", "user", user.id, None, None, by=actor.username
    )
    return user, generated


def change_own_password(
    session: Session, principal: Principal, current_password: str, new_password: str
) -> User:
    """A user changes their own password; other sessions are signed out."""
    user_id = principal.user_id
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise Forbidden(
            "only a signed-in user has a password to change",
            text=TextCode.ACCESS_SESSION_ONLY,
            params={},
        )
    if not verify_password(user.password_hash, current_password):
        raise Unauthenticated(
            "the current password is wrong",
            {"field": "current_password"},
            text=TextCode.AUTH_WRONG_PASSWORD,
            params={},
        )
    check_password_policy(new_password, user.username)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    session.execute(
        update(AuthSession)
        .where(
            AuthSession.user_id == user.id,
            AuthSession.revoked_at.is_(None),
            AuthSession.id != (principal.session_id or ""),
        )
        .values(revoked_at=utcnow(), revoked_reason="password_changed")
    )
    session.flush()
    record_change(session, principal, "user.change_password", "user", user.id, None, None)
    return user


# API keys --------------------------------------------------------------------------------


def normalise_route_prefix(prefix: str) -> str:
    """``devices`` → ``/api/v1/devices``; reject anything that is not a plain API path."""
    value = prefix.strip()
    if not value.startswith("/"):
        value = "/api/v1/" + value
    value = value.rstrip("/") or "/"
    segments = value.split("/")
    if not ROUTE_PREFIX.match(value) or any(part in {".", ".."} for part in segments):
        raise ValidationFailed(
            f"route prefix {prefix!r} must be an API path such as /api/v1/devices",
            {"route": prefix},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": "routes", "value": prefix, "expected": "/api/v1/..."},
        )
    return value


def route_allowed(path: str, prefixes: Iterable[str]) -> bool:
    """Whether ``path`` lies under one of ``prefixes`` (whole path segments only)."""
    if "//" in path or any(part in {".", ".."} for part in path.split("/")):
        return False
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str  # the full ``fgk_<id>_<secret>``, shown once


def api_key_dict(session: Session, key: ApiKey) -> dict[str, Any]:
    jurisdiction = session.get(Jurisdiction, key.jurisdiction_id)
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "scope_code": jurisdiction.code if jurisdiction else "",
        "routes": list(key.routes),
        "created_by": key.created_by,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


def create_api_key(
    session: Session,
    actor: Principal,
    *,
    name: str,
    role: str,
    scope_code: str,
    routes: Sequence[str],
    expires_in_days: int | None = None,
) -> NewApiKey:
    """Create a key limited to ``routes`` and ``scope_code``; the secret is returned once."""
    role = _check_role(role)
    if role not in API_KEY_ROLES:
        raise ValidationFailed(
            f"an API key cannot have the role {role!r}",
            {"roles": sorted(API_KEY_ROLES)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "role", "value": role, "allowed": sorted(API_KEY_ROLES)},
        )
    if not name.strip():
        raise ValidationFailed(
            "an API key needs a name",
            {"field": "name"},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "name"},
        )
    if not routes:
        raise ValidationFailed(
            "an API key needs at least one route prefix",
            {"field": "routes"},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "routes"},
        )
    prefixes = sorted({normalise_route_prefix(route) for route in routes})
    scope = _scope_for(session, actor, scope_code)
    key_id = secrets.token_hex(6)
    secret = new_secret(32)
    expires_at: datetime | None = None
    if expires_in_days is not None:
        if expires_in_days < 1:
            raise ValidationFailed(
                "expires_in_days must be at least 1",
                {"field": "expires_in_days"},
                text=TextCode.VALIDATION_RANGE,
                params={"field": "expires_in_days", "min": 1, "max": None},
            )
        expires_at = utcnow() + timedelta(days=expires_in_days)
    key = ApiKey(
        id=key_id,
        name=name.strip(),
        secret_hash=sha256_hex(secret),
        role=role,
        jurisdiction_id=scope.id,
        routes=prefixes,
        created_by=actor.subject,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    record_change(
        session,
        actor,
        "apikey.create",
        "apikey",
        key.id,
        None,
        jsonable(api_key_dict(session, key)),
    )
    return NewApiKey(key, f"{API_KEY_PREFIX}{key_id}_{secret}")


def scoped_api_keys(actor: Principal) -> Select[ApiKey]:
    return (
        select(ApiKey)
        .join(Jurisdiction, Jurisdiction.id == ApiKey.jurisdiction_id)
        .where(actor.scope_filter(Jurisdiction.path))
    )


def list_api_keys(
    session: Session, actor: Principal, *, include_revoked: bool = False
) -> list[ApiKey]:
    query = scoped_api_keys(actor)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query.order_by(ApiKey.created_at, ApiKey.id)).all())


def revoke_api_key(session: Session, actor: Principal, key_id: str) -> ApiKey:
    key = session.scalars(scoped_api_keys(actor).where(ApiKey.id == key_id)).first()
    if key is None:
        raise NotFound(
            f"API key {key_id!r} not found",
            {"id": key_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "api_key", "id": key_id},
        )
    if key.revoked_at is None:
        before = jsonable(api_key_dict(session, key))
        key.revoked_at = utcnow()
        session.flush()
        record_change(
            session,
            actor,
            "apikey.revoke",
            "apikey",
            key.id,
            before,
            jsonable(api_key_dict(session, key)),
        )
    return key


def parse_api_key(presented: str) -> tuple[str, str]:
    """Split ``fgk_<id>_<secret>``; 401 when the shape is wrong."""
    if not presented.startswith(API_KEY_PREFIX):
        raise Unauthenticated(
            "the API key is not valid",
            {"reason": "invalid"},
            text=TextCode.AUTH_API_KEY_INVALID,
            params={},
        )
    key_id, sep, secret = presented[len(API_KEY_PREFIX) :].partition("_")
    if not sep or not key_id or not secret or len(key_id) > 16:
        raise Unauthenticated(
            "the API key is not valid",
            {"reason": "invalid"},
            text=TextCode.AUTH_API_KEY_INVALID,
            params={},
        )
    return key_id, secret


def verify_api_key(session: Session, presented: str) -> ApiKey:
    """The live key matching ``presented`` (constant-time secret check) or 401."""
    key_id, secret = parse_api_key(presented)
    key = session.get(ApiKey, key_id)
    if key is None or not same_hash(secret, key.secret_hash):
        raise Unauthenticated(
            "the API key is not valid",
            {"reason": "invalid"},
            text=TextCode.AUTH_API_KEY_INVALID,
            params={},
        )
    now = utcnow()
    if key.revoked_at is not None:
        raise Unauthenticated(
            "the API key has been revoked",
            {"reason": "revoked"},
            text=TextCode.AUTH_API_KEY_REVOKED,
            params={},
        )
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthenticated(
            "the API key has expired",
            {"reason": "expired"},
            text=TextCode.AUTH_API_KEY_EXPIRED,
            params={},
        )
    if key.last_used_at is None or now - key.last_used_at > timedelta(seconds=60):
        key.last_used_at = now  # throttled: at most one write a minute per key
    return key
