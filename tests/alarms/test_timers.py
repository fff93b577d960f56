"""Timers stored in the database, driven by a frozen clock: escalation and auto-forward."""

from __future__ import annotations

import threading

from sqlalchemy import select

from firegrid.alarms.directory import DatabaseDirectory
from firegrid.alarms.lifecycle import transition
from firegrid.alarms.models import Alarm, AlarmNotification, AlarmTimer
from firegrid.alarms.rules import Policy
from firegrid.alarms.service import Correlator
from firegrid.alarms.states import AlarmStatus
from firegrid.alarms.timers import claim, fire_due_timers, fire_timer
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from firegrid.places.models import Venue
from tests.alarms.conftest import T0, FrozenClock, Site, feed_events


def _alarm(db: Database) -> Alarm:
    with db.session() as session:
        return session.scalars(select(Alarm)).one()


def _escalations(db: Database) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(AlarmNotification.level)
                .where(AlarmNotification.kind == "escalation")
                .order_by(AlarmNotification.id)
            ).all()
        )


def test_escalation_village_town_city(
    db: Database, site: Site, correlator: Correlator, clock: FrozenClock, policy: Policy
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    assert _alarm(db).escalation_level == "village"
    clock.advance(59)
    assert fire_due_timers(db, policy, clock) == []
    clock.advance(1)
    assert [o for _, o in fire_due_timers(db, policy, clock)] == ["escalated to town"]
    clock.advance(60)
    assert [o for _, o in fire_due_timers(db, policy, clock)] == ["escalated to city"]
    assert _escalations(db) == ["town", "city"]
    alarm = _alarm(db)
    assert alarm.escalation_level == "city"
    with db.session() as session:
        (town, city) = session.scalars(
            select(AlarmNotification.target_path)
            .where(AlarmNotification.kind == "escalation")
            .order_by(AlarmNotification.id)
        ).all()
    assert site.path.startswith(city)
    assert site.path.startswith(town)
    assert len(town) > len(city)


def test_acknowledge_stops_escalation(
    db: Database, site: Site, correlator: Correlator, clock: FrozenClock, policy: Policy
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    clock.advance(30)
    with db.session() as session:
        alarm = session.scalars(select(Alarm)).one()
        transition(session, alarm, AlarmStatus.ACKNOWLEDGED, actor="op", cause="ack", now=clock())
    clock.advance(100)
    assert fire_due_timers(db, policy, clock) == []
    assert _escalations(db) == []


def test_unverified_fire_is_auto_forwarded(
    db: Database, site: Site, correlator: Correlator, clock: FrozenClock, policy: Policy
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    with db.session() as session:
        alarm = session.scalars(select(Alarm)).one()
        transition(session, alarm, AlarmStatus.ACKNOWLEDGED, actor="op", cause="ack", now=clock())
    clock.advance(179)
    fire_due_timers(db, policy, clock)
    assert _alarm(db).status == "acknowledged"
    clock.advance(1)
    assert [o for _, o in fire_due_timers(db, policy, clock)] == ["forwarded as probable fire"]
    alarm = _alarm(db)
    assert alarm.status == "confirmed"
    assert alarm.forward_probable
    assert alarm.forwarded_at == T0 + (clock.now - T0)


def test_verify_timeout_per_category_and_night_occupied(
    db: Database, site: Site, correlator: Correlator, clock: FrozenClock, policy: Policy
) -> None:
    assert policy.verify_timeout_for("factory") == 180
    assert policy.verify_timeout_for("hospital") == 120
    assert policy.verify_timeout_for("factory", ["night_occupied"]) == 120
    with db.session() as session:
        venue = session.get(Venue, site.venue_id)
        assert venue is not None
        venue.category = "hotel"
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    clock.advance(120)
    fire_due_timers(db, policy, clock)
    assert _alarm(db).forwarded_at is not None


def test_a_decided_alarm_is_not_forwarded_by_its_timer(
    db: Database, site: Site, correlator: Correlator, clock: FrozenClock, policy: Policy
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    with db.session() as session:
        alarm = session.scalars(select(Alarm)).one()
        transition(
            session,
            alarm,
            AlarmStatus.FALSE_ALARM,
            actor="op",
            cause="dust",
            now=clock(),
            reason="dust",
        )
    clock.advance(3600)
    assert fire_due_timers(db, policy, clock) == []  # cancelled with the decision
    assert _alarm(db).forwarded_at is None


def test_two_workers_claim_a_timer_once(
    db: Database, site: Site, correlator: Correlator, clock: FrozenClock
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    with db.session() as session:
        timer_id = session.scalars(select(AlarmTimer.id).order_by(AlarmTimer.id)).first()
    assert timer_id is not None
    with db.session() as first:
        assert claim(first, timer_id, clock(), "a") is not None
    with db.session() as second:
        assert claim(second, timer_id, clock(), "b") is None


def test_a_second_worker_waits_for_an_escalation_another_is_firing(
    db: Database, site: Site, correlator: Correlator, clock: FrozenClock, policy: Policy
) -> None:
    """After an outage, the town and city escalations and the auto-forward are all due.
    Worker A holds the town escalation (claimed, not yet committed) when worker B runs: B
    must wait for it and leave the auto-forward until the city escalation A's step created
    has fired. (B used to skip the locked row on PostgreSQL and forward first; the
    escalations then found a decided alarm and nobody at town or city was told.)"""
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    clock.advance(200)  # town due at 60 s, city at 120 s, the auto-forward at 180 s
    with db.session() as session:
        town_id = session.scalars(
            select(AlarmTimer.id).where(AlarmTimer.kind == "ack_escalation")
        ).one()
    worker_b: list[tuple[int, str]] = []
    with db.session() as a:
        town = claim(a, town_id, clock(), "a")
        assert town is not None
        b = threading.Thread(
            target=lambda: worker_b.extend(fire_due_timers(db, policy, clock, worker="b"))
        )
        b.start()
        b.join(timeout=1.0)  # B lists the timers and waits on the one A holds
        assert fire_timer(a, town, policy, clock()) == "escalated to town"
    b.join(timeout=30)
    assert not b.is_alive()
    assert [outcome for _, outcome in worker_b] == [
        "escalated to city",
        "forwarded as probable fire",
    ]
    assert _escalations(db) == ["town", "city"]
    assert _alarm(db).forward_probable


def test_timers_survive_a_restart(
    db: Database, site: Site, clock: FrozenClock, policy: Policy
) -> None:
    """The first process opens the alarm and dies; a fresh one fires its timers on time."""
    first = Correlator(DatabaseDirectory(), policy=policy, clock=clock)
    feed_events(db, first, site.ev(K.FIRE_ALARM))
    del first
    restarted = Database(db.url)  # a new engine, as after a restart
    try:
        clock.advance(61)
        assert [o for _, o in fire_due_timers(restarted, policy, clock)] == ["escalated to town"]
        clock.advance(120)
        outcomes = [o for _, o in fire_due_timers(restarted, policy, clock)]
        assert "forwarded as probable fire" in outcomes
    finally:
        restarted.dispose()
    assert _alarm(db).forward_probable
