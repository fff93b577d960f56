"""The append-only audit log: who did what, from where, when, and what changed.

Two ways in:

* :func:`install_audit` adds an ASGI middleware that gives each request an id
  (``X-Request-ID``) and, after the response, writes one ``request`` entry for every
  state-changing request (POST, PUT, PATCH, DELETE) whatever its outcome — with the caller
  if it authenticated, the client address, the status and the resource when known.
* Services call :func:`record_change` inside their own transaction, so a change and its
  before/after are committed (or rolled back) together::

      record_change(session, principal, "update", "venue", venue.id, before, after)

The table refuses UPDATE and DELETE with a database trigger (migration 0002).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from firegrid.accounts.models import AuditEntry
from firegrid.core.clock import utcnow
from firegrid.core.writes import Actor

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from firegrid.accounts.principal import Principal
    from firegrid.core.db import Database

log = logging.getLogger(__name__)

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass
class RequestAudit:
    """What the audit log knows about the request being served."""

    request_id: str
    method: str = ""
    path: str = ""
    client_ip: str = ""
    user_agent: str = ""
    principal: Principal | None = None
    action: str = ""
    resource_type: str = ""
    resource_id: str = ""
    username: str = ""  # attempted username of a sign-in
    outcome: str = ""
    details: dict[str, Any] = field(default_factory=dict)


_current: ContextVar[RequestAudit | None] = ContextVar("firegrid_request_audit", default=None)


def current_request() -> RequestAudit | None:
    """The audit context of the request being served (``None`` outside a request)."""
    return _current.get()


def note_principal(principal: Principal) -> None:
    """Remember the authenticated caller for the request's audit entry."""
    ctx = _current.get()
    if ctx is not None:
        ctx.principal = principal


def note(
    *,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: object = None,
    username: str | None = None,
    outcome: str | None = None,
    **details: Any,
) -> None:
    """Add what a handler knows (action, resource, outcome) to the request's audit entry."""
    ctx = _current.get()
    if ctx is None:
        return
    if action is not None:
        ctx.action = action
    if resource_type is not None:
        ctx.resource_type = resource_type
    if resource_id is not None:
        ctx.resource_id = str(resource_id)
    if username is not None:
        ctx.username = username
    if outcome is not None:
        ctx.outcome = outcome
    ctx.details.update(details)


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value`` (datetimes as ISO 8601, enums as values)."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _actor_fields(actor: Actor | None) -> dict[str, str]:
    if actor is None:
        return {"actor_subject": "", "actor_username": "", "actor_role": "", "scope_path": ""}
    return {
        "actor_subject": actor.subject,
        "actor_username": actor.username,
        "actor_role": actor.role,
        "scope_path": actor.scope_path,
    }


def _request_fields() -> dict[str, Any]:
    ctx = _current.get()
    if ctx is None:
        return {"request_id": "", "client_ip": "", "user_agent": "", "method": "", "path": ""}
    return {
        "request_id": ctx.request_id,
        "client_ip": ctx.client_ip,
        "user_agent": ctx.user_agent,
        "method": ctx.method,
        "path": ctx.path,
    }


def record_change(
    session: Session,
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    **details: Any,
) -> AuditEntry:
    """Record a change in the caller's transaction (committed or rolled back with it).

    ``before`` is ``None`` for a creation, ``after`` is ``None`` for a deletion. The request
    id, client address and path are taken from the request being served, if any.
    """
    entry = AuditEntry(
        at=utcnow(),
        kind="change",
        action=action,
        outcome="success",
        resource_type=resource_type,
        resource_id="" if resource_id is None else str(resource_id),
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        details=jsonable(details) or None,
        **_actor_fields(actor),
        **_request_fields(),
    )
    session.add(entry)
    ctx = _current.get()
    if ctx is not None:
        ctx.resource_type = ctx.resource_type or resource_type
        ctx.resource_id = ctx.resource_id or entry.resource_id
    return entry


def record_event(
    session: Session,
    actor: Principal | None,
    action: str,
    *,
    kind: str = "auth",
    outcome: str = "success",
    username: str = "",
    scope_path: str = "",
    resource_type: str = "",
    resource_id: object = None,
    status: int | None = None,
    **details: Any,
) -> AuditEntry:
    """Record an event that is not a row change (sign-in, token reuse, export)."""
    fields = _actor_fields(actor)
    if actor is None:
        fields["actor_username"] = username
        fields["scope_path"] = scope_path
    entry = AuditEntry(
        at=utcnow(),
        kind=kind,
        action=action,
        outcome=outcome,
        status=status,
        resource_type=resource_type,
        resource_id="" if resource_id is None else str(resource_id),
        details=jsonable(details) or None,
        **fields,
        **_request_fields(),
    )
    session.add(entry)
    return entry


