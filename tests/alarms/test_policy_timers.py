"""Timers of the policy: catch-up of every escalation level after an outage (frozen clock),
the overdue on-site task, and a chemical plant's fire forwarded as ``hazmat_fire``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from firegrid.accounts.principal import system_principal
from firegrid.alarms import policy_store, verification
from firegrid.alarms.directory import DatabaseDirectory
from firegrid.alarms.lifecycle import decide
from firegrid.alarms.models import (
    Alarm,
    AlarmNotification,
    AlarmTimer,
    AlarmTransition,
    AlarmVerification,
    FeedEntry,
)
from firegrid.alarms.policy_doc import PolicyDocument
from firegrid.alarms.rules import Policy, default_document
from firegrid.alarms.service import Correlator
from firegrid.alarms.timers import fire_due_timers
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from firegrid.places.models import Venue
from tests.accounts.city import City
from tests.alarms.conftest import T0, FrozenClock, Site, feed_events, make_site

NO_FORWARD_SOON = Policy(
    acknowledge_timeout_s=60,
    verify_timeout_s={"default": 300},
    night_occupied_verify_timeout_s=None,
)


def _alarm(db: Database) -> Alarm:
    with db.session() as session:
        return session.scalars(select(Alarm)).one()


def _escalations(db: Database) -> list[tuple[str, str]]:
    with db.session() as session:
        rows = session.scalars(
            select(AlarmNotification)
            .where(AlarmNotification.kind.in_(["escalation", "task_overdue"]))
            .order_by(AlarmNotification.id)
        ).all()
        return [(row.level, row.payload["due_at"]) for row in rows]


# Catch-up after an outage ----------------------------------------------------------------


def test_every_level_due_during_an_outage_is_caught_up_in_order(
    db: Database, site: Site, clock: FrozenClock
) -> None:
    correlator = Correlator(DatabaseDirectory(), policy=NO_FORWARD_SOON, clock=clock)
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    clock.advance(150)  # `alarms run` was down: town (60 s) and city (120 s) both fell due
    outcomes = [o for _, o in fire_due_timers(db, NO_FORWARD_SOON, clock)]
    assert outcomes == ["escalated to town", "escalated to city"]
    assert _escalations(db) == [
        ("town", (T0 + timedelta(seconds=60)).isoformat()),
        ("city", (T0 + timedelta(seconds=120)).isoformat()),
    ]
    assert _alarm(db).escalation_level == "city"
    with db.session() as session:
        feed = session.scalars(
            select(FeedEntry).where(FeedEntry.type == "alarm.escalated").order_by(FeedEntry.id)
        ).all()
        assert [(f.payload["level"], f.payload["due_at"]) for f in feed] == [
            ("town", (T0 + timedelta(seconds=60)).isoformat()),
            ("city", (T0 + timedelta(seconds=120)).isoformat()),
        ]
    clock.advance(10)
    assert fire_due_timers(db, NO_FORWARD_SOON, clock) == []


def test_catch_up_escalates_before_a_later_auto_forward(
    db: Database, site: Site, clock: FrozenClock
) -> None:
    correlator = Correlator(DatabaseDirectory(), policy=NO_FORWARD_SOON, clock=clock)
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    clock.advance(400)  # town (60), city (120) and the auto-forward (300) all fell due
    outcomes = [o for _, o in fire_due_timers(db, NO_FORWARD_SOON, clock)]
    assert outcomes == ["escalated to town", "escalated to city", "forwarded as probable fire"]
    alarm = _alarm(db)
    assert (alarm.status, alarm.escalation_level, alarm.forward_probable) == (
        "confirmed",
        "city",
        True,
    )


# The overdue on-site task ----------------------------------------------------------------


def _ask_worker(db: Database, clock: FrozenClock) -> int:
    with db.session() as session:
        alarm = session.scalars(select(Alarm)).one()
        policy = policy_store.current(session).document.policy
        task = verification.create_task(
            session, system_principal("op"), alarm, note="", now=clock(), policy=policy
        )
        return task.id


def _save(db: Database, **changes: object) -> Policy:
    data = PolicyDocument(*default_document()).as_data()
    data["policy"].update(changes)
    with db.session() as session:
        return policy_store.save(
            session, system_principal("sup"), data, cause="test"
        ).document.policy


def test_overdue_task_escalates_with_a_record(db: Database, site: Site, clock: FrozenClock) -> None:
    correlator = Correlator(DatabaseDirectory(), clock=clock)  # follows the stored policy
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    clock.advance(20)
    task_id = _ask_worker(db, clock)
    with db.session() as session:
        policy = policy_store.current(session).document.policy
    assert policy.task_due_s == 90
    clock.advance(89)  # the escalation timer finds the alarm verifying; the task is not due
    assert [o for _, o in fire_due_timers(db, policy, clock)] == [
        "nothing to do: alarm is verifying"
    ]
    clock.advance(1)
    assert [o for _, o in fire_due_timers(db, policy, clock)] == ["task overdue: escalated to town"]
    alarm = _alarm(db)
    assert (alarm.status, alarm.escalation_level) == ("verifying", "town")
    due = T0 + timedelta(seconds=110)
    assert _escalations(db) == [("town", due.isoformat())]
    with db.session() as session:
        (record,) = session.scalars(
            select(AlarmVerification).where(AlarmVerification.outcome == "no_answer")
        ).all()
        assert (record.actor, record.at, record.task_id, record.decisive) == (
            "system:task_overdue",
            due,
            task_id,
            False,
        )
        assert record.note == f"on-site check {task_id} not reported within 90 s"
        assert session.scalars(select(FeedEntry).where(FeedEntry.type == "task.overdue")).one()
    # the auto-forward still comes at its own time (the task did not hold it)
    clock.advance(200)
    assert "forwarded as probable fire" in [o for _, o in fire_due_timers(db, policy, clock)]


def test_task_holding_the_auto_forward_forwards_when_overdue(
    db: Database, site: Site, clock: FrozenClock
) -> None:
    policy = _save(db, task_due_s=600, task_pauses_auto_forward=True)
    correlator = Correlator(DatabaseDirectory(), clock=clock)
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    clock.advance(30)
    task_id = _ask_worker(db, clock)
    clock.advance(300)  # past every verify timeout: held by the task
    assert all("forward" not in o for _, o in fire_due_timers(db, policy, clock))
    assert _alarm(db).forwarded_at is None
    clock.advance(300)
    outcomes = [o for _, o in fire_due_timers(db, policy, clock)]
    assert outcomes == ["task overdue: escalated to town; forwarded as probable fire"]
    alarm = _alarm(db)
    assert (alarm.status, alarm.forward_probable) == ("confirmed", True)
    with db.session() as session:
        last = session.scalars(select(AlarmTransition).order_by(AlarmTransition.id.desc())).first()
        assert last is not None
        assert (last.to_status, last.actor, last.at) == (
            "confirmed",
            "timer:task_overdue",
            T0 + timedelta(seconds=630),
        )
        assert f"on-site check {task_id} not reported within 600 s" in last.cause
        cancelled = session.scalars(
            select(AlarmTimer).where(AlarmTimer.kind == "auto_forward")
        ).one()
        assert cancelled.outcome == f"cancelled: held by on-site task {task_id}"


# Forwarding map --------------------------------------------------------------------------


def test_chemical_plant_fire_becomes_a_hazmat_fire_incident(
    db: Database, site: Site, clock: FrozenClock
) -> None:
    from firegrid.dispatch.consumers import consume_alarm_forwards
    from firegrid.dispatch.incident_models import Incident
    from firegrid.dispatch.plans import plan_for

    with db.session() as session:
        venue = session.get(Venue, site.venue_id)
        assert venue is not None
        venue.category = "chemical_plant"
    correlator = Correlator(DatabaseDirectory(), clock=clock)
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    with db.session() as session:
        alarm = session.scalars(select(Alarm)).one()
        policy = policy_store.current(session).document.policy
        decide(session, alarm, "fire", method="operator", actor="op", now=clock(), policy=policy)
    with db.session() as session:
        report = consume_alarm_forwards(session)
        assert (report.consumed, report.created) == (1, 1)
        incident = session.scalars(select(Incident)).one()
        assert (incident.incident_type, incident.venue_category) == (
            "hazmat_fire",
            "chemical_plant",
        )
        plan = plan_for(session, "hazmat_fire", "chemical_plant", 1)
        kinds = {r.value for r in plan.requirements}
        assert {"foam", "hazmat"} <= kinds


def test_an_edit_reaches_the_correlator_at_its_next_batch(
    db: Database, city: City, site: Site, clock: FrozenClock
) -> None:
    """In-process: a correlator that already handled a batch takes a new version at its
    next batch (one version check per batch)."""
    correlator = Correlator(DatabaseDirectory(), clock=clock)
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    assert correlator.policy_version == 1
    _save(db, acknowledge_timeout_s=30)
    other = make_site(db, city, "out")
    feed_events(db, correlator, other.ev(K.FIRE_ALARM))
    assert correlator.policy_version == 2
    with db.session() as session:
        alarms = session.scalars(select(Alarm).order_by(Alarm.id)).all()
        timers = session.scalars(
            select(AlarmTimer).where(AlarmTimer.kind == "ack_escalation").order_by(AlarmTimer.id)
        ).all()
        delays: list[float] = [
            (t.due_at - a.first_received_at).total_seconds()
            for t, a in zip(timers, alarms, strict=True)
        ]
    assert delays == [60.0, 30.0]
