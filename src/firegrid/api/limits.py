"""Request body size limits per route, enforced before the body is read into memory.

An ASGI middleware picks the limit of the request's route from :data:`ROUTE_LIMITS` (a
small default for JSON routes, more by design for file uploads), then:

* refuses at once, without reading a byte of the body, a request whose ``Content-Length``
  is over the limit;
* counts the bytes of a body sent without a length (chunked) as the route reads it, and
  stops the request when the count passes the limit, so memory stays bounded by the limit
  whatever the client sends.

Either way the answer is 413 with the error envelope
(``{"error": {"code": "too_large", "message", "details": {"max_bytes": ...}}}``).
The limits are settings (``FIREGRID_MAX_BODY_BYTES`` and friends).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException

from firegrid.core.errors import envelope

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from firegrid.core.settings import Settings

# (path pattern, name of the setting with its limit); the first match wins, else the
# default ``max_body_bytes``.
ROUTE_LIMITS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/api/v1/imports/[^/]+/?$"), "max_upload_body_bytes"),
    (re.compile(r"^/api/v1/alarms/tasks/[^/]+/result/?$"), "max_attachment_body_bytes"),
    (re.compile(r"^/api/v1/alarms/workorders/[^/]+/close/?$"), "max_attachment_body_bytes"),
    (re.compile(r"^/api/v1/hazards/[^/]+/rectify/?$"), "max_attachment_body_bytes"),
    (re.compile(r"^/api/v1/inspections/[^/]+/photo/?$"), "max_attachment_body_bytes"),
    (re.compile(r"^/api/v1/preplans/[^/]+/attachments/?$"), "max_attachment_body_bytes"),
    (re.compile(r"^/api/v1/incidents/[^/]+/attachments/?$"), "max_attachment_body_bytes"),
    (re.compile(r"^/api/v1/ingest/push/"), "max_push_body_bytes"),
)
DEFAULT_LIMIT = "max_body_bytes"


class BodyTooLarge(HTTPException):
    """The body passed the route's limit while it was being read."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=_message(max_bytes))
        self.max_bytes = max_bytes


def _message(max_bytes: int) -> str:
    return f"the request body is larger than this route accepts ({max_bytes} bytes)"


@dataclass(frozen=True)
class BodyLimits:
    """The limit of each route, resolved from settings once."""

    default_bytes: int
    routes: tuple[tuple[re.Pattern[str], int], ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimits:
        return cls(
            default_bytes=int(getattr(settings, DEFAULT_LIMIT)),
            routes=tuple((pattern, int(getattr(settings, name))) for pattern, name in ROUTE_LIMITS),
        )

    def for_path(self, path: str) -> int:
        for pattern, limit in self.routes:
            if pattern.match(path):
                return limit
        return self.default_bytes


def _content_length(scope: Scope) -> int | None:
    """The declared length; ``-1`` for a malformed one (refused), ``None`` when absent."""
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None


async def _send_error(send: Send, status: int, code: str, message: str, max_bytes: int) -> None:
    body = json.dumps(envelope(code, message, {"max_bytes": max_bytes})).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse or stop request bodies over their route's limit (see the module doc)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limits.for_path(scope["path"])
        declared = _content_length(scope)
        if declared == -1:
            message = "the Content-Length header is not valid"
            await _send_error(send, 400, "bad_request", message, max_bytes)
            return
        if declared is not None and declared > max_bytes:
            await _send_error(send, 413, "too_large", _message(max_bytes), max_bytes)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # The route's exception handler normally answers; this is the fallback when
            # the body was read outside it (e.g. by a middleware).
            if started:
                raise
            await _send_error(send, 413, "too_large", _message(max_bytes), max_bytes)
