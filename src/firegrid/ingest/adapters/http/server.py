"""The HTTP push adapter of ``firegrid ingest run --http``: a small FastAPI app with only
the push route, served by uvicorn inside the ingest process's event loop.

The same route is also part of the main API (:mod:`firegrid.ingest.api`), so a deployment
may take pushes on either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from firegrid.core.errors import DomainError, envelope
from firegrid.core.settings import Settings
from firegrid.ingest.service import IngestService

log = logging.getLogger(__name__)


def create_push_app(service: IngestService, settings: Settings) -> FastAPI:
    """An app serving ``POST /api/v1/ingest/push/{integration}`` for ``service``."""
    from firegrid.ingest.api import push_router

    app = FastAPI(title="firegrid ingest push", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.db = service.db
    app.state.ingest = service

    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.envelope(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            envelope("validation_failed", "the request is not valid", str(exc)), status_code=422
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(push_router, prefix="/api/v1")
    return app


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (the ingest process owns the signals)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HTTPPushServer:
    """Runs :func:`create_push_app` on ``host:port`` in the current event loop."""

    def __init__(
        self, service: IngestService, settings: Settings, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.host = host
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            create_push_app(service, settings),
            log_config=None,
            access_log=False,
            lifespan="off",
            backlog=2048,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._server.serve(sockets=[self._socket])
        )
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        log.info("http push listening on %s:%d", self.host, self.port)

    async def close(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._socket.close()
