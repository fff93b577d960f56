"""Restart in the middle of a storm folds the same as no restart (issue #25).

One storm (faults and restores of many points, fires, supervisory signals, pressure
readings, resets) is stored in the event log (the database log, and JetStream), then
correlated twice from the same log:

- straight: the log in order, one batch after another (no priority lane, no restart);
- broken: a consumer with a small batch and look-ahead (so its priority lane runs ahead of
  the backlog) handles part of it and stops; a correlator dies inside a transaction (rolled
  back); a new consumer with empty memory and a second consumer (another process) take
  turns on the rest, so each finds the other moved the offsets and the alarms under it.

Both end with the same alarms (kind, status, counts, rule hits), the same history lines
(counts, last event, values), the same work orders, transitions, timer kinds and feed
entries that do not depend on batch boundaries, and every event counted once.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from firegrid.alarms.consumer import AlarmConsumer
from firegrid.alarms.directory import DatabaseDirectory
from firegrid.alarms.models import (
    Alarm,
    AlarmEvent,
    AlarmTimer,
    AlarmTransition,
    ConsumerState,
    FeedEntry,
    WorkOrder,
)
from firegrid.alarms.service import Correlator
from firegrid.core.db import Base, Database
from firegrid.ingest.events import DeviceEvent
from firegrid.ingest.events import EventKind as K
from firegrid.ingest.log import EventLog
from tests.accounts.city import City
from tests.alarms.conftest import T0, FrozenClock, Site, make_site
from tests.ingest.conftest import log_backend, make_log, stream_name  # noqa: F401

EVENTS = 3000
ALARM_TABLES = (
    "alarms",
    "alarm_events",
    "alarm_transitions",
    "alarm_timers",
    "alarm_verifications",
    "alarm_forwards",
    "verification_tasks",
    "work_orders",
    "alarm_feed",
    "alarm_notifications",
    "alarm_consumer_state",
)


def storm(sites: list[Site]) -> list[DeviceEvent]:
    """Synthetic storm: mostly faults and restores of 64 points per device."""
    rng = random.Random(25)
    in_fault: set[tuple[int, int]] = set()
    events: list[DeviceEvent] = []
    for n in range(EVENTS):
        site = sites[rng.randrange(len(sites))]
        at = T0 + timedelta(seconds=n * 0.2)
        roll = rng.random()
        if roll < 0.75:
            device = rng.choice(["transmitter", "smoke", "sprinkler"])
            point = rng.randrange(64)
            key = (getattr(site, device), point)
            kind = K.FAULT_CLEARED if key in in_fault else K.FAULT
            (in_fault.discard if key in in_fault else in_fault.add)(key)
            events.append(site.ev(kind, device, address=point, at=at))
        elif roll < 0.85:
            pressure = round(rng.uniform(0.0, 0.6), 3)
            events.append(
                site.ev(K.ANALOG_VALUE, "sprinkler", at=at, values={"pressure_mpa": pressure})
            )
        elif roll < 0.93:
            events.append(site.ev(K.FIRE_ALARM, "smoke", address=rng.randrange(6), at=at))
        elif roll < 0.97:
            events.append(site.ev(K.SUPERVISORY, "sprinkler", at=at))
        else:
            events.append(site.ev(K.RESET, "transmitter", at=at))
    return events


def snapshot(db: Database) -> dict[str, Any]:
    with db.session() as session:
        alarms = session.scalars(select(Alarm).order_by(Alarm.fold_key, Alarm.opened_at)).all()
        keys = {a.id: (a.fold_key, a.opened_at) for a in alarms}
        lines = {
            (keys[line.alarm_id], line.source_key): (
                line.count,
                line.first_event_id,
                line.last_event_id,
                line.values,
            )
            for line in session.scalars(select(AlarmEvent)).all()
        }
        timers = Counter(
            (keys[t.alarm_id], t.kind)
            for t in session.scalars(select(AlarmTimer)).all()
            if t.alarm_id is not None
        )
        transitions = Counter(
            (keys[t.alarm_id], t.from_status, t.to_status, t.actor)
            for t in session.scalars(select(AlarmTransition)).all()
        )
        orders = Counter(
            (keys[o.alarm_id], o.kind, o.status)
            for o in session.scalars(select(WorkOrder)).all()
            if o.alarm_id is not None
        )
        feed = Counter(
            (keys[f.alarm_id], f.type)
            for f in session.scalars(select(FeedEntry)).all()
            if f.alarm_id is not None and f.type != "alarm.updated"  # one per batch touched
        )
        state = session.get(ConsumerState, "alarms")
        return {
            "alarms": [
                (
                    a.fold_key,
                    a.kind,
                    a.status,
                    a.event_count,
                    a.component_count,
                    a.priority,
                    sorted(a.rule_hits or []),
                    a.cleared_at,
                    a.escalation_level,
                    a.last_event_at,
                )
                for a in alarms
            ],
            "lines": lines,
            "timers": timers,
            "transitions": transitions,
            "orders": orders,
            "feed": feed,
            "events_counted": state.events if state is not None else 0,
        }


def reset(db: Database) -> None:
    with db.session() as session:
        for name in ALARM_TABLES:
            session.execute(Base.metadata.tables[name].delete())


def new_correlator(clock: FrozenClock) -> Correlator:
    return Correlator(DatabaseDirectory(), clock=clock, rules_ttl_s=3600)


class Crash(Exception):
    pass


async def straight(db: Database, log: EventLog, clock: FrozenClock) -> int:
    """The reference: the log in order, batch after batch, no lanes, no restart."""
    consumer = AlarmConsumer(db, log, new_correlator(clock))
    offset = handled = 0
    while batch := await log.read(offset, 1000):
        assert await asyncio.to_thread(consumer.handle, batch) is not None
        offset = batch[-1].offset
        handled += len(batch)
    return handled


async def broken(db: Database, log: EventLog, clock: FrozenClock) -> None:
    small = {"batch": 150, "priority_batch": 40, "lookahead": 900}
    first = AlarmConsumer(db, log, new_correlator(clock), **small)
    for _ in range(6):
        await first.step()
    offset, priority = first.stored_offsets()
    assert 0 < offset < priority < EVENTS  # stopped mid-storm, the priority lane ahead
    # a correlator dies inside a transaction: nothing of it stays
    dying = new_correlator(clock)
    pending = await log.read(offset, 200)

    def die() -> None:
        with db.session() as session:
            dying.process(session, [item.event for item in pending])
            raise Crash

    with pytest.raises(Crash):
        die()
    # restarted with empty memory, and a second process taking turns with it
    again = AlarmConsumer(db, log, new_correlator(clock), **small)
    other = AlarmConsumer(db, log, new_correlator(clock), batch=100, lookahead=300)
    for _ in range(5):
        await again.step()
        await other.step()
    await again.drain()
    await other.drain()


@pytest.mark.timeout(600)
def test_restart_mid_storm_folds_as_without_restart(
    db: Database,
    city: City,
    site: Site,
    log_backend: str,  # noqa: F811
    stream_name: str,  # noqa: F811
) -> None:
    sites = [site, make_site(db, city, "out")]
    clock = FrozenClock()

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], int]:
        log = make_log(db, log_backend, stream_name)
        await log.start()
        try:
            events = storm(sites)
            for start in range(0, len(events), 500):
                await log.append_batch(events[start : start + 500])
            handled = await straight(db, log, clock)
            once = await asyncio.to_thread(snapshot, db)
            await asyncio.to_thread(reset, db)
            await broken(db, log, clock)
            twice = await asyncio.to_thread(snapshot, db)
            return once, twice, handled
        finally:
            await log.close()

    once, twice, handled = asyncio.run(scenario())
    assert handled == EVENTS
    assert once["events_counted"] == EVENTS
    assert len(once["alarms"]) == 8  # 6 devices in fault, 2 venues with a fire
    assert sum(count for count, *_ in once["lines"].values()) > EVENTS // 2
    assert any(t[2] == "confirmed" for t in once["alarms"])  # rules ran
    for part in ("alarms", "lines", "timers", "transitions", "orders", "feed", "events_counted"):
        assert twice[part] == once[part], part
