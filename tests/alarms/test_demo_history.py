"""The demo city's seeded year of alarms: consistent with the state machine, read by the
statistics and the risk inputs, and never in the way of a live alarm."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from firegrid.accounts.principal import system_principal
from firegrid.alarms import demo
from firegrid.alarms.directory import DatabaseDirectory
from firegrid.alarms.models import (
    Alarm,
    AlarmEvent,
    AlarmForward,
    AlarmTimer,
    AlarmTransition,
    AlarmVerification,
    FeedEntry,
)
from firegrid.alarms.rules import default_policy
from firegrid.alarms.service import Correlator
from firegrid.alarms.states import ALLOWED_TRANSITIONS, AlarmStatus, FalseReason
from firegrid.alarms.stats import alarm_stats
from firegrid.core.db import Database
from firegrid.core.errors import Conflict
from firegrid.demo import DemoSpec, build_demo_city
from firegrid.devices.models import Device
from firegrid.ingest.events import EventKind
from firegrid.inspections.demo import generate_inspections
from firegrid.risk.inputs import alarm_facts
from tests.alarms.conftest import FrozenClock, event

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
SEED = 7


@pytest.fixture
def history(db: Database) -> dict[str, int]:
    build_demo_city(db, DemoSpec.tiny(), SEED)
    generate_inspections(db, SEED, now=NOW)
    return demo.generate_alarm_history(db, SEED, now=NOW)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def test_history_follows_the_state_machine(db: Database, history: dict[str, int]) -> None:
    assert history["fire_alarms"] > 0
    assert history["fault_alarms"] > 0
    assert history["confirmed_fires"] + history["false_alarms"] == history["fire_alarms"]
    with db.session() as session:
        alarms = {a.id: a for a in session.scalars(select(Alarm))}
        steps: dict[int, list[AlarmTransition]] = defaultdict(list)
        for t in session.scalars(select(AlarmTransition).order_by(AlarmTransition.id)):
            steps[t.alarm_id].append(t)
        decisive = dict(
            session.execute(
                select(AlarmVerification.alarm_id, func.count())
                .where(AlarmVerification.decisive.is_(True))
                .group_by(AlarmVerification.alarm_id)
            ).all()
        )
        forwards = {f.alarm_id: f for f in session.scalars(select(AlarmForward))}
        lines = session.scalar(select(func.count()).select_from(AlarmEvent))
        timers = session.scalar(select(func.count()).select_from(AlarmTimer))
        feed = session.scalar(select(func.count()).select_from(FeedEntry))
    assert len(alarms) == history["alarms"] == lines
    assert timers == 0
    assert feed == 0
    reasons = {r.value for r in FalseReason}
    for alarm_id, alarm in alarms.items():
        assert alarm.status == AlarmStatus.CLOSED
        opened = _aware(alarm.opened_at)
        assert NOW - timedelta(days=366) <= opened < NOW
        path = steps[alarm_id]
        assert path[0].from_status == AlarmStatus.NEW
        assert path[-1].to_status == "closed"
        for before, after in itertools.pairwise(path):
            assert after.from_status == before.to_status
            assert _aware(before.at) <= _aware(after.at)
        for t in path:
            assert AlarmStatus(t.to_status) in ALLOWED_TRANSITIONS[AlarmStatus(t.from_status)]
            assert "seeded history" in t.actor
        assert opened <= _aware(path[0].at) <= _aware(alarm.closed_at or NOW) <= NOW
        if alarm.kind == "fire":
            assert decisive.get(alarm_id) == 1
            confirmed = alarm.false_reason == ""
            assert (alarm_id in forwards) == confirmed == (alarm.forwarded_at is not None)
            assert confirmed or alarm.false_reason in reasons
            assert any(t.to_status == ("confirmed" if confirmed else "false_alarm") for t in path)
        else:
            assert alarm.device_id is not None
            assert alarm.cleared_at is not None
            assert [t.to_status for t in path] == ["fault", "closed"]
    assert all(f.consumed_at is not None for f in forwards.values())  # not re-dispatched


def test_history_is_reproducible_and_loads_once(db: Database, history: dict[str, int]) -> None:
    with db.session() as session:
        first = session.execute(
            select(Alarm.venue_id, Alarm.kind, Alarm.opened_at, Alarm.false_reason).order_by(
                Alarm.id
            )
        ).all()
    with pytest.raises(Conflict, match="alarms"):
        demo.generate_alarm_history(db, SEED, now=NOW)
    with db.engine.begin() as connection:
        for model in reversed(demo.TABLES):
            connection.execute(model.__table__.delete())  # type: ignore[attr-defined]
    assert demo.generate_alarm_history(db, SEED, now=NOW) == history
    with db.session() as session:
        again = session.execute(
            select(Alarm.venue_id, Alarm.kind, Alarm.opened_at, Alarm.false_reason).order_by(
                Alarm.id
            )
        ).all()
    assert again == first


def test_statistics_and_risk_read_the_history(db: Database, history: dict[str, int]) -> None:
    with db.session() as session:
        stats = alarm_stats(session, system_principal())
        warnings: list[str] = []
        sources: dict[str, str] = {}
        facts = alarm_facts(session, NOW, None, warnings, sources)
        with_detectors = set(
            session.scalars(
                select(Device.venue_id).where(Device.kind.in_(demo.DETECTOR_KINDS))
            ).all()
        )
    assert stats["alarms"] == history["alarms"]
    overall = stats["false_alarm_rate"]["overall"]
    assert overall["decided"] == history["fire_alarms"]
    assert overall["false_alarms"] == history["false_alarms"]
    assert overall["rate"] > 0.9  # most automatic fire alarms are false
    assert set(stats["false_alarm_rate"]["by_cause"]) <= {r.value for r in FalseReason}
    assert 10 < stats["time_to_acknowledge"]["median_s"] < 40
    assert facts is not None
    assert not warnings
    assert set(facts["venue_id"].to_list()) <= with_detectors
    assert facts["fire_alarms_90d"].sum() > 0
    rates = facts["false_alarm_rate"].drop_nulls()
    assert rates.len() > 0
    assert rates.min() >= 0
    assert rates.max() <= 1


def test_a_live_fire_opens_a_new_alarm_beside_the_history(
    db: Database, history: dict[str, int]
) -> None:
    with db.session() as session:
        venue_id, device_id, path = session.execute(
            select(Alarm.venue_id, AlarmEvent.device_id, Alarm.jurisdiction_path)
            .join(AlarmEvent, AlarmEvent.alarm_id == Alarm.id)
            .where(Alarm.kind == "fire")
            .order_by(Alarm.opened_at.desc())
            .limit(1)
        ).one()
    clock = FrozenClock(NOW)
    correlator = Correlator(DatabaseDirectory(), policy=default_policy(), clock=clock)
    live = event(EventKind.FIRE_ALARM, venue_id=venue_id, device_id=device_id, path=path, at=NOW)
    with db.session() as session:
        correlator.process(session, [live])
    with db.session() as session:
        newest = session.scalars(select(Alarm).order_by(Alarm.id.desc()).limit(1)).one()
    assert newest.id == history["alarms"] + 1  # the id sequence moved past the history
    assert (newest.venue_id, newest.status, newest.kind) == (venue_id, "new", "fire")
