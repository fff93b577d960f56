"""API documentation served by firegrid itself: Swagger UI and ReDoc work offline.

* ``/api/openapi.json`` (and ``/openapi.json``): the OpenAPI document, with the security
  schemes the API accepts (bearer token, API key, console session cookie) on every
  authenticated operation, so Swagger UI's "Authorize" button works.
* ``/api/docs`` (and ``/docs``): Swagger UI; ``/api/redoc`` (and ``/redoc``): ReDoc.
* ``/api/docs/assets/<file>``: their scripts and styles, shipped in the ``fastapi-offline``
  wheel — no CDN, so the docs load on a network without internet access.

The pages are rendered by :func:`swagger_page` and :func:`redoc_page`; the docs' CSP
(``api.headers``) hashes the inline scripts of exactly these pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from firegrid.accounts.auth import API_KEY_HEADER, CSRF_HEADER, SESSION_COOKIE
from firegrid.api.deps import get_principal

OPENAPI_URL = "/api/openapi.json"
SWAGGER_URL = "/api/docs"
REDOC_URL = "/api/redoc"
ASSETS_URL = "/api/docs/assets"
ASSET_FILES: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /api/v1/auth/login (or an fgk_ API key).",
    },
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": API_KEY_HEADER,
        "description": "An API key (fgk_…) from POST /api/v1/apikeys.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": f"The console's session; a state-changing request also sends {CSRF_HEADER}.",
    },
}
#: Any one of the schemes authenticates a request.
AUTHENTICATED: list[dict[str, list[str]]] = [{name: []} for name in SECURITY_SCHEMES]


def assets_dir() -> Path:
    """Where the Swagger UI and ReDoc files are (inside the installed wheel)."""
    return Path(str(files("fastapi_offline") / "static"))


def swagger_page(app: FastAPI, root_path: str = "") -> HTMLResponse:
    root = root_path.rstrip("/")
    return get_swagger_ui_html(
        openapi_url=root + OPENAPI_URL,
        title=f"{app.title} - Swagger UI",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        swagger_ui_parameters=app.swagger_ui_parameters,
    )


def redoc_page(app: FastAPI, root_path: str = "") -> HTMLResponse:
    root = root_path.rstrip("/")
    return get_redoc_html(
        openapi_url=root + OPENAPI_URL,
        title=f"{app.title} - ReDoc",
        redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def authenticates(route: APIRoute) -> bool:
    """Whether the route authenticates its caller (depends on ``get_principal``)."""
    return any(d.call is get_principal for d in _dependencies(route.dependant))


def document_security(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Add the security schemes, and the requirement to every authenticated operation."""
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        operations = schema["paths"].get(str(context.path_format), {})
        for method in context.methods or ():
            operation = operations.get(method.lower())
            if operation is not None:
                operation["security"] = AUTHENTICATED if authenticates(route) else []
    return schema


def install_docs(app: FastAPI) -> None:
    """Serve the OpenAPI document, Swagger UI, ReDoc and their assets (before the console).

    Build the app with ``docs_url=None, redoc_url=None, openapi_url=OPENAPI_URL``.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_security(app, build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(SWAGGER_URL, include_in_schema=False)
    def swagger(request: Request) -> HTMLResponse:
        return swagger_page(app, str(request.scope.get("root_path", "")))

    @app.get(REDOC_URL, include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return redoc_page(app, str(request.scope.get("root_path", "")))

    @app.get(ASSETS_URL + "/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        media_type = ASSET_FILES.get(name)
        if media_type is None:
            raise StarletteHTTPException(status_code=404, detail="Not Found")
        return FileResponse(
            assets_dir() / name,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/docs", include_in_schema=False)
    def docs_alias(request: Request) -> RedirectResponse:
        return RedirectResponse(str(request.scope.get("root_path", "")) + SWAGGER_URL)

    @app.get("/redoc", include_in_schema=False)
    def redoc_alias(request: Request) -> RedirectResponse:
        return RedirectResponse(str(request.scope.get("root_path", "")) + REDOC_URL)