def _request_entry(ctx: RequestAudit, status: int) -> AuditEntry:
    principal = ctx.principal
    fields = _actor_fields(principal)
    if principal is None and ctx.username:
        fields["actor_username"] = ctx.username
    outcome = ctx.outcome or ("success" if status < 400 else "failure")
    return AuditEntry(
        at=utcnow(),
        kind="request",
        action=ctx.action or f"{ctx.method} {ctx.details.get('route', ctx.path)}"[:80],
        outcome=outcome,
        request_id=ctx.request_id,
        client_ip=ctx.client_ip,
        user_agent=ctx.user_agent,
        method=ctx.method,
        path=ctx.path[:300],
        status=status,
        resource_type=ctx.resource_type,
        resource_id=ctx.resource_id[:80],
        details=jsonable(ctx.details) or None,
        **fields,
    )


def write_request_entry(database: Database, ctx: RequestAudit, status: int) -> None:
    """Write the ``request`` entry in its own transaction (after the response)."""
    try:
        with database.session() as session:
            session.add(_request_entry(ctx, status))
    except Exception:  # the response is already sent; never lose the fact silently
        log.exception(
            "could not write the audit entry",
            extra={"request_id": ctx.request_id, "path": ctx.path, "status": status},
        )


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _route_template(scope: Scope) -> str | None:
    """The path template of the route that served the request (``/api/v1/venues/{venue_id}``).

    FastAPI keeps included routers lazily; the effective (prefixed) route is in its scope.
    """
    effective = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(effective, "path", None) or getattr(scope.get("route"), "path", None)
    return str(path) if path else None


class AuditMiddleware:
    """Assign request ids and audit every state-changing request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        client = scope.get("client")
        ctx = RequestAudit(
            request_id=request_id,
            method=scope["method"],
            path=scope["path"],
            client_ip=client[0] if client else "",
            user_agent=_header(scope, b"user-agent")[:300],
        )
        token = _current.set(ctx)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = 500
            raise
        finally:
            _current.reset(token)
            route = _route_template(scope)
            if route and route != ctx.path:
                ctx.details.setdefault("route", route)
            if ctx.method in MUTATING_METHODS:
                database: Database = scope["app"].state.db
                await anyio.to_thread.run_sync(write_request_entry, database, ctx, status)


def install_audit(app: FastAPI) -> None:
    """Add the audit middleware to ``app`` (called by the app factory)."""
    app.add_middleware(AuditMiddleware)


# Queries (admin routes) ------------------------------------------------------------------


def is_city_scope(principal: Principal) -> bool:
    """A caller scoped to the root of the tree also sees entries without a scope."""
    return principal.scope_path.count("/") <= 2


def audit_query(
    principal: Principal,
    *,
    actor: str | None = None,
    action: str | None = None,
    kind: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[AuditEntry]:
    """Entries ``principal`` may read (its scope), filtered, newest first."""
    scope = principal.scope_filter(AuditEntry.scope_path)
    if is_city_scope(principal):  # also anonymous attempts and command-line operators
        scope = or_(scope, AuditEntry.scope_path.in_(("", "/")))
    query = select(AuditEntry).where(scope)
    if actor:
        query = query.where(
            or_(AuditEntry.actor_subject == actor, AuditEntry.actor_username == actor)
        )
    if action:
        query = query.where(AuditEntry.action == action)
    if kind:
        query = query.where(AuditEntry.kind == kind)
    if resource_type:
        query = query.where(AuditEntry.resource_type == resource_type)
    if resource_id:
        query = query.where(AuditEntry.resource_id == resource_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return query.order_by(AuditEntry.id.desc())


EXPORT_COLUMNS = (
    "id",
    "at",
    "kind",
    "action",
    "outcome",
    "request_id",
    "actor_subject",
    "actor_username",
    "actor_role",
    "scope_path",
    "client_ip",
    "user_agent",
    "method",
    "path",
    "status",
    "resource_type",
    "resource_id",
    "before",
    "after",
    "details",
)


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    return {name: jsonable(getattr(entry, name)) for name in EXPORT_COLUMNS}


def iter_entries(
    session: Session, query: Select[AuditEntry], limit: int
) -> Iterator[dict[str, Any]]:
    for entry in session.scalars(query.limit(limit).execution_options(yield_per=500)):
        yield entry_dict(entry)
