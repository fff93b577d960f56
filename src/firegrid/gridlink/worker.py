"""The grid link's worker: the relay (change stream → outbox) and the link kernel's delivery
worker in one loop, under the link's lease. ``firegrid gridlink run`` runs it alone;
``serve --with-services`` (and ``firegrid demo``) run it inside the web process."""

from __future__ import annotations

import asyncio
import logging

import httpx

from firegrid.core.db import Database
from firegrid.core.errors import DomainError
from firegrid.core.settings import Settings
from firegrid.gridlink import config as cfg
from firegrid.gridlink.relay import relay_grid_changes
from firegrid.links.delivery import DeliveryWorker

log = logging.getLogger(__name__)


def gridlink_worker(
    db: Database, settings: Settings, *, client: httpx.AsyncClient | None = None
) -> DeliveryWorker:
    config = cfg.link_config(settings)
    return DeliveryWorker(
        db,
        config,
        cfg.delivery_policy(settings),
        producers=[lambda database: relay_grid_changes(database, config)],
        client=client,
    )


async def run_gridlink(db: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Relay and deliver until ``stop`` is set. A configuration the link cannot start with
    is logged, not raised, so the other services of the process keep running."""
    try:
        worker = gridlink_worker(db, settings)
    except DomainError as err:
        log.error("the grid link is not running: %s", err.message, extra={"details": err.details})
        return
    async with worker:
        await worker.run(stop)
