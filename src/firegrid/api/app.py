"""The FastAPI app factory. Each context mounts its own router under ``/api/v1``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from firegrid import __version__
from firegrid.accounts.audit import install_audit
from firegrid.accounts.production import check_production_settings
from firegrid.api import shutdown
from firegrid.api.docs import OPENAPI_URL, install_docs
from firegrid.api.guards import refuse_control_characters
from firegrid.api.headers import install_security_headers
from firegrid.api.limits import BodyLimitMiddleware, BodyLimits
from firegrid.api.schemas import ErrorEnvelope, Health, Ready
from firegrid.core.db import Database
from firegrid.core.errors import DomainError, envelope
from firegrid.core.problems import validation_text
from firegrid.core.settings import Settings, get_settings
from firegrid.core.texts import TextCode
from firegrid.geo.service import EngineWarmup
from firegrid.web.serve import install_console

log = logging.getLogger(__name__)

# (module, attribute) of every context router; a context adds itself here.
ROUTERS: list[str] = [
    "firegrid.places.api:router",
    "firegrid.places.io_api:router",
    "firegrid.dispatch.api:router",
    "firegrid.geo.api:router",
    "firegrid.dispatch.incident_api:router",
    "firegrid.dispatch.crew_api:router",
    "firegrid.devices.api:router",
    "firegrid.ingest.api:router",
    "firegrid.ingest.commands.api:router",
    "firegrid.accounts.api:router",
    "firegrid.alarms.policy_api:router",  # before alarms.api: /alarms/policy, not /{alarm_id}
    "firegrid.alarms.listing_api:router",  # before alarms.api: /alarms/export, not /{alarm_id}
    "firegrid.alarms.api:router",
    "firegrid.web.map_api:router",
    "firegrid.risk.api:router",
    "firegrid.inspections.plan_api:router",  # before inspections.api: /inspections/plan
    "firegrid.inspections.api:router",
    "firegrid.installations.api:router",
    "firegrid.live.api:router",
    "firegrid.preplans.api:router",
    "firegrid.records.api:router",
    "firegrid.sharing.api:router",
    "firegrid.sharing.webhook_api:router",
    "firegrid.gridlink.api:router",
    "firegrid.planning.api:router",
    "firegrid.planning.jobs_api:router",
    "firegrid.interop.api:router",
    "firegrid.interop.telephony_api:router",
    "firegrid.dispatch.search_api:router",
    "firegrid.dispatch.notes_api:router",
    "firegrid.dispatch.moveup_api:router",
    "firegrid.dispatch.staffing_api:router",
]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
}


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    *,
    embedded_gb26875: tuple[str, int] | None = None,
    consume_changes: bool = False,
) -> FastAPI:
    """Build the application for ``settings`` (and an existing ``db`` in tests).

    With ``embedded_gb26875`` the process also runs device ingest (listening there) and
    the alarm services (see :mod:`firegrid.api.embedded`); with ``consume_changes`` the
    change consumers of every context (:mod:`firegrid.consumers`; ``firegrid serve``).
    """
    settings = settings or get_settings()
    check_production_settings(settings)
    _check_rule_files(settings)
    database = db or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warmup: EngineWarmup = app.state.engine_warmup
        finisher: asyncio.Task[None] | None = None
        if settings.warm_engine:  # recommendations and routes: load the engine now
            from firegrid.dispatch.warm import prime_recommendation

            warmup.start(database, settings, primers=[prime_recommendation], hold=True)
            finisher = asyncio.create_task(_finish_warmup(app, warmup))
        from firegrid.planning.public import recover_interrupted_jobs, start_job_runner

        # planning jobs a restart cut short run again (their lease expired; out of attempts:
        # failed and retriable), never lost silently; with the database down the API still
        # starts (it answers 503) and the runner thread recovers them once it is back
        try:
            await asyncio.to_thread(recover_interrupted_jobs, database)
        except (OperationalError, InterfaceError) as exc:
            log.warning("planning jobs not recovered (database unavailable): %s", exc)
        job_runner = start_job_runner(database, settings)
        stop_consumers = None
        if consume_changes:
            from firegrid.consumers import start_change_consumers

            stop_consumers = start_change_consumers(database, settings)
        stop_embedded = None
        if embedded_gb26875 is not None:
            from firegrid.api.embedded import start_embedded_services

            stop_embedded = await start_embedded_services(app, settings, database, embedded_gb26875)
        yield
        await asyncio.to_thread(job_runner.stop)
        if stop_embedded is not None:
            await stop_embedded()
        if stop_consumers is not None:
            await asyncio.to_thread(stop_consumers)
        ingest = getattr(app.state, "ingest", None)
        if ingest is not None:  # the HTTP push adapter's service, started on first push
            await ingest.close()
        if finisher is not None and not finisher.done():
            finisher.cancel()
        warmup.join()
        if db is None:
            database.dispose()

    app = FastAPI(
        title="firegrid",
        version=__version__,
        summary="City fire-safety platform: risk, remote monitoring, command and dispatch.",
        docs_url=None,  # served offline by api.docs (Swagger UI and ReDoc)
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        lifespan=lifespan,
        dependencies=[Depends(refuse_control_characters)],  # no NUL/control chars in input
    )
    app.state.settings = settings
    app.state.db = database
    app.state.engine_warmup = EngineWarmup()
    shutdown.install(app)  # streams end when the server shuts down
    _install_error_handlers(app)
    # Middleware added later wraps the earlier: security headers, then audit, then limits.
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.from_settings(settings))
    install_audit(app)
    install_security_headers(app, settings)
    # outermost: API answers and the console's files go compressed to a client that asks
    # (a phone on a slow link); Server-Sent Events are never buffered (Starlette excludes them)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)
    _install_health(app)
    app.include_router(import_module("firegrid.ops.api").router)  # GET /metrics, unprefixed
    install_docs(app)
    for spec in ROUTERS:
        module_name, attribute = spec.split(":")
        app.include_router(getattr(import_module(module_name), attribute), prefix="/api/v1")
    install_console(app)
    return app


async def _finish_warmup(app: FastAPI, warmup: EngineWarmup) -> None:
    """Once the engine is loaded, one unauthenticated request through the whole HTTP stack
    on the server's own loop (FastAPI builds its routing tables, the middleware stack and
    the worker threads on the first request), then ready."""
    import httpx

    await asyncio.to_thread(warmup.join)
    if warmup.state == "loaded":
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://warm-up") as c:
                # an unknown API key: the key lookup is compiled too (answered 401)
                await c.get(
                    "/api/v1/recommendations",
                    params={"lon": 0, "lat": 0, "incident_type": "building_fire"},
                    headers={"X-API-Key": "fgk_000000000000_warmup"},
                )
        except Exception:
            log.warning("HTTP warm-up request failed", exc_info=True)
    warmup.finish()


def _check_rule_files(settings: Settings) -> None:
    """Refuse to start with a bad rules file (the error names the file and the field)."""
    from firegrid.dispatch.merge_rules import load_merge_rules

    load_merge_rules(settings.merge_rules)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        headers = getattr(exc, "headers", None)  # e.g. Retry-After of a throttled sign-in
        return JSONResponse(exc.envelope(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for err in exc.errors():
            text = validation_text(dict(err))
            details.append(
                {
                    "loc": list(err.get("loc", ())),
                    "msg": err.get("msg"),
                    "type": err.get("type"),
                    "code": text.code.value,
                    "params": text.params,
                }
            )
        return JSONResponse(
            envelope("validation_failed", "the request is not valid", details), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(
            envelope(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(_request: Request, exc: Exception) -> JSONResponse:
        # A number the database cannot hold (e.g. an id beyond 64 bits) is the caller's error.
        return JSONResponse(
            envelope(
                "validation_failed",
                "a value in the request is out of range",
                message_code=TextCode.VALIDATION_OUT_OF_RANGE,
            ),
            status_code=422,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # The database is down, restarting or refusing connections: the caller may retry;
        # no partial write was committed (the session rolled back).
        log.warning("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return JSONResponse(
            envelope("database_unavailable", "the database is not reachable; retry shortly"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(envelope("internal", "internal server error"), status_code=500)


def _install_health(app: FastAPI) -> None:
    @app.get(
        "/healthz",
        tags=["health"],
        summary="Liveness (public); 'warming' while loading",
        response_model=Health,
    )
    def healthz(request: Request) -> dict[str, Any]:
        warmup = request.app.state.engine_warmup
        return {
            "status": "warming" if warmup.warming else "ok",
            "version": __version__,
            "engine": warmup.as_dict(),
        }

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Readiness: database reachable and the travel-time engine loaded (public)",
        response_model=Ready,
        responses={503: {"model": ErrorEnvelope, "description": "Not ready (yet)."}},
    )
    def readyz(request: Request) -> JSONResponse:
        warmup = request.app.state.engine_warmup
        if warmup.warming or warmup.state == "failed":
            return JSONResponse(
                envelope(
                    "warming" if warmup.warming else "not_ready",
                    "the travel-time engine is loading"
                    if warmup.warming
                    else "the travel-time engine failed to load",
                    {"engine": warmup.as_dict()},
                ),
                status_code=503,
            )
        database: Database = request.app.state.db
        try:
            with database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                revision = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar()
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure
            return JSONResponse(
                envelope("not_ready", f"database not ready: {type(exc).__name__}"),
                status_code=503,
            )
        return JSONResponse(
            {"status": "ready", "schema_revision": revision, "engine": warmup.as_dict()}
        )
