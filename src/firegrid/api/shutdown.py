"""Ending long-lived responses (live streams) when the server shuts down.

uvicorn waits for open responses before it runs the lifespan shutdown, and an event stream
never ends by itself: without this, ``firegrid serve`` would not exit on SIGTERM while a
console holds its feed. :class:`Server` sets the app's stop flag as soon as the shutdown
begins; every stream watches it (:func:`stopping_of`) and ends, so the connections close
and the process exits. ``GRACE_S`` bounds the wait for anything else.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

GRACE_S = 3.0


def install(app: FastAPI) -> None:
    app.state.stopping = threading.Event()


def stopping_of(app: Any) -> Callable[[], bool]:
    """A cheap test, for a stream loop, of whether ``app`` is shutting down."""
    flag: threading.Event | None = getattr(app.state, "stopping", None)
    if flag is None:
        return lambda: False
    return flag.is_set


def stop_streams(app: Any) -> None:
    flag: threading.Event | None = getattr(getattr(app, "state", None), "stopping", None)
    if flag is not None:
        flag.set()


class Server(uvicorn.Server):
    """uvicorn's server, ending the app's streams first when it shuts down."""

    async def shutdown(self, sockets: Any = None) -> None:
        stop_streams(self.config.app)
        await super().shutdown(sockets)


def config(app: FastAPI, host: str, port: int, **options: Any) -> uvicorn.Config:
    options.setdefault("timeout_graceful_shutdown", GRACE_S)
    return uvicorn.Config(app, host=host, port=port, **options)


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def run(app: FastAPI, host: str, port: int, **options: Any) -> None:
    """Serve ``app`` until SIGINT/SIGTERM (what ``uvicorn.run`` does, plus the above).

    uvicorn ends a graceful shutdown by restoring the signal handlers it found and raising
    the signal again. Under Python's default SIGTERM handler that killed the process on the
    spot, so the caller's ``finally`` never ran (``firegrid demo``'s simulators outlived it,
    holding their ports). The handler it finds here raises ``SystemExit(143)`` instead: the
    caller unwinds, and the exit status still says SIGTERM."""
    server = Server(config(app, host, port, **options))
    if threading.current_thread() is not threading.main_thread():  # no signals there
        server.run()
        return
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
