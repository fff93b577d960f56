"""The webhooks' worker: the relay (change stream → one outbox message per subscription and
change) and the link kernel's delivery worker, in one loop, under the link's lease.

The relay reads the shared kinds from ``domain_changes`` after its durable cursor
(``webhooks.domain_changes`` in ``link_cursors``) and, in one transaction, writes the
deliveries of every active subscription that wants each change and moves the cursor: a
crash before the commit leaves both unchanged, so nothing is skipped and nothing is written
twice. Each round it also rebuilds the link's peers from the active subscriptions, so a new
subscription is served and a removed one is not, without a restart.

A subscriber's failure is its own: the worker raises no link alert in the monitoring
centre for it (its health is in ``GET /api/v1/webhooks/{id}``).
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from firegrid.core.changes import changes_after
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.links.cursor import advance_cursor, read_cursor
from firegrid.links.delivery import DeliveryPolicy, DeliveryWorker
from firegrid.links.outbox import enqueue
from firegrid.sharing.feed import FEED_KINDS
from firegrid.sharing.webhooks import (
    LINK,
    active_subscriptions,
    delivery_body,
    delivery_id,
    order_key,
    peer_id,
    wants,
    webhook_config,
)

log = logging.getLogger(__name__)

CURSOR = "webhooks.domain_changes"
BATCH = 500


def relay_webhooks(db: Database, batch: int = BATCH) -> int:
    """Turn the next batch of shared changes into deliveries; how many written."""
    written = 0
    with db.session() as session:
        position = read_cursor(session, CURSOR)
        changes = changes_after(session, position, kinds=FEED_KINDS.values(), limit=batch)
        if not changes:
            return 0
        subscriptions = active_subscriptions(session)
        for change in changes:
            for subscription in subscriptions:
                if not wants(subscription, change):
                    continue
                enqueue(
                    session,
                    link=LINK,
                    peer=peer_id(subscription.id),
                    order_key=order_key(subscription.id),
                    kind="change",
                    body=delivery_body(subscription.id, change),
                    message_id=delivery_id(subscription.id, change.id),
                )
                written += 1
        advance_cursor(session, CURSOR, changes[-1].id)
    return written


def webhook_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy.from_settings(settings, max_attempts=settings.webhook_max_attempts)


class WebhookWorker(DeliveryWorker):
    """The link kernel's worker with peers read from the subscriptions every round."""

    def __init__(
        self, db: Database, settings: Settings, *, client: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        super().__init__(
            db,
            webhook_config(settings, []),
            webhook_policy(settings),
            producers=[self._refresh, relay_webhooks],
            client=client,
        )

    def _refresh(self, db: Database) -> int:
        with db.session() as session:
            self.config = webhook_config(self.settings, active_subscriptions(session))
        return 0

    def check_alerts(self) -> tuple[list[str], list[str]]:
        return [], []  # a subscriber's outage is no alarm for the monitoring centre


async def run_webhooks(db: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Relay and deliver until ``stop`` is set."""
    async with WebhookWorker(db, settings) as worker:
        await worker.run(stop)
