"""The demo path through the real event log: event → alarm → grid-worker check → forwarded;
an unverified fire auto-forwarded by its timer. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from firegrid.alarms.consumer import AlarmConsumer
from firegrid.alarms.forwarding import pending_forwards
from firegrid.alarms.models import Alarm, ConsumerState
from firegrid.alarms.rules import Policy
from firegrid.alarms.service import Correlator
from firegrid.alarms.timers import fire_due_timers
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from firegrid.ingest.log_db import DatabaseEventLog
from tests.accounts.city import City
from tests.alarms.conftest import FrozenClock, Site, Users, make_site


async def _ingest_and_correlate(db: Database, correlator: Correlator, events: list) -> int:  # type: ignore[type-arg]
    log = DatabaseEventLog(db)
    await log.start()
    try:
        await log.append_batch(events)
        await log.append_batch(events[:2])  # a retransmission: dropped by the log
        consumer = AlarmConsumer(db, log, correlator)
        handled = await consumer.drain()
        # at-least-once: a restarted consumer reading from an old offset changes nothing
        again = AlarmConsumer(db, log, correlator)
        result = again.handle(await log.read(0, 1000))
        assert result is None
        return handled
    finally:
        await log.close()


def test_demo_path(
    client: TestClient,
    db: Database,
    city: City,
    site: Site,
    correlator: Correlator,
    users: Users,
    clock: FrozenClock,
    policy: Policy,
) -> None:
    other = make_site(db, city, "in")
    # a second venue in the same grid: an unverified fire there
    with db.session() as session:
        from firegrid.places.models import Venue

        venue = Venue(
            code="IN-E2E",
            name="E2E venue",
            lon=113.05,
            lat=23.1,
            jurisdiction_path=site.path,
            jurisdiction_id=site.grid_id,
            category="hotel",
        )
        session.add(venue)
        session.flush()
        other.venue_id = venue.id
    events = [site.ev(K.FIRE_ALARM, "smoke", at=clock.now), other.ev(K.FIRE_ALARM, at=clock.now)]
    handled = asyncio.run(_ingest_and_correlate(db, correlator, events))
    assert handled == 2
    with db.session() as session:
        alarms = {a.venue_id: a for a in session.scalars(select(Alarm)).all()}
        state = session.get(ConsumerState, "alarms")
        assert state is not None
        assert state.events == 2
    verified, unverified = alarms[site.venue_id], alarms[other.venue_id]
    # operator asks the grid worker; the worker confirms on site
    task = client.post(f"/api/v1/alarms/{verified.id}/tasks", headers=users.operator).json()
    clock.advance(40)
    r = client.post(
        f"/api/v1/alarms/tasks/{task['id']}/result",
        headers=users.worker,
        data={"result": "fire", "note": "flames in the kitchen"},
        files={"photo": ("p.jpg", b"\xff\xd8\xff" + b"1" * 32, "image/jpeg")},
    )
    assert r.status_code == 200, r.text
    with db.session() as session:
        (forward,) = pending_forwards(session)
        assert forward.alarm_id == verified.id
        assert forward.probable is False
    # nobody verifies the hotel: 120 s (hotel) after it opened it is forwarded as probable
    clock.advance(79)
    fire_due_timers(db, policy, clock)
    with db.session() as session:
        assert len(pending_forwards(session)) == 1
    clock.advance(1)
    fire_due_timers(db, policy, clock)
    with db.session() as session:
        forwards = pending_forwards(session)
        assert [(f.alarm_id, f.probable) for f in forwards] == [
            (verified.id, False),
            (unverified.id, True),
        ]
        assert forwards[1].forwarded_at - unverified.first_received_at == timedelta(seconds=120)
        assert session.scalar(select(func.count()).select_from(Alarm)) == 2
    detail = client.get(f"/api/v1/alarms/{unverified.id}", headers=users.operator).json()
    assert detail["status"] == "confirmed"
    assert detail["forwarded"] is True
    assert detail["transitions"][-1]["actor"] == "timer:auto_forward"
