"""Services that ``firegrid serve --with-services`` runs inside the web process.

For the demo and small installations one process can do everything: the GB/T 26875.3
listener and the HTTP push adapter share the API's ingest service, the alarm correlator
with its timers runs beside them, and forwarded fires become incidents for dispatch. A city
runs them as their own processes (``firegrid ingest run``, ``firegrid alarms run``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from firegrid.core.db import Database
from firegrid.core.settings import Settings

log = logging.getLogger(__name__)

Stopper = Callable[[], Awaitable[None]]


async def start_embedded_services(
    app: FastAPI, settings: Settings, database: Database, gb26875: tuple[str, int]
) -> Stopper:
    """Start ingest (GB/T 26875.3 on ``gb26875``), the alarm services and the regular risk
    assessment; return a stopper."""
    from firegrid.alarms.consumer import run_alarm_services
    from firegrid.ingest.adapters.gb26875.server import GB26875Server
    from firegrid.ingest.log import open_event_log
    from firegrid.ingest.service import IngestService

    service = IngestService(database, open_event_log(settings, database))
    await service.start()
    app.state.ingest = service  # the HTTP push route uses the same service
    host, port = gb26875
    server = GB26875Server(service, host=host, port=port)
    await server.start()
    from firegrid.ingest.commands.dispatcher import Downlink

    downlink = Downlink(server, worker_id="serve")  # check posts and polls from the console
    await downlink.start()
    stop = asyncio.Event()
    alarms: asyncio.Task[Any] = asyncio.create_task(
        run_alarm_services(database, settings, stop, event_log=service.log)
    )
    from firegrid.dispatch.consumers import run_periodically

    dispatch_stop = threading.Event()
    dispatch = threading.Thread(
        target=run_periodically,
        args=(database, dispatch_stop),
        name="firegrid-dispatch-consumer",
        daemon=True,
    )
    dispatch.start()  # forwarded fires become incidents; station orders are delivered
    from firegrid.risk.scheduler import run_risk_schedule

    risk: asyncio.Task[Any] = asyncio.create_task(
        run_risk_schedule(database, settings, stop)  # regular assessment (定期评估)
    )

    from firegrid.interop.worker import run_link110

    link110: asyncio.Task[Any] = asyncio.create_task(run_link110(database, settings, stop))
    from firegrid.gridlink.worker import run_gridlink
    from firegrid.sharing.webhook_worker import run_webhooks

    gridlink: asyncio.Task[Any] = asyncio.create_task(run_gridlink(database, settings, stop))
    webhooks: asyncio.Task[Any] = asyncio.create_task(run_webhooks(database, settings, stop))
    log.info("embedded services started", extra={"gb26875": f"{host}:{server.port}"})

    async def stopper() -> None:
        stop.set()
        dispatch_stop.set()
        await asyncio.wait({alarms, risk, link110, gridlink, webhooks}, timeout=10)
        await downlink.close()
        await server.close()
        await asyncio.to_thread(dispatch.join, 10)

    return stopper
