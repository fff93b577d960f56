"""The alarm state machine: every allowed transition, a sample of forbidden ones."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from firegrid.alarms.lifecycle import transition
from firegrid.alarms.models import Alarm, AlarmTransition
from firegrid.alarms.states import (
    ALLOWED_TRANSITIONS,
    AlarmStatus,
    can_transition,
    check_transition,
)
from firegrid.core.db import Database
from firegrid.core.errors import Conflict
from tests.alarms.conftest import T0

ALLOWED = [(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in sorted(targets)]
FORBIDDEN = [
    (AlarmStatus.CLOSED, AlarmStatus.NEW),
    (AlarmStatus.CLOSED, AlarmStatus.CONFIRMED),
    (AlarmStatus.CONFIRMED, AlarmStatus.FALSE_ALARM),
    (AlarmStatus.FALSE_ALARM, AlarmStatus.CONFIRMED),
    (AlarmStatus.VERIFYING, AlarmStatus.ACKNOWLEDGED),
    (AlarmStatus.ACKNOWLEDGED, AlarmStatus.NEW),
    (AlarmStatus.NEW, AlarmStatus.CLOSED),
    (AlarmStatus.FAULT, AlarmStatus.CONFIRMED),
    (AlarmStatus.NEW, AlarmStatus.NEW),
]


def test_table_covers_every_state() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(AlarmStatus)
    assert ALLOWED_TRANSITIONS[AlarmStatus.CLOSED] == frozenset()
    assert len(ALLOWED) == 15


def _alarm(db: Database, status: AlarmStatus) -> int:
    with db.session() as session:
        alarm = Alarm(
            kind="fire",
            status=status.value,
            fold_key="venue:1",
            venue_id=1,
            jurisdiction_path="/1/",
            opened_at=T0,
            first_received_at=T0,
            last_event_at=T0,
            rule_hits=[],
            updated_at=T0,
        )
        session.add(alarm)
        session.flush()
        return alarm.id


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=lambda s: str(s))
def test_allowed_transition_is_recorded(
    db: Database, current: AlarmStatus, target: AlarmStatus
) -> None:
    alarm_id = _alarm(db, current)
    with db.session() as session:
        alarm = session.get(Alarm, alarm_id)
        assert alarm is not None
        transition(session, alarm, target, actor="tester", cause="test", now=T0)
    with db.session() as session:
        assert session.get(Alarm, alarm_id).status == target  # type: ignore[union-attr]
        rows = session.scalars(select(AlarmTransition)).all()
        assert [(r.from_status, r.to_status, r.actor, r.cause) for r in rows] == [
            (current.value, target.value, "tester", "test")
        ]
        assert rows[0].at.tzinfo is not None


@pytest.mark.parametrize(("current", "target"), FORBIDDEN, ids=lambda s: str(s))
def test_forbidden_transition_is_a_conflict(
    db: Database, current: AlarmStatus, target: AlarmStatus
) -> None:
    assert not can_transition(current, target)
    alarm_id = _alarm(db, current)
    with db.session() as session:
        alarm = session.get(Alarm, alarm_id)
        assert alarm is not None
        with pytest.raises(Conflict) as info:
            transition(session, alarm, target, actor="tester", cause="test", now=T0)
    assert f"alarm {alarm_id} is {current.value}: it cannot become {target.value}" in str(
        info.value
    )
    assert info.value.status == 409


def test_lost_race_is_a_conflict(db: Database) -> None:
    """Compare-and-set: a second writer holding a stale status loses."""
    alarm_id = _alarm(db, AlarmStatus.NEW)
    with db.session() as first:
        stale = first.get(Alarm, alarm_id)
        assert stale is not None
        with db.session() as second:
            other = second.get(Alarm, alarm_id)
            assert other is not None
            transition(second, other, AlarmStatus.CONFIRMED, actor="a", cause="c", now=T0)
        with pytest.raises(Conflict, match="changed meanwhile"):
            transition(first, stale, AlarmStatus.FALSE_ALARM, actor="b", cause="c", now=T0)


def test_check_transition_message_for_final_state() -> None:
    with pytest.raises(Conflict, match="it is final"):
        check_transition(7, "closed", AlarmStatus.NEW)
