"""Correlation rules as data: defaults, stored overrides, validation, maintenance windows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from firegrid.alarms.models import (
    Alarm,
    AlarmForward,
    AlarmRuleRow,
    AlarmTransition,
    AlarmVerification,
    MaintenanceWindow,
)
from firegrid.alarms.rules import default_rules, load_document, parse_rule, parse_rules
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.ingest.events import EventKind as K
from firegrid.places.models import Venue
from tests.alarms.conftest import T0, Site, feed_events


def _one(db: Database) -> Alarm:
    with db.session() as session:
        return session.scalars(select(Alarm)).one()


def test_default_rules_load() -> None:
    names = [rule.name for rule in default_rules()]
    assert names == [
        "two_detectors_one_zone",
        "smoke_and_sprinkler_pressure_drop",
        "night_occupied_priority",
        "maintenance_window",
    ]


def test_one_detector_is_not_confirmed(db: Database, site: Site, correlator: Correlator) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, address=1), site.ev(K.FIRE_ALARM, address=1))
    alarm = _one(db)
    assert alarm.status == "new"
    assert alarm.rule_hits == []


def test_two_detectors_in_one_zone_confirm(
    db: Database, site: Site, correlator: Correlator
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, address=1, loop=3))
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, address=2, loop=3))
    alarm = _one(db)
    assert alarm.status == "confirmed"
    assert alarm.rule_hits == ["two_detectors_one_zone"]
    assert alarm.forwarded_at is not None
    assert not alarm.forward_probable
    with db.session() as session:
        (t,) = session.scalars(select(AlarmTransition)).all()
        assert (t.from_status, t.to_status, t.actor) == (
            "new",
            "confirmed",
            "rule:two_detectors_one_zone",
        )
        assert session.scalars(select(AlarmForward)).one().alarm_id == alarm.id


def test_two_detectors_in_different_zones_do_not(
    db: Database, site: Site, correlator: Correlator
) -> None:
    feed_events(
        db,
        correlator,
        site.ev(K.FIRE_ALARM, address=1, loop=1),
        site.ev(K.FIRE_ALARM, address=2, loop=2),
    )
    assert _one(db).status == "new"


def test_smoke_and_sprinkler_pressure_drop(
    db: Database, site: Site, correlator: Correlator
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, "smoke"))
    feed_events(db, correlator, site.ev(K.ANALOG_VALUE, "sprinkler", values={"pressure_mpa": 0.3}))
    assert _one(db).status == "new"
    feed_events(db, correlator, site.ev(K.ANALOG_VALUE, "sprinkler", values={"pressure_mpa": 0.01}))
    alarm = _one(db)
    assert alarm.status == "confirmed"
    assert "smoke_and_sprinkler_pressure_drop" in alarm.rule_hits


def test_night_occupied_raises_priority(db: Database, site: Site, correlator: Correlator) -> None:
    with db.session() as session:
        venue = session.get(Venue, site.venue_id)
        assert venue is not None
        venue.tags = ["night_occupied"]
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    alarm = _one(db)
    assert alarm.priority == 1
    assert alarm.rule_hits == ["night_occupied_priority"]


def test_maintenance_window_suppresses_with_a_record(
    db: Database, site: Site, correlator: Correlator
) -> None:
    with db.session() as session:
        session.add(
            MaintenanceWindow(
                venue_id=site.venue_id,
                jurisdiction_path=site.path,
                starts_at=T0 - timedelta(hours=1),
                ends_at=T0 + timedelta(hours=1),
                reason="test",
                note="annual test",
            )
        )
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, address=1), site.ev(K.FIRE_ALARM, address=2))
    alarm = _one(db)
    assert (alarm.status, alarm.suppressed, alarm.false_reason) == ("false_alarm", True, "test")
    assert alarm.forwarded_at is None
    with db.session() as session:
        (v,) = session.scalars(select(AlarmVerification)).all()
        assert (v.method, v.outcome, v.decisive) == ("rule", "false_alarm", True)
        assert "annual test" in v.note
        (t,) = session.scalars(select(AlarmTransition)).all()
        assert t.actor == "rule:maintenance_window"
        assert t.reason == "test"


def test_window_elsewhere_does_not_suppress(
    db: Database, site: Site, correlator: Correlator
) -> None:
    with db.session() as session:
        session.add(
            MaintenanceWindow(
                venue_id=site.venue_id,
                jurisdiction_path=site.path,
                starts_at=T0 + timedelta(hours=1),
                ends_at=T0 + timedelta(hours=2),
                reason="maintenance",
            )
        )
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    assert _one(db).status == "new"


def test_stored_rule_overrides_default(db: Database, site: Site, correlator: Correlator) -> None:
    rule = next(r for r in default_rules() if r.name == "two_detectors_one_zone")
    with db.session() as session:
        session.add(
            AlarmRuleRow(
                name=rule.name,
                enabled=False,
                spec=rule.model_dump(mode="json", exclude={"name", "enabled"}),
            )
        )
    correlator.invalidate_rules()
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, address=1), site.ev(K.FIRE_ALARM, address=2))
    assert _one(db).status == "new"


def test_bad_rule_names_rule_and_field() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_rule(
            {"name": "two", "when": {"count": {"at_least": 0}}, "then": {"action": "confirm"}}
        )
    assert info.value.message.startswith("rule 'two' (#1): when.count.at_least:")
    with pytest.raises(ValidationFailed) as info:
        parse_rules(
            [
                {"name": "ok_rule", "when": {}, "then": {"action": "confirm"}},
                {"name": "bad_rule", "when": {"venue_tagz": ["x"]}, "then": {"action": "confirm"}},
                {"name": "worse", "when": {}, "then": {"action": "explode"}},
            ]
        )
    message = info.value.message
    assert "rule 'bad_rule' (#2): when.venue_tagz" in message
    assert "rule 'worse' (#3): then.action" in message


def test_bad_policy_and_yaml() -> None:
    with pytest.raises(ValidationFailed, match="policy: fold_window_s"):
        load_document("policy: {fold_window_s: -1}\nrules: []\n")
    with pytest.raises(ValidationFailed, match="not valid YAML"):
        load_document("rules: [\n")
