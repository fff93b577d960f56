"""App-wide input guard: no NUL or other control character in what a caller sends.

Added to every route as an app-level dependency (``create_app``), so no route can forget
it. It checks, with the one rule of :mod:`firegrid.core.text`:

* every query parameter (name and value) and path parameter: one-line values, so also no
  tab, CR or LF;
* every string (and object key) of a JSON body the route declares, at any depth: free
  text, so line breaks and tabs are allowed (a route reading raw bytes, such as the signed
  device push, checks its own content);
* every text field of a form the route parsed (multipart uploads).

A violation is a 422 with the error envelope; ``details`` names the field
(``{"loc": ["query", "actor"], "msg": "control character U+0000 ...", "type": ...}``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from firegrid.core.text import control_message, find_control, find_in

ERROR_TYPE = "control_character"


def _error(loc: tuple[str | int, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": loc, "msg": message, "type": ERROR_TYPE}])


def _check_parameters(request: Request) -> None:
    for name, value in request.query_params.multi_items():
        for text in (name, value):
            found = find_control(text, single_line=True)
            if found is not None:
                raise _error(("query", name), control_message(found))
    for name, value in request.path_params.items():
        if isinstance(value, str):
            found = find_control(value, single_line=True)
            if found is not None:
                raise _error(("path", name), control_message(found))


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _route_reads_a_body(request: Request) -> bool:
    """Whether the matched route declares a body (FastAPI parsed it before this runs).

    Routes that read the raw bytes themselves (the signed HTTP push of device messages) are
    left to their own checks: a batch is not refused whole for one message's text.
    """
    return getattr(request.scope.get("route"), "body_field", None) is not None


async def _json_body(request: Request) -> Any:
    """The JSON body the route parsed (Starlette caches it on the request), if any."""
    if not _route_reads_a_body(request) or not _is_json(request):
        return None
    try:
        return await request.json()
    except Exception:  # noqa: BLE001 - malformed JSON is the route's own 422
        return None


async def refuse_control_characters(request: Request) -> None:
    """Raise 422 naming the first parameter or body field holding a control character."""
    _check_parameters(request)
    body = await _json_body(request)
    if body is not None:
        where, message = find_in(body)
        if message:
            raise _error(("body", *where), message)
    # A form is only looked at when the route parsed one (FastAPI reads it before the
    # dependencies run and Starlette keeps it on the request).
    form = getattr(request, "_form", None)
    if form is not None:
        for name, value in form.multi_items():
            if isinstance(value, str):
                found = find_control(value)
                if found is not None:
                    raise _error(("body", name), control_message(found))
