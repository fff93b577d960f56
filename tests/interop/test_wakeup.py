"""The idle link worker sleeps until there is work: on PostgreSQL a notification (an
incident change committing live entries, or any outbox message) wakes it; on SQLite it
polls. The fallback look is made very long here, so a delivery proves the wake-up."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.interop.peer_sim import PeerSimulator
from firegrid.interop.worker import link110_worker
from firegrid.links import delivery
from firegrid.links.delivery import RoundResult
from firegrid.links.models import LinkOutbox
from firegrid.links.outbox import enqueue
from firegrid.links.wakeup import Wakeup, link_channel
from tests.dispatch.city import DCity
from tests.helpers import until
from tests.interop.conftest import PEER_ID, PeerServer, backlog, open_incident

WAIT_S = 15.0


def test_channel_names_are_plain_identifiers():
    assert link_channel("link110") == "firegrid_link_link110"
    assert link_channel("Link-110.x") == "firegrid_link_link_110_x"


def test_sqlite_polls_and_postgresql_listens(db: Database):
    assert Wakeup(db, ("firegrid_link_link110",)).enabled == (
        db.engine.dialect.name == "postgresql"
    )


def test_an_idle_worker_is_woken_by_an_incident_and_by_an_outbox_message(
    db: Database,
    dcity: DCity,
    link_settings: Settings,
    sim: PeerSimulator,
    peer: PeerServer,
    monkeypatch: pytest.MonkeyPatch,
):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("notifications are PostgreSQL's; SQLite polls (the other tests)")
    monkeypatch.setattr(delivery, "LISTEN_POLL_S", 60.0)
    settings = link_settings.model_copy(update={"link_poll_s": 60.0})
    peer.start()

    async def main() -> int:
        async with link110_worker(db, settings) as worker:
            rounds = [0]
            original = worker.deliver_once

            async def counted() -> RoundResult:
                rounds[0] += 1
                return await original()

            worker.deliver_once = counted  # type: ignore[method-assign]
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run(stop))
            try:
                await until(lambda: rounds[0] >= 1, WAIT_S, what="the first round")
                await asyncio.sleep(0.5)  # idle: asleep on the notifications
                idle_rounds = rounds[0]
                # an incident change (live entries) wakes the relay and the delivery
                open_incident(db, dcity, 0)
                await until(
                    lambda: len(sim.state.incidents) == 1, WAIT_S, what="the incident to reach 110"
                )
                # a message added to the outbox directly (e.g. a transfer) wakes it too
                with db.session() as session:
                    first = session.scalars(select(LinkOutbox)).one()
                    enqueue(
                        session,
                        link="link110",
                        peer=PEER_ID,
                        order_key="test:1",
                        kind="incident",
                        body=json.loads(first.body),
                    )
                await until(
                    lambda: backlog(db) == 0 and sim.state.received >= 2, WAIT_S, what="the message"
                )
            finally:
                stop.set()
                await task
            return idle_rounds

    idle_rounds = asyncio.run(main())
    assert idle_rounds <= 3  # asleep, not polling every few milliseconds
