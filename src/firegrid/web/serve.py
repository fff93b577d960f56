"""Serve the built console (``static/``) at ``/`` with a fallback to ``index.html``.

Call :func:`install_console` after every API router is included: the console's catch-all
route is added last, so it never shadows ``/api``, ``/healthz`` or ``/readyz``; an unknown
path under those prefixes still answers with the API's 404 error envelope.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from firegrid.core.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"
_CONSOLE_PATH = re.compile(r"^/(?!(?:api|healthz|readyz|metrics)(?:/|$))(?P<full_path>.*)$")
_IMMUTABLE = "public, max-age=31536000, immutable"
_MISSING = (
    "<!doctype html><meta charset=utf-8><title>firegrid</title>"
    "<p>The console is not built: run <code>make web</code> (npm ci &amp;&amp; npm run build "
    "in web/). The API is at <a href=/api/docs>/api/docs</a>.</p>"
)


def _reserved(path: str) -> bool:
    head = path.split("/", 1)[0]
    return head in {"api", "healthz", "readyz", "metrics"}


def console_config(request: Request) -> dict[str, object]:
    """What the console reads as ``window.FIREGRID_CONFIG`` (e.g. an extra XYZ layer)."""
    settings: Settings = request.app.state.settings
    return {"tileUrl": settings.map_tile_url, "tileAttribution": settings.map_tile_attribution}


def install_console(app: FastAPI, static_dir: Path | None = None) -> None:
    """Add the console's routes (config script, files, SPA fallback) to ``app``."""
    root = (static_dir or STATIC_DIR).resolve()

    @app.get("/console-config.js", include_in_schema=False)
    def config_script(request: Request) -> Response:
        body = "window.FIREGRID_CONFIG = " + json.dumps(console_config(request)) + ";\n"
        return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.api_route("/{full_path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    def console(full_path: str) -> Response:
        if _reserved(full_path):  # pragma: no cover - excluded by the route's pattern
            raise StarletteHTTPException(status_code=404, detail="Not Found")
        index = root / "index.html"
        if full_path:
            candidate = (root / full_path).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                cache = _IMMUTABLE if full_path.startswith("assets/") else "no-cache"
                return FileResponse(candidate, headers={"Cache-Control": cache})
            if full_path.startswith("assets/"):
                raise StarletteHTTPException(status_code=404, detail="Not Found")
        if not index.is_file():
            return HTMLResponse(_MISSING, status_code=503)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    # The catch-all must not even match the API's paths: an unknown /api/... path (any
    # method) keeps the API's own 404, and a wrong method on an API route its 405.
    route = app.router.routes[-1]
    assert isinstance(route, APIRoute)
    assert route.path == "/{full_path:path}"
    route.path_regex = _CONSOLE_PATH
