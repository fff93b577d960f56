"""Security headers on every response: the console, the API and the API docs.

* ``Content-Security-Policy``: the console runs only its own files (no inline script or
  style, no ``eval``), talks only to its own origin, and shows images from itself, ``data:``
  and ``blob:`` URLs and the configured extra tile server. API responses are data:
  ``default-src 'none'``. The docs pages (``/api/docs``, ``/api/redoc``, served offline)
  may run their inline start-up scripts, allowed by SHA-256 hash only. Nothing may frame any
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

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from firegrid.core.settings import Settings

DOCS_PREFIXES = ("/api/docs", "/api/redoc")
API_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics")
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
    """The policy of the API docs (Swagger UI and ReDoc, served by firegrid itself): their
    pages' inline start-up scripts allowed by hash, everything else from this origin.

    The pages are rendered here exactly as the docs routes render them (for the same
    ``root_path``). Swagger UI styles its widgets with inline styles, hence
    ``'unsafe-inline'`` for styles on these pages only (never for scripts); ReDoc runs its
    search in a ``blob:`` worker.
    """
    from firegrid.api.docs import redoc_page, swagger_page

    pages = (swagger_page(app, root_path).body, redoc_page(app, root_path).body)
    hashes = [h for page in pages for h in script_hashes(bytes(page).decode())]
    return _policy(
        {
            "default-src": ["'none'"],
            "script-src": ["'self'", *hashes],
            "style-src": ["'self'", "'unsafe-inline'"],
            "img-src": ["'self'", "data:"],
            "font-src": ["'self'", "data:"],
            "connect-src": ["'self'"],
            "worker-src": ["'self'", "blob:"],
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
        if path.startswith(DOCS_PREFIXES):
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
