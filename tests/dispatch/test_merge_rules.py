"""Merge rules: forwarded alarms merge only within their venue, calls by the configured
rule, and incidents next to each other are shown as "possibly related" both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.core.settings import Settings
from firegrid.dispatch import incidents, intake
from firegrid.dispatch.consumers import consume_alarm_forwards
from firegrid.dispatch.duplicates import haversine_m
from firegrid.dispatch.merge_rules import load_merge_rules, parse_merge_rules
from firegrid.places.models import Venue
from tests.dispatch.city import DCity
from tests.dispatch.test_services import Forward, consumed_incident, put_forwards

T0 = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
EAST_LON, EAST_LAT = 113.25, 23.075
NEXT_DOOR_LON = EAST_LON + 100 / (111_320 * 0.92)  # ~100 m east


def _next_door_venue(db: Database, dcity: DCity) -> int:
    """A second venue about 100 m from the east tower (a mall next door)."""
    with db.session() as session:
        tower = session.get(Venue, dcity.venues["east"])
        assert tower is not None
        mall = Venue(
            code="VEN-east-mall",
            name="东镇商场",
            address="东镇人民路10号",
            jurisdiction_id=tower.jurisdiction_id,
            jurisdiction_path=tower.jurisdiction_path,
            category="mall",
            floors=4,
            lon=NEXT_DOOR_LON,
            lat=EAST_LAT,
        )
        session.add(mall)
        session.flush()
        return mall.id


def _forward(fid: int, venue: int | None, lon: float, path: str, minutes: int) -> Forward:
    return Forward(
        fid,
        500 + fid,
        venue,
        lon,
        EAST_LAT,
        path,
        "fire",
        "",
        True,
        T0 + timedelta(minutes=minutes),
    )


def test_forwarded_fires_of_two_venues_100_m_apart_are_two_incidents_related_both_ways(
    dcity: DCity, db: Database
):
    mall = _next_door_venue(db, dcity)
    path = dcity.paths["grid:east:n"]
    distance = haversine_m(EAST_LON, EAST_LAT, NEXT_DOOR_LON, EAST_LAT)
    assert 90 < distance < 110
    source, ids = put_forwards(
        db,
        [
            _forward(1, dcity.venues["east"], EAST_LON, path, 0),
            _forward(2, mall, NEXT_DOOR_LON, path, 4),
        ],
    )
    with db.session() as session:
        report = consume_alarm_forwards(session, source=source)  # type: ignore[arg-type]
    assert report.as_dict() == {"available": True, "consumed": 2, "created": 2, "merged": 0}
    tower_incident = consumed_incident(db, source, ids[1])
    mall_incident = consumed_incident(db, source, ids[2])
    assert tower_incident is not None
    assert mall_incident is not None
    assert tower_incident != mall_incident
    post = dcity.principal("dispatcher", "city")
    with db.session() as session:
        tower = incidents.incident_detail(
            session, incidents.get_incident(session, post, tower_incident)
        )
        shop = incidents.incident_detail(
            session, incidents.get_incident(session, post, mall_incident)
        )
    # each keeps its own venue (and so its own response plan)
    assert (tower["venue_id"], shop["venue_id"]) == (dcity.venues["east"], mall)
    assert tower["call_count"] == shop["call_count"] == 1
    # "possibly related" each way, with the distance, in the output and on the timeline
    assert [r["incident_id"] for r in tower["possibly_related"]] == [mall_incident]
    assert [r["incident_id"] for r in shop["possibly_related"]] == [tower_incident]
    assert tower["possibly_related"][0]["distance_m"] == pytest.approx(distance, abs=0.1)
    assert shop["possibly_related"][0]["venue_id"] == dcity.venues["east"]
    for detail, other in ((tower, mall_incident), (shop, tower_incident)):
        related = [e for e in detail["timeline"] if e["kind"] == "possibly_related"]
        assert len(related) == 1
        assert related[0]["details"]["incident_id"] == other
        assert related[0]["actor"] == "system:alarm-forwarding"


def test_two_forwarded_alarms_of_the_same_venue_merge(dcity: DCity, db: Database):
    path = dcity.paths["grid:east:n"]
    venue = dcity.venues["east"]
    # the second alarm is 20 minutes later, from the far side of a large site (400 m)
    far_side = EAST_LON + 400 / (111_320 * 0.92)
    source, ids = put_forwards(
        db, [_forward(1, venue, EAST_LON, path, 0), _forward(2, venue, far_side, path, 20)]
    )
    with db.session() as session:
        report = consume_alarm_forwards(session, source=source)  # type: ignore[arg-type]
    assert report.as_dict() == {"available": True, "consumed": 2, "created": 1, "merged": 1}
    first = consumed_incident(db, source, ids[1])
    assert first is not None
    assert consumed_incident(db, source, ids[2]) == first
    with db.session() as session:
        detail = incidents.incident_detail(
            session, incidents.get_incident(session, dcity.principal("dispatcher", "city"), first)
        )
    assert detail["call_count"] == 2
    assert [c["status"] for c in detail["calls"]] == ["linked", "merged"]
    assert detail["possibly_related"] == []


def test_an_alarm_never_merges_into_a_nearby_call_incident_of_another_venue(
    dcity: DCity, db: Database
):
    mall = _next_door_venue(db, dcity)
    post = dcity.principal("dispatcher", "city")
    with db.session() as session:
        called = intake.take_call(
            session,
            post,
            intake.CallData(
                lon=EAST_LON, lat=EAST_LAT, received_at=T0, venue_id=dcity.venues["east"]
            ),
            scope_path="/",
            incident_type="building_fire",
            level=1,
            auto=True,
        )
        assert called.incident is not None
        call_incident = called.incident.id
    source, ids = put_forwards(
        db, [_forward(1, mall, NEXT_DOOR_LON, dcity.paths["grid:east:n"], 2)]
    )
    with db.session() as session:
        consume_alarm_forwards(session, source=source)  # type: ignore[arg-type]
    assert consumed_incident(db, source, ids[1]) not in (None, call_incident)


RULES = """
alarm: {same_venue_window_s: null}
call:
  radius_m: 200
  window_s: 600
  compatible_types: [[building_fire, vehicle_fire]]
