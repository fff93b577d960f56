"""HTTP routes of the accounts context: sign-in, users, API keys, audit log."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from firegrid.accounts import service, sessions
from firegrid.accounts.audit import (
    EXPORT_COLUMNS,
    audit_query,
    entry_dict,
    iter_entries,
    note,
    note_principal,
    record_event,
)
from firegrid.accounts.auth import CSRF_COOKIE, SESSION_COOKIE
from firegrid.accounts.models import User
from firegrid.accounts.principal import Principal
from firegrid.accounts.schemas import (
    ApiKeyCreatedOut,
    ApiKeyCreateIn,
    ApiKeyList,
    ApiKeyOut,
    AuditEntryOut,
    AuditPage,
    CookieLoginOut,
    LoginIn,
    MeOut,
    PasswordChangeIn,
    PasswordResetIn,
    RefreshIn,
    TokenOut,
    UserCreateIn,
    UserOut,
    UserPage,
    UserPatchIn,
    UserWithPasswordOut,
)
from firegrid.api.deps import SessionDep, SettingsDep, get_principal, require
from firegrid.api.pagination import decode_cursor, encode_cursor
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import Forbidden, ValidationFailed
from firegrid.core.settings import Settings
from firegrid.core.text import SafeLine, neutralise_formula
from firegrid.core.texts import TextCode

router = APIRouter()

Caller = Annotated[Principal, Depends(get_principal)]
UserId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Id of the user.")]
Admin = Annotated[Principal, Depends(require("accounts:admin"))]
Auditor = Annotated[Principal, Depends(require("audit:read"))]


def _cursor(cursor: str | None, maximum: int) -> int | None:
    """Decode a cursor and refuse ids the database column cannot hold (no 500s)."""
    value = decode_cursor(cursor)
    if value is not None and not 0 <= value <= maximum:
        raise ValidationFailed(
            f"cursor {cursor!r} is not valid",
            {"cursor": cursor},
            text=TextCode.VALIDATION_BAD_CURSOR,
            params={"field": "cursor"},
        )
    return value


def client_info(request: Request) -> sessions.ClientInfo:
    client = request.client
    return sessions.ClientInfo(
        ip=client.host if client else "", user_agent=request.headers.get("user-agent", "")[:300]
    )


def _user_out(session: SessionDep, user: User) -> UserOut:
    return UserOut.model_validate(service.view_user(session, user).as_dict())


def _secure_cookies(request: Request, settings: Settings) -> bool:
    return settings.is_production or request.url.scheme == "https"


# Sign-in ---------------------------------------------------------------------------------


@router.post(
    "/auth/login",
    tags=["auth"],
    summary="Sign in (public): bearer tokens, or an HttpOnly console session cookie",
    response_model=TokenOut | CookieLoginOut,
)
def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> TokenOut | CookieLoginOut:
    client = client_info(request)
    user = sessions.login(session, body.username, body.password, client)
    user_out = _user_out(session, user)
    now = utcnow()
    if body.mode == "cookie":
        cookie = sessions.start_cookie_session(session, settings, user, client, now=now)
        note_principal(
            sessions.principal_for_user(
                session, user, session_id=cookie.session_id, auth_method="cookie"
            )
        )
        note(resource_type="session", resource_id=cookie.session_id, mode="cookie")
        max_age = int((cookie.expires_at - now).total_seconds())
        secure = _secure_cookies(request, settings)
        response.set_cookie(
            SESSION_COOKIE,
            cookie.cookie_value,
            max_age=max_age,
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/",
        )
        response.set_cookie(
            CSRF_COOKIE,
            cookie.csrf_token,
            max_age=max_age,
            httponly=False,
            samesite="strict",
            secure=secure,
            path="/",
        )
        return CookieLoginOut(
            csrf_token=cookie.csrf_token, expires_at=cookie.expires_at, user=user_out
        )
    pair = sessions.start_token_session(session, settings, user, client, now=now)
    note_principal(sessions.principal_for_user(session, user, session_id=pair.session_id))
    note(resource_type="session", resource_id=pair.session_id, mode="token")
    response.headers["Cache-Control"] = "no-store"
    return TokenOut(**pair.as_dict(now), user=user_out)


@router.post(
    "/auth/refresh",
    tags=["auth"],
    summary="Exchange a refresh token for new tokens (public; rotates, detects reuse)",
)
def refresh(
    body: RefreshIn, response: Response, session: SessionDep, settings: SettingsDep
) -> TokenOut:
    now = utcnow()
    pair, user = sessions.refresh_tokens(session, settings, body.refresh_token, now=now)
    response.headers["Cache-Control"] = "no-store"
    return TokenOut(**pair.as_dict(now), user=_user_out(session, user))


@router.post(
    "/auth/logout", tags=["auth"], status_code=204, summary="Sign out: revoke this session now"
)
def logout(
    principal: Caller, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    if principal.session_id is None:
        raise Forbidden(
            "only a signed-in session can sign out; revoke API keys instead",
            text=TextCode.ACCESS_SESSION_ONLY,
            params={},
        )
    sessions.revoke_session(session, principal.session_id, "logout")
    response = Response(status_code=204)
    if principal.auth_method == "cookie":
        secure = _secure_cookies(request, settings)
        for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
            response.delete_cookie(
                name, path="/", httponly=http_only, samesite="strict", secure=secure
            )
    return response


@router.get("/auth/me", tags=["auth"], summary="Who am I: role, permissions, scope")
def me(principal: Caller, session: SessionDep) -> MeOut:
    user_out = None
    if principal.user_id is not None:
        user = session.get(User, principal.user_id)
        if user is not None:
            user_out = _user_out(session, user)
    return MeOut(
        subject=principal.subject,
        username=principal.username,
        role=principal.role,
        scope_code=principal.scope_code,
        scope_path=principal.scope_path,
        permissions=sorted(principal.permissions),
        venue_ids=sorted(principal.venue_ids),
        auth_method=principal.auth_method,
        allowed_routes=sorted(principal.allowed_routes)
        if principal.allowed_routes is not None
        else None,
        user=user_out,
    )


@router.post(
    "/auth/password",
    tags=["auth"],
    status_code=204,
    summary="Change your own password (signs out your other sessions)",
)
def change_password(principal: Caller, body: PasswordChangeIn, session: SessionDep) -> Response:
    service.change_own_password(session, principal, body.current_password, body.new_password)
    return Response(status_code=204)


# Users -----------------------------------------------------------------------------------


@router.get("/users", tags=["users"], summary="List users in your jurisdiction")
def list_users(
    principal: Admin,
    session: SessionDep,
    role: Annotated[SafeLine | None, Query(max_length=32)] = None,
    disabled: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[SafeLine | None, Query(max_length=200)] = None,
) -> UserPage:
    users = service.list_users(
        session,
        principal,
        role=role,
        disabled=disabled,
        after_id=_cursor(cursor, 2_147_483_647),
        limit=limit + 1,
    )
    next_cursor = encode_cursor(users[limit - 1].id) if len(users) > limit else None
    items = [_user_out(session, user) for user in users[:limit]]
    return UserPage(items=items, next_cursor=next_cursor, count=len(items))


@router.post(
    "/users", tags=["users"], status_code=201, summary="Create a user in your jurisdiction"
)
def create_user(principal: Admin, body: UserCreateIn, session: SessionDep) -> UserWithPasswordOut:
    user, generated = service.create_user(
        session,
        principal,
        username=body.username,
        role=body.role,
        scope_code=body.scope_code,
        password=body.password,
        display_name=body.display_name,
        venue_ids=body.venue_ids,
    )
    return UserWithPasswordOut(user=_user_out(session, user), password=generated)


@router.get("/users/{user_id}", tags=["users"], summary="Get one user")
def get_user(principal: Admin, user_id: UserId, session: SessionDep) -> UserOut:
    return _user_out(session, service.get_user(session, principal, user_id))


@router.patch(
    "/users/{user_id}", tags=["users"], summary="Change role, scope, venues, name or disable"
)
def patch_user(
    principal: Admin, user_id: UserId, body: UserPatchIn, session: SessionDep
) -> UserOut:
    user = service.update_user(
        session,
        principal,
        user_id,
        role=body.role,
        scope_code=body.scope_code,
        disabled=body.disabled,
        display_name=body.display_name,
        venue_ids=body.venue_ids,
    )
    return _user_out(session, user)


@router.post(
    "/users/{user_id}/reset-password",
    tags=["users"],
    summary="Set a new password (generated if omitted); signs the user out and unlocks",
)
def reset_password(
    principal: Admin, user_id: UserId, body: PasswordResetIn, session: SessionDep
) -> UserWithPasswordOut:
    user, generated = service.reset_password(session, principal, user_id, body.password)
    return UserWithPasswordOut(user=_user_out(session, user), password=generated)


# API keys --------------------------------------------------------------------------------


def _key_out(session: SessionDep, key: Any) -> ApiKeyOut:
    return ApiKeyOut.model_validate(service.api_key_dict(session, key))


@router.get("/apikeys", tags=["apikeys"], summary="List API keys in your jurisdiction")
def list_api_keys(
    principal: Admin, session: SessionDep, include_revoked: bool = False
) -> ApiKeyList:
    keys = service.list_api_keys(session, principal, include_revoked=include_revoked)
    return ApiKeyList(items=[_key_out(session, key) for key in keys], count=len(keys))


@router.post(
    "/apikeys", tags=["apikeys"], status_code=201, summary="Create an API key (secret shown once)"
)
def create_api_key(
    principal: Admin, body: ApiKeyCreateIn, session: SessionDep, response: Response
) -> ApiKeyCreatedOut:
    created = service.create_api_key(
        session,
        principal,
        name=body.name,
        role=body.role,
        scope_code=body.scope_code,
        routes=body.routes,
        expires_in_days=body.expires_in_days,
    )
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyCreatedOut(api_key=_key_out(session, created.key), key=created.secret)


@router.post("/apikeys/{key_id}/revoke", tags=["apikeys"], summary="Revoke an API key now")
def revoke_api_key(
    principal: Admin,
    key_id: Annotated[str, Path(max_length=16)],
    session: SessionDep,
) -> ApiKeyOut:
    return _key_out(session, service.revoke_api_key(session, principal, key_id))


# Audit log -------------------------------------------------------------------------------


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(
            f"{name} needs a timezone (e.g. 2026-01-01T00:00:00Z)",
            {name: str(value)},
            text=TextCode.VALIDATION_TIMEZONE_NAIVE,
            params={"field": name},
        )
    return value


@router.get("/audit", tags=["audit"], summary="Read the audit log (newest first)")
def list_audit(
    principal: Auditor,
    session: SessionDep,
    actor: Annotated[
        SafeLine | None, Query(max_length=120, description="Subject or username")
    ] = None,
    action: Annotated[SafeLine | None, Query(max_length=80)] = None,
    kind: Annotated[Literal["request", "change", "auth", "access"] | None, Query()] = None,
    resource_type: Annotated[SafeLine | None, Query(max_length=60)] = None,
    resource_id: Annotated[
        SafeLine | None, Query(max_length=80, description="The object's id (with resource_type)")
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[SafeLine | None, Query(max_length=200)] = None,
) -> AuditPage:
    from firegrid.accounts.models import AuditEntry

    query = audit_query(
        principal,
        actor=actor,
        action=action,
        kind=kind,
        resource_type=resource_type,
        resource_id=resource_id,
        since=_aware("since", since),
        until=_aware("until", until),
    )
    before_id = _cursor(cursor, 2**63 - 1)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = list(session.scalars(query.limit(limit + 1)).all())
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    items = [AuditEntryOut.model_validate(entry_dict(row)) for row in rows[:limit]]
    return AuditPage(items=items, next_cursor=next_cursor, count=len(items))


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return neutralise_formula(value)  # no formula runs when opened in a spreadsheet
    return value


@router.get(
    "/audit/export",
    tags=["audit"],
    summary="Export the audit log as CSV or JSON Lines",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
def export_audit(
    principal: Auditor,
    request: Request,
    session: SessionDep,
    format: Annotated[Literal["csv", "jsonl"], Query()] = "jsonl",
    actor: Annotated[SafeLine | None, Query(max_length=120)] = None,
    action: Annotated[SafeLine | None, Query(max_length=80)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 100_000,
) -> StreamingResponse:
    query = audit_query(
        principal,
        actor=actor,
        action=action,
        since=_aware("since", since),
        until=_aware("until", until),
    )
    record_event(
        session,
        principal,
        "audit.export",
        kind="access",
        filters={
            "format": format,
            "actor": actor,
            "action": action,
            "since": since,
            "until": until,
        },
    )
    database: Database = request.app.state.db

    def rows() -> Iterator[str]:
        with database.session() as export_session:
            if format == "jsonl":
                for item in iter_entries(export_session, query, limit):
                    yield json.dumps(item, ensure_ascii=False) + "\n"
                return
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(EXPORT_COLUMNS)
            for item in iter_entries(export_session, query, limit):
                writer.writerow([_csv_cell(item[name]) for name in EXPORT_COLUMNS])
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        rows(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{format}"'},
    )
