"""Folding: one venue's storm is one alarm; faults fold per device and are counted."""

from __future__ import annotations

from sqlalchemy import func, select

from firegrid.alarms.models import Alarm, AlarmEvent, FeedEntry, WorkOrder
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from tests.alarms.conftest import T0, FrozenClock, Site, feed_events


def _alarms(db: Database) -> list[Alarm]:
    with db.session() as session:
        return list(session.scalars(select(Alarm).order_by(Alarm.id)).all())


def test_forty_detectors_are_one_fire_alarm(
    db: Database, site: Site, correlator: Correlator
) -> None:
    events = [site.ev(K.FIRE_ALARM, address=a, loop=a % 4) for a in range(40)]
    feed_events(db, correlator, *events[:25])
    feed_events(db, correlator, *events[25:])
    alarms = _alarms(db)
    assert len(alarms) == 1
    alarm = alarms[0]
    assert (alarm.kind, alarm.event_count, alarm.component_count) == ("fire", 40, 40)
    with db.session() as session:
        lines = session.scalar(select(func.count()).select_from(AlarmEvent))
        assert lines == 40
        types = session.scalars(select(FeedEntry.type).order_by(FeedEntry.id)).all()
    assert types[0] == "alarm.new"


def test_fault_storm_folds_per_device_and_counts(
    db: Database, site: Site, correlator: Correlator
) -> None:
    storm = [site.ev(K.FAULT, "smoke", address=1) for _ in range(50)]
    storm += [site.ev(K.FAULT, "sprinkler", address=2) for _ in range(30)]
    feed_events(db, correlator, *storm[:40])
    feed_events(db, correlator, *storm[40:])
    alarms = _alarms(db)
    assert sorted((a.kind, a.device_id, a.event_count) for a in alarms) == sorted(
        [("fault", site.smoke, 50), ("fault", site.sprinkler, 30)]
    )
    with db.session() as session:
        counts = sorted(session.scalars(select(AlarmEvent.count)).all())
        assert counts == [30, 50]  # counted, not repeated
        orders = session.scalars(select(WorkOrder)).all()
        assert len(orders) == 2  # one work order per faulty device
        assert {o.assignee_kind for o in orders} == {"grid_worker"}
        updates = session.scalar(
            select(func.count()).select_from(FeedEntry).where(FeedEntry.type == "alarm.updated")
        )
        assert updates == 0  # a repeated fault does not flood the feed


def test_context_events_never_open_an_alarm(
    db: Database, site: Site, correlator: Correlator
) -> None:
    feed_events(
        db,
        correlator,
        site.ev(K.RESET),
        site.ev(K.ANALOG_VALUE, "sprinkler"),
        site.ev(K.FAULT_CLEARED, "smoke"),
        site.ev(K.HEARTBEAT),
        site.ev(K.ONLINE),
    )
    assert _alarms(db) == []


def test_fold_window_after_a_false_alarm(
    db: Database, site: Site, correlator: Correlator, clock: FrozenClock
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, at=T0))
    with db.session() as session:
        alarm = session.scalars(select(Alarm)).one()
        from firegrid.alarms.lifecycle import decide

        decide(
            session,
            alarm,
            "false_alarm",
            method="operator",
            actor="op",
            now=T0,
            policy=correlator.policy,
            reason="cooking",
        )
    # within the window: folds into the decided alarm
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, at=T0.replace(minute=1), address=2))
    assert len(_alarms(db)) == 1
    # after the window: a new alarm
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, at=T0.replace(minute=10), address=3))
    alarms = _alarms(db)
    assert [a.status for a in alarms] == ["false_alarm", "new"]


def test_supervisory_then_fire_upgrades_the_venue_alarm(
    db: Database, site: Site, correlator: Correlator
) -> None:
    feed_events(db, correlator, site.ev(K.SUPERVISORY, "sprinkler"))
    assert [a.kind for a in _alarms(db)] == ["supervisory"]
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, "smoke"))
    alarms = _alarms(db)
    assert [a.kind for a in alarms] == ["fire"]
    # the smoke + sprinkler rule confirms it and it is forwarded
    assert alarms[0].status == "confirmed"
    assert alarms[0].forwarded_at is not None


def test_cleared_fault_is_recorded(db: Database, site: Site, correlator: Correlator) -> None:
    feed_events(db, correlator, site.ev(K.OFFLINE, "smoke"))
    feed_events(db, correlator, site.ev(K.ONLINE, "smoke"))
    (alarm,) = _alarms(db)
    assert alarm.cleared_at is not None
    feed_events(db, correlator, site.ev(K.OFFLINE, "smoke"))
    (alarm,) = _alarms(db)
    assert alarm.cleared_at is None
    assert alarm.event_count == 3
