"""The 110 link's worker: the relay (dispatch changes → outbox) and the delivery worker of
the link kernel, in one loop. ``firegrid link110 run`` runs it alone; ``serve
--with-services`` runs it inside the web process. Several may run: the link's lease
(:mod:`firegrid.links.lease`) lets exactly one relay and deliver at a time."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

import httpx

from firegrid.alarms.public import LIVE_CHANNEL
from firegrid.core.db import Database
from firegrid.core.errors import DomainError
from firegrid.core.settings import Settings
from firegrid.interop import config as cfg
from firegrid.interop.relay import relay_changes
from firegrid.links.delivery import DeliveryWorker

log = logging.getLogger(__name__)


def link110_worker(
    db: Database, settings: Settings, *, client: httpx.AsyncClient | None = None
) -> DeliveryWorker:
    config = cfg.link_config(settings)
    relay = partial(relay_changes, settings=settings, config=config)
    return DeliveryWorker(
        db,
        config,
        cfg.delivery_policy(settings),
        producers=[lambda database: relay(database)],
        client=client,
        # the relay reads live_entries: their commits wake the idle worker on PostgreSQL
        wake_channels=(LIVE_CHANNEL,),
    )


async def run_link110(db: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Relay and deliver until ``stop`` is set. A configuration the link cannot start with
    (a peer without its secret in production, a bad peers file) is logged, not raised, so
    the other services of the process keep running."""
    try:
        worker = link110_worker(db, settings)
    except DomainError as err:
        log.error("the 110 link is not running: %s", err.message, extra={"details": err.details})
        return
    async with worker:
        await worker.run(stop)