related: {radius_m: 500, window_s: 3600}
"""


def _take(
    session, post, lon: float, minutes: int, incident_type: str, rules
) -> intake.IntakeResult:
    data = intake.CallData(lon=lon, lat=EAST_LAT, received_at=T0 + timedelta(minutes=minutes))
    call = intake.receive_call(session, post, data)
    session.flush()
    return intake.create_or_merge(
        session, post, call, incident_type=incident_type, level=1, rules=rules
    )


def test_calls_merge_as_the_rule_says(dcity: DCity, db: Database):
    rules = parse_merge_rules(RULES, "test")
    post = dcity.principal("dispatcher", "city")
    m150 = 150 / (111_320 * 0.92)
    with db.session() as session:
        first = _take(session, post, EAST_LON, 0, "building_fire", rules)
        assert first.incident is not None
        assert not first.merged
        # 150 m, 5 min, compatible type: merged
        near = _take(session, post, EAST_LON + m150, 5, "vehicle_fire", rules)
        assert near.merged
        assert near.incident is first.incident
        # 150 m, 6 min, an incompatible type: a new incident, shown as possibly related
        rescue = _take(session, post, EAST_LON + m150, 6, "rescue", rules)
        assert not rescue.merged
        assert rescue.incident is not first.incident
        assert [d.incident.id for d in rescue.related] == [first.incident.id]
        # 300 m (beyond the 200 m radius): new
        far = _take(session, post, EAST_LON + 2 * m150, 7, "building_fire", rules)
        assert not far.merged
        # same place, 11 min after the last call (beyond 600 s): new
        late = _take(session, post, EAST_LON, 16, "building_fire", rules)
        assert not late.merged
        assert first.incident.call_count == 2
    # with the default rule (300 m) the 300 m call would have merged
    defaults = load_merge_rules()
    assert defaults.call.radius_m == 300


def test_a_bad_merge_rules_file_is_refused_naming_the_file_and_field(
    tmp_path: Path, settings: Settings, db: Database
):
    bad = tmp_path / "merge.yaml"
    bad.write_text("call:\n  radius_m: -5\n  compatible_types: [[building_fire, volcano]]\n")
    with pytest.raises(ValidationFailed) as info:
        load_merge_rules(bad)
    assert str(bad) in info.value.message
    fields = {p["field"] for p in info.value.details["problems"]}
    assert fields == {"call.radius_m", "call.compatible_types"}
    with pytest.raises(ValidationFailed, match="unknown incident types"):
        parse_merge_rules("call:\n  compatible_types: [[volcano]]\n", "x")
    with pytest.raises(ValidationFailed, match="cannot be read"):
        load_merge_rules(tmp_path / "missing.yaml")
    with pytest.raises(ValidationFailed, match=r"extra|not permitted"):
        parse_merge_rules("call:\n  radius: 300\n", "x")
    # the API refuses to start with it
    with pytest.raises(ValidationFailed, match=r"call\.radius_m"):
        create_app(settings.model_copy(update={"merge_rules": bad}), db)


def test_the_merge_rules_setting_points_at_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dcity: DCity, db: Database
):
    from firegrid.core.settings import get_settings
    from firegrid.dispatch.merge_rules import active_merge_rules

    path = tmp_path / "merge.yaml"
    path.write_text(RULES)
    monkeypatch.setenv("FIREGRID_MERGE_RULES", str(path))
    get_settings.cache_clear()
    try:
        assert active_merge_rules().call.radius_m == 200
        post = dcity.principal("dispatcher", "city")
        with db.session() as session:
            result = intake.take_call(
                session,
                post,
                intake.CallData(lon=EAST_LON, lat=EAST_LAT, received_at=T0),
                scope_path="/",
                incident_type=None,
                level=1,
                auto=False,
            )
            view = intake.intake_view(session, result, "/")
        assert view["duplicate_rule"] == {"radius_m": 200.0, "window_s": 600.0}
    finally:
        get_settings.cache_clear()


def test_the_incident_api_shows_possibly_related_incidents(
    dcity: DCity, db: Database, settings: Settings, client
):
    from tests.dispatch.test_api import headers

    mall = _next_door_venue(db, dcity)
    path = dcity.paths["grid:east:n"]
    source, ids = put_forwards(
        db,
        [
            _forward(1, dcity.venues["east"], EAST_LON, path, 0),
            _forward(2, mall, NEXT_DOOR_LON, path, 4),
        ],
    )
    h = headers(db, settings, dcity, "dispatcher", "city")
    if source is None:  # the real outbox: consumed through the API
        consumed = client.post("/api/v1/alarm-forwards/consume", headers=h)
        assert consumed.json()["created"] == 2
    else:
        with db.session() as session:
            consume_alarm_forwards(session, source=source)  # type: ignore[arg-type]
    first, second = consumed_incident(db, source, ids[1]), consumed_incident(db, source, ids[2])
    body = client.get(f"/api/v1/incidents/{first}", headers=h).json()
    assert [(r["incident_id"], r["status"]) for r in body["possibly_related"]] == [
        (second, "created")
    ]
    assert 90 < body["possibly_related"][0]["distance_m"] < 110


def test_a_related_incident_of_another_town_is_not_shown_to_a_town_post(dcity: DCity, db: Database):
    """Across a town border: the city sees the link, the east town does not see the other
    town's incident at all (not even its id in the timeline)."""
    west_of = EAST_LON - 100 / (111_320 * 0.92)
    source, ids = put_forwards(
        db,
        [
            _forward(1, dcity.venues["east"], EAST_LON, dcity.paths["grid:east:n"], 0),
            _forward(2, None, west_of, dcity.paths["grid:middle:n"], 3),
        ],
    )
    with db.session() as session:
        consume_alarm_forwards(session, source=source)  # type: ignore[arg-type]
    east_incident = consumed_incident(db, source, ids[1])
    middle_incident = consumed_incident(db, source, ids[2])
    city = dcity.principal("dispatcher", "city")
    east = dcity.principal("dispatcher", "town:east")
    with db.session() as session:
        incident = incidents.get_incident(session, city, east_incident)
        seen_by_city = incidents.incident_detail(session, incident, city.scope_path)
        seen_by_east = incidents.incident_detail(session, incident, east.scope_path)
    assert [r["incident_id"] for r in seen_by_city["possibly_related"]] == [middle_incident]
    assert seen_by_east["possibly_related"] == []
    assert "possibly_related" in [e["kind"] for e in seen_by_city["timeline"]]
    assert "possibly_related" not in [e["kind"] for e in seen_by_east["timeline"]]
