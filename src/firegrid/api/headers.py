"""Security headers on every response: the console, the API and the API docs.

* ``Content-Security-Policy``: the console runs only its own files (no inline script or
  style, no ``eval``), talks only to its own origin, and shows images from itself, ``data:``
  and ``blob:`` URLs and the configured extra tile server. API responses are data:
  ``default-src 'none'``. The docs page (``/api/docs``, Swagger UI from its CDN) may run
  FastAPI's inline start-up script, allowed by its SHA-256 hash only. Nothing may frame any
  page (``frame-ancestors 'none'``).
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
  ``X-Frame-Options: DENY`` (for browsers without ``frame-ancestors``),
  ``Cross-Origin-Opener-Policy``, ``Cross-Origin-Resource-Policy``, ``Permissions-Policy``
  (geolocation and camera for the crew and grid-worker views only), and
  ``Strict-Transport-Security`` when the request came over HTTPS.

A header a route sets itself is kept.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from firegrid.core.settings import Settings

SWAGGER_CDN = "https://cdn.jsdelivr.net"
FASTAPI_FAVICON = "https://fastapi.tiangolo.com"
API_PREFIXES = ("/api/", "/healthz", "/readyz")
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)

COMMON_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "permissions-policy",
        "geolocation=(self), camera=(self), microphone=(), payment=(), usb=(), interest-cohort=()",
    ),
)
HSTS = "max-age=31536000; includeSubDomains"
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def _policy(directives: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def tile_source(tile_url: str) -> str | None:
    """The CSP source of an XYZ tile URL template (``{s}.`` becomes a ``*.`` wildcard)."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url.replace("{s}.", "placeholder-sub."))
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.netloc.replace("placeholder-sub.", "*.")
    if "{" in host or "}" in host:
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def console_csp(settings: Settings) -> str:
    images = ["'self'", "data:", "blob:"]
    tiles = tile_source(settings.map_tile_url)
    if tiles:
        images.append(tiles)
    return _policy(
        {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "img-src": images,
            "font-src": ["'self'"],
            "connect-src": ["'self'"],
            "media-src": ["'self'"],
            "worker-src": ["'self'"],
            "object-src": ["'none'"],
            "base-uri": ["'none'"],
            "form-action": ["'self'"],
            "frame-ancestors": ["'none'"],
        }
    )


def script_hashes(html: str) -> list[str]:
    """CSP ``'sha256-...'`` sources of the inline scripts of ``html``."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
        if body.strip()
    ]


def docs_csp(app: FastAPI, root_path: str = "") -> str:
    """The policy of ``/api/docs``: FastAPI's own page, its inline script allowed by hash.

    The page is rendered here exactly as FastAPI's docs route renders it (for the same
    ``root_path``). Swagger UI styles its widgets with inline styles, hence
    ``'unsafe-inline'`` for styles on this page only (never for scripts).
    """
    root = root_path.rstrip("/")
    redirect_url = app.swagger_ui_oauth2_redirect_url
    page = get_swagger_ui_html(
        openapi_url=root + (app.openapi_url or ""),
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=root + redirect_url if redirect_url else None,
        init_oauth=app.swagger_ui_init_oauth,
        swagger_ui_parameters=app.swagger_ui_parameters,
    ).body
    redirect = get_swagger_ui_oauth2_redirect_html().body
    hashes = script_hashes(bytes(page).decode()) + script_hashes(bytes(redirect).decode())
    return _policy(
        {
            "default-src": ["'none'"],
            "script-src": ["'self'", SWAGGER_CDN, *hashes],
            "style-src": ["'self'", SWAGGER_CDN, "'unsafe-inline'"],
            "img-src": ["'self'", "data:", FASTAPI_FAVICON],
            "connect-src": ["'self'"],
            "base-uri": ["'none'"],
            "form-action": ["'self'"],
            "frame-ancestors": ["'none'"],
        }
    )


class SecurityHeadersMiddleware:
    """Add the security headers (see the module doc) to every HTTP response."""

    def __init__(self, app: ASGIApp, *, console: str, api: str, docs: Callable[[str], str]) -> None:
        self.app = app
        self.console = console.encode()
        self.api = api.encode()
        self.docs = docs
        self._docs_by_root: dict[str, bytes] = {}

    def _csp(self, path: str, root_path: str) -> bytes:
        if path.startswith("/api/docs"):
            if root_path not in self._docs_by_root:
                self._docs_by_root[root_path] = self.docs(root_path).encode()
            return self._docs_by_root[root_path]
        if path.startswith(API_PREFIXES) or path == "/api":
            return self.api
        return self.console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self._csp(scope["path"], str(scope.get("root_path", "")))
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _value in headers}
                extra = [(b"content-security-policy", csp)]
                extra += [(k.encode(), v.encode()) for k, v in COMMON_HEADERS]
                if https:
                    extra.append((b"strict-transport-security", HSTS.encode()))
                headers += [(key, value) for key, value in extra if key not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    """Add the middleware to ``app`` (called by the app factory once routes are known)."""
    app.add_middleware(
        SecurityHeadersMiddleware,
        console=console_csp(settings),
        api=API_CSP,
        docs=partial(docs_csp, app),
    )
