"""The correlator's work per batch does not grow with the history of the open alarms it
touches (issue #25): the same batch against alarms of 100 and of 5,000 lines runs the same
statements, loads the same rows and reads no history line back.

Counted with SQLAlchemy's event hooks (statements, rows sent, ORM objects loaded), never
timed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from firegrid.alarms.consumer import AlarmConsumer
from firegrid.alarms.directory import DatabaseDirectory
from firegrid.alarms.foldstate import COLUMNS, LineState, write_lines
from firegrid.alarms.models import Alarm, AlarmEvent
from firegrid.alarms.service import Correlator
from firegrid.core.db import Base, Database
from firegrid.ingest.events import DeviceEvent
from firegrid.ingest.events import EventKind as K
from firegrid.ingest.log_db import DatabaseEventLog
from tests.accounts.city import City
from tests.alarms.conftest import T0, FrozenClock, Site, make_site

BATCH = 60


@dataclass
class Work:
    statements: list[str] = field(default_factory=list)
    rows_sent: int = 0
    orm_loads: int = 0

    @property
    def history_reads(self) -> int:
        return sum(
            1
            for s in self.statements
            if s.lstrip().upper().startswith("SELECT") and "FROM alarm_events" in s
        )

    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.statements), self.rows_sent, self.orm_loads, self.history_reads)


@contextmanager
def counted(db: Database) -> Iterator[Work]:
    work = Work()

    def on_execute(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool
    ) -> None:
        work.statements.append(statement)
        work.rows_sent += len(parameters) if many else 1

    def on_load(_target: Any, _context: Any) -> None:
        work.orm_loads += 1

    event.listen(db.engine, "before_cursor_execute", on_execute)
    event.listen(Base, "load", on_load, propagate=True)
    try:
        yield work
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
        event.remove(Base, "load", on_load)


def fault(site: Site, device: str, point: int, kind: K = K.FAULT, second: int = 0) -> DeviceEvent:
    return site.ev(kind, device, address=point, at=T0 + timedelta(seconds=second))


def grow(db: Database, correlator: Correlator, sites: list[Site], lines: int) -> None:
    """A fault alarm on each site's transmitter and smoke alarm with ``lines`` lines."""
    events = [
        fault(site, device, point)
        for point in range(lines)
        for site in sites
        for device in ("transmitter", "smoke")
    ]
    for start in range(0, len(events), 2000):
        with db.session() as session:
            correlator.process(session, events[start : start + 2000])


