"""The link's lease: of two workers started for one link exactly one relays and delivers;
the other takes over when the holder stops (released) or dies (expired)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.interop.peer_sim import PeerSimulator
from firegrid.interop.worker import link110_worker
from firegrid.links import lease
from firegrid.links.delivery import DeliveryWorker, RoundResult
from tests.dispatch.city import DCity
from tests.interop.conftest import PeerServer, backlog, open_incident
from tests.interop.test_link_faults import assert_delivered_once_in_order


def test_compare_and_set_lets_one_owner_hold_the_lease(
    db: Database, monkeypatch: pytest.MonkeyPatch
):
    assert lease.acquire(db, "link:t", "a", ttl_s=10)
    assert not lease.acquire(db, "link:t", "b", ttl_s=10)
    assert lease.acquire(db, "link:t", "a", ttl_s=10)  # renewal
    assert lease.holder(db, "link:t") == "a"
    # a's renewals stop: once the lease has expired b takes it, and a no longer holds it
    later = utcnow() + timedelta(seconds=11)
    monkeypatch.setattr(lease, "utcnow", lambda: later)
    assert lease.acquire(db, "link:t", "b", ttl_s=10)
    assert not lease.acquire(db, "link:t", "a", ttl_s=10)
    assert lease.holder(db, "link:t") == "b"


def test_release_hands_the_lease_over_at_once(db: Database):
    assert lease.acquire(db, "link:t", "a", ttl_s=60)
    lease.release(db, "link:t", "b")  # not b's to release
    assert lease.holder(db, "link:t") == "a"
    lease.release(db, "link:t", "a")
    assert lease.holder(db, "link:t") is None
    assert lease.acquire(db, "link:t", "b", ttl_s=60)


class Counting:
    """Counts the messages a worker sent and the changes it relayed, round by round."""

    def __init__(self, worker: DeliveryWorker) -> None:
        self.sent = 0
        self.produced = 0
        original = worker.deliver_once

        async def counted() -> RoundResult:
            result = await original()
            self.sent += result.sent
            self.produced += result.produced
            return result

        worker.deliver_once = counted  # type: ignore[method-assign]


def test_two_workers_exactly_one_relays_and_the_other_takes_over(
    db: Database,
    dcity: DCity,
    link_settings: Settings,
    sim: PeerSimulator,
    peer: PeerServer,
):
    settings = link_settings.model_copy(update={"link_lease_ttl_s": 2.0})
    peer.start()
    first_ids = [open_incident(db, dcity, i) for i in range(6)]

    async def wait_drained(what: str) -> None:
        deadline = time.monotonic() + 30
        while backlog(db) or len(sim.state.incidents) < expected[0]:
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.02)

    expected = [len(first_ids)]

    async def main() -> tuple[Counting, Counting, str, str]:
        async with link110_worker(db, settings) as one, link110_worker(db, settings) as two:
            assert one.owner != two.owner
            counts = {one.owner: Counting(one), two.owner: Counting(two)}
            stops = {one.owner: asyncio.Event(), two.owner: asyncio.Event()}
            tasks = {w.owner: asyncio.create_task(w.run(stops[w.owner])) for w in (one, two)}
            await wait_drained("the first incidents")
            holder = lease.holder(db, one.lease_name)
            assert holder in counts
            other = two.owner if holder == one.owner else one.owner
            # the holder stops: the other worker takes the link over and delivers the rest
            stops[holder].set()
            await tasks[holder]
            for i in range(6, 10):
                open_incident(db, dcity, i)
            expected[0] = 10
            await wait_drained("the incidents after the take-over")
            assert lease.holder(db, one.lease_name) == other
            stops[other].set()
            await tasks[other]
            return counts[holder], counts[other], holder, other

    first, second, holder, other = asyncio.run(main())
    # before the take-over only the holder relayed and sent; afterwards only the other
    assert first.produced == len(first_ids)
    assert first.sent >= len(first_ids)
    assert second.produced == 4
    assert second.sent >= 4
    assert sim.state.duplicates == 0
    assert_delivered_once_in_order(sim, db)
    assert holder != other
