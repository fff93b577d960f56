"""Authenticate an HTTP request: bearer access token, API key, or console session cookie.

* ``Authorization: Bearer <jwt>``: signature, expiry, and a live session (so sign-out and
  disabling a user take effect immediately).
* ``Authorization: Bearer fgk_...`` or ``X-API-Key: fgk_...``: a live key; the request path
  must lie under one of the key's route prefixes.
* Cookie ``firegrid_session``: a live cookie session; a state-changing request must also
  carry ``X-CSRF-Token`` equal to the ``firegrid_csrf`` cookie and to the session's token.

Anything missing, malformed, expired or revoked is 401 with the JSON envelope.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from sqlalchemy.orm import Session

from firegrid.accounts.audit import MUTATING_METHODS, note_principal
from firegrid.accounts.principal import Principal
from firegrid.accounts.service import route_allowed, verify_api_key
from firegrid.accounts.sessions import live_session, principal_for_user
from firegrid.accounts.tokens import decode_access_token, same_hash
from firegrid.core.errors import Forbidden, Unauthenticated
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.places.public import Jurisdiction

SESSION_COOKIE = "firegrid_session"
CSRF_COOKIE = "firegrid_csrf"
CSRF_HEADER = "X-CSRF-Token"
API_KEY_HEADER = "X-API-Key"


def authenticate_request(request: Request, session: Session) -> Principal:
    """The caller of ``request``, or :class:`Unauthenticated` (401) / :class:`Forbidden`."""
    settings: Settings = request.app.state.settings
    authorization = request.headers.get("authorization")
    api_key = request.headers.get(API_KEY_HEADER)
    if authorization is not None:
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthenticated(
                "use 'Authorization: Bearer <token>'",
                {"reason": "bad_scheme"},
                text=TextCode.AUTH_BAD_SCHEME,
                params={},
            )
        if credential.startswith("fgk_"):
            principal = _from_api_key(request, session, credential)
        else:
            principal = _from_access_token(session, settings, credential)
    elif api_key is not None:
        principal = _from_api_key(request, session, api_key.strip())
    elif request.cookies.get(SESSION_COOKIE):
        principal = _from_cookie(request, session)
    else:
        raise Unauthenticated(
            "authentication required", {"reason": "missing"}, text=TextCode.AUTH_REQUIRED, params={}
        )
    note_principal(principal)
    return principal


def _from_access_token(session: Session, settings: Settings, token: str) -> Principal:
    claims = decode_access_token(settings, token)
    live = live_session(session, claims.session_id)
    if live is None or claims.subject != f"user:{live[1].id}":
        raise Unauthenticated(
            "the session has ended (signed out, revoked or expired)",
            {"reason": "revoked"},
            text=TextCode.AUTH_SESSION_ENDED,
            params={},
        )
    auth, user = live
    return principal_for_user(session, user, session_id=auth.id, auth_method="bearer")


def _from_cookie(request: Request, session: Session) -> Principal:
    value = request.cookies.get(SESSION_COOKIE, "")
    session_id, _, secret = value.partition(".")
    live = live_session(session, session_id) if session_id and secret else None
    if live is None or live[0].mode != "cookie" or not same_hash(secret, live[0].secret_hash):
        raise Unauthenticated(
            "the console session is not valid or has ended",
            {"reason": "invalid_session"},
            text=TextCode.AUTH_SESSION_INVALID,
            params={},
        )
    auth, user = live
    principal = principal_for_user(session, user, session_id=auth.id, auth_method="cookie")
    if request.method.upper() in MUTATING_METHODS:
        header = request.headers.get(CSRF_HEADER, "")
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if (
            not header
            or not hmac.compare_digest(header.encode(), cookie.encode())
            or not same_hash(header, auth.csrf_hash)
        ):
            note_principal(principal)
            raise Forbidden(
                f"a state-changing request with a session cookie needs the {CSRF_HEADER} "
                f"header equal to the {CSRF_COOKIE} cookie",
                {"reason": "csrf"},
                text=TextCode.ACCESS_CSRF,
                params={"header": CSRF_HEADER},
            )
    return principal


def _from_api_key(request: Request, session: Session, presented: str) -> Principal:
    key = verify_api_key(session, presented)
    jurisdiction = session.get(Jurisdiction, key.jurisdiction_id)
    if jurisdiction is None:
        raise Unauthenticated(
            "the API key has no jurisdiction",
            {"reason": "no_scope"},
            text=TextCode.AUTH_NO_JURISDICTION,
            params={},
        )
    principal = Principal(
        subject=f"apikey:{key.id}",
        username=key.name,
        role=key.role,
        scope_path=jurisdiction.path,
        scope_code=jurisdiction.code,
        allowed_routes=frozenset(key.routes),
        auth_method="apikey",
    )
    if not route_allowed(request.scope["path"], key.routes):
        note_principal(principal)
        raise Forbidden(
            "this API key may not call this route",
            {"reason": "route_not_allowed", "allowed_routes": sorted(key.routes)},
            text=TextCode.ACCESS_API_KEY_ROUTE,
            params={},
        )
    return principal