def the_batch(sites: list[Site]) -> list[DeviceEvent]:
    """Repeated faults and restores of known points and a few new points, on every alarm."""
    events: list[DeviceEvent] = []
    for n in range(BATCH // 6):
        for site in sites:
            for device in ("transmitter", "smoke"):
                point = n % 5
                events.append(fault(site, device, point, K.FAULT_CLEARED, second=60))
                events.append(fault(site, device, 90_000 + n, K.FAULT, second=61))
    return events[:BATCH]


def measure(db: Database, city: City, lines: int) -> tuple[Work, Work]:
    sites = [make_site(db, city, "in"), make_site(db, city, "out")]
    clock = FrozenClock()
    correlator = Correlator(DatabaseDirectory(), clock=clock, rules_ttl_s=3600)
    grow(db, correlator, sites, lines)
    with db.session() as session:
        assert _line_count(session) == 4 * lines
    batch = the_batch(sites)
    # the correlator that built the alarms (its memory is warm)
    with counted(db) as warm, db.session() as session:
        correlator.process(session, batch[: BATCH // 2])
    # a correlator that just started: its first batch loads each touched alarm's history
    # once; the next batch reads none of it
    restarted = Correlator(DatabaseDirectory(), clock=clock, rules_ttl_s=3600)
    with db.session() as session:
        restarted.process(
            session, [fault(s, d, 1, second=62) for s in sites for d in ("transmitter", "smoke")]
        )
    with counted(db) as after_restart, db.session() as session:
        restarted.process(session, batch[BATCH // 2 :])
    with db.session() as session:
        open_faults = session.scalar(
            select(func.count()).select_from(Alarm).where(Alarm.status != "closed")
        )
        assert open_faults == 4  # folded: one alarm per device
    return warm, after_restart


def _line_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AlarmEvent)) or 0)


def test_batch_work_does_not_grow_with_the_alarms_history(db: Database, city: City) -> None:
    small_warm, small_restart = measure(db, city, 100)
    with db.session() as session:
        session.execute(AlarmEvent.__table__.delete())
        session.execute(Alarm.__table__.delete())
    big_warm, big_restart = measure(db, city, 5000)
    assert big_warm.shape() == small_warm.shape(), (small_warm.shape(), big_warm.shape())
    assert big_restart.shape() == small_restart.shape()
    for work in (small_warm, big_warm, small_restart, big_restart):
        assert work.history_reads == 0  # no line is read back
        assert work.orm_loads <= 4 + 2 + 2  # the 4 alarms, 2 venues' rows at most
        assert work.rows_sent < 3 * BATCH


def test_sqlite_write_transaction_reads_no_history(db: Database, city: City) -> None:
    """On SQLite (one writer at a time) a restarted consumer reads the history of the
    alarms a batch touches before it takes the write lock, not while it holds it."""
    if not db.is_sqlite:
        pytest.skip("the read-ahead is SQLite's (PostgreSQL has row locks)")
    sites = [make_site(db, city, "in"), make_site(db, city, "out")]
    clock = FrozenClock()
    grow(db, Correlator(DatabaseDirectory(), clock=clock, rules_ttl_s=3600), sites, 300)

    async def scenario() -> Work:
        log = DatabaseEventLog(db)
        await log.start()
        try:
            await log.append_batch(the_batch(sites))
            logged = await log.read(0, 1000)
        finally:
            await log.close()
        restarted = Correlator(DatabaseDirectory(), clock=clock, rules_ttl_s=3600)
        consumer = AlarmConsumer(db, log, restarted)
        with counted(db) as work:
            assert consumer.handle(logged) is not None
        return work

    work = asyncio.run(scenario())
    lock = next(i for i, s in enumerate(work.statements) if "alarm_consumer_state" in s)
    before, inside = work.statements[:lock], work.statements[lock:]
    assert any("FROM alarm_events" in s for s in before)  # read first
    assert not any("FROM alarm_events" in s for s in inside)
    assert not any("FROM venues" in s or "FROM devices" in s for s in inside)


def _lines(session: Session) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = session.execute(
        select(
            Alarm.kind,
            AlarmEvent.source_key,
            AlarmEvent.count,
            AlarmEvent.last_event_id,
            AlarmEvent.last_at,
            AlarmEvent.values,
        ).join(Alarm, Alarm.id == AlarmEvent.alarm_id)
    )
    return {(row[0], row[1]): tuple(row[2:]) for row in rows}


def test_lines_changed_in_later_batches_hold_what_one_batch_writes(
    db: Database, city: City
) -> None:
    """A line updated batch after batch (the stored lines' ``UPDATE``) ends with the count,
    last event, time and values that folding every event in one batch writes (the
    ``INSERT``): one event per batch against all of them at once."""
    site = make_site(db, city, "in")
    events = [
        site.ev(
            K.FAULT if step % 2 == 0 else K.FAULT_CLEARED,
            device,
            address=point,
            at=T0 + timedelta(seconds=step),
            values={"step": step, "point": point},
        )
        for step in range(5)
        for point in range(3)
        for device in ("transmitter", "smoke")
    ]
    clock = FrozenClock()
    one_by_one = Correlator(DatabaseDirectory(), clock=clock, rules_ttl_s=3600)
    for item in events:
        with db.session() as session:
            one_by_one.process(session, [item])
    with db.session() as session:
        updated = _lines(session)
        session.execute(AlarmEvent.__table__.delete())
        session.execute(Alarm.__table__.delete())
    at_once = Correlator(DatabaseDirectory(), clock=clock, rules_ttl_s=3600)
    with db.session() as session:
        at_once.process(session, events)
    with db.session() as session:
        inserted = _lines(session)
    assert len(inserted) == 12  # a line per point, device and kind (fault, cleared)
    assert sum(line[0] for line in inserted.values()) == len(events)  # every event folded
    assert {line[0] for line in inserted.values()} == {3, 2}  # lines updated, not only added
    assert updated == inserted


def test_new_lines_keep_their_order_and_every_column(db: Database, city: City) -> None:
    """The new lines of a batch are stored in the batch's order (the history is read back
    by id) with every column as held, a missing device id and non-ASCII text included."""
    site = make_site(db, city, "in")
    correlator = Correlator(DatabaseDirectory(), clock=FrozenClock(), rules_ttl_s=3600)
    with db.session() as session:
        correlator.process(session, [fault(site, "transmitter", 1)])
        alarm_id = session.scalar(select(AlarmEvent.alarm_id))
    lines = []
    for n, key in enumerate(["k9", "k2", "k7", "k1"]):
        line = LineState()
        line.alarm_id, line.source_key, line.stored = alarm_id, key, False
        line.first_event_id, line.last_event_id = f"first-{key}", f"last-{key}"
        line.kind, line.device_id, line.device_kind = "fault", (None if n == 1 else n), "smoke"
        line.component, line.zone, line.description = f"1/1/30/{n}", "一区", "烟感 故障"
        line.count, line.values = n + 1, {"读数": n, "nested": {"a": [1, 2]}}
        line.first_at = T0 + timedelta(seconds=n)
        line.last_at = T0 + timedelta(seconds=10 + n)
        line.received_at = T0 + timedelta(seconds=20 + n)
        lines.append(line)
    with db.engine.begin() as connection:
        write_lines(connection, lines)
    assert all(line.stored for line in lines)
    with db.session() as session:
        rows = session.scalars(
            select(AlarmEvent)
            .where(AlarmEvent.source_key.in_(["k9", "k2", "k7", "k1"]))
            .order_by(AlarmEvent.id)
        ).all()
        stored = [{name: getattr(row, name) for name in COLUMNS} for row in rows]
    assert stored == [line.row() for line in lines]


def test_folded_counters_are_written_in_one_statement_and_stored(db: Database, city: City) -> None:
    """A batch that only folds events into open alarms leaves the flush no alarm to update
    (their counters go in one statement), and the rows hold what the objects hold: event
    and component counts, last event time; a new alarm is still inserted by the flush."""
    sites = [make_site(db, city, "in"), make_site(db, city, "out")]
    correlator = Correlator(DatabaseDirectory(), clock=FrozenClock(), rules_ttl_s=3600)
    grow(db, correlator, sites, 3)  # 4 open fault alarms of 3 points each
    batch = [
        fault(site, device, 100 + n, second=30 + n)
        for n in range(5)
        for site in sites
        for device in ("transmitter", "smoke")
    ]
    with counted(db) as work, db.session() as session:
        correlator.process(session, batch)
    alarm_updates = [s for s in work.statements if s.lstrip().upper().startswith("UPDATE ALARMS ")]
    assert alarm_updates == []
    with db.session() as session:
        rows = session.execute(
            select(Alarm.event_count, Alarm.component_count, Alarm.last_event_at).where(
                Alarm.status != "closed"
            )
        ).all()
    assert len(rows) == 4
    for event_count, component_count, last_event_at in rows:
        assert event_count == 3 + 5
        assert component_count == 3 + 5
        assert last_event_at == T0 + timedelta(seconds=34)


def test_an_escalation_committed_during_a_batch_is_not_written_back(
    db: Database, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timers move an alarm's escalation level in their own transaction; a batch that
    loaded the alarm before and folds into it after must not write the old level back."""
    if db.is_sqlite:
        pytest.skip("SQLite has one writer: the timers wait for the batch")
    site = make_site(db, city, "in")
    correlator = Correlator(DatabaseDirectory(), clock=FrozenClock(), rules_ttl_s=3600)
    with db.session() as session:
        correlator.process(session, [site.ev(K.FIRE_ALARM, "smoke", at=T0)])
        alarm_id = session.scalar(select(Alarm.id).where(Alarm.kind == "fire"))
    original = Correlator._windows

    def escalate_meanwhile(self: Correlator, session: Session, alarms: list[Alarm]) -> Any:
        with db.engine.begin() as other:  # the timer loop's transaction, committed
            other.execute(
                Alarm.__table__.update()
                .where(Alarm.__table__.c.id == alarm_id)
                .values(escalation_level="town")
            )
        return original(self, session, alarms)

    monkeypatch.setattr(Correlator, "_windows", escalate_meanwhile)
    with db.session() as session:
        correlator.process(session, [site.ev(K.FIRE_ALARM, "smoke", at=T0 + timedelta(seconds=5))])
    with db.session() as session:
        level, count = session.execute(
            select(Alarm.escalation_level, Alarm.event_count).where(Alarm.id == alarm_id)
        ).one()
    assert count == 2  # the event was folded into the alarm
    assert level == "town"


def test_sqlite_read_ahead_loads_no_alarm_object(db: Database, city: City) -> None:
    """The read before the write lock needs the open alarms' ids and event counts only (to
    know whose history to load): it reads them as columns, and the write transaction loads
    each touched alarm once."""
    sites = [make_site(db, city, "in"), make_site(db, city, "out")]
    clock = FrozenClock()
    grow(db, Correlator(DatabaseDirectory(), clock=clock, rules_ttl_s=3600), sites, 50)
    restarted = Correlator(DatabaseDirectory(), clock=clock, rules_ttl_s=3600)
    loaded: list[object] = []

    def on_load(target: object, _context: Any) -> None:
        loaded.append(target)

    event.listen(Alarm, "load", on_load)
    try:
        with counted(db) as work, db.sessions() as session:
            restarted.prefetch(session, the_batch(sites))
        assert loaded == []
        assert work.history_reads == 1  # the four alarms' lines, read once, before the lock
        assert restarted.states_held == 4
        with counted(db) as work, db.session() as session:
            restarted.process(session, the_batch(sites))
        assert len(loaded) == 4
        assert work.history_reads == 0
    finally:
        event.remove(Alarm, "load", on_load)


def test_a_full_memory_starts_over_and_loads_every_touched_alarm(
    db: Database, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When held fold states reach ``MAX_STATES`` the correlator drops them all; the batch
    that found one out of date then loads every alarm it touches, not only that one."""
    sites = [make_site(db, city, "in"), make_site(db, city, "out")]
    clock = FrozenClock()
    first = Correlator(DatabaseDirectory(), clock=clock, rules_ttl_s=3600)
    grow(db, first, sites, 3)
    assert first.states_held == 4
    other = Correlator(DatabaseDirectory(), clock=clock, rules_ttl_s=3600)
    with db.session() as session:  # another process folds one event: one state goes stale
        other.process(session, [fault(sites[0], "smoke", 7, second=30)])
    monkeypatch.setattr("firegrid.alarms.service.MAX_STATES", 4)
    batch = [fault(s, d, 8, second=31) for s in sites for d in ("transmitter", "smoke")]
    with db.session() as session:
        first.process(session, batch)
    assert first.states_held == 4
    with db.session() as session:
        counts = sorted(session.scalars(select(Alarm.event_count)))
        assert counts == [4, 4, 4, 5]
        assert _line_count(session) == 4 * 3 + 1 + 4
