"""Intake, duplicates, dispatch and the timeline, command levels, escalation, joint defence
and reinforcement — through the services, on the test city."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from firegrid.dispatch import command, incidents, intake
from firegrid.dispatch.consumers import consume_alarm_forwards
from firegrid.dispatch.incident_models import IncidentCall, TimelineEntry, VehicleStatusChange
from firegrid.dispatch.models import Vehicle
from firegrid.dispatch.recommend import recommend_for_incident
from firegrid.geo.engine import TravelTimeEngine
from firegrid.places.crs import wgs84_to_gcj02
from tests.dispatch.city import ROAD, DCity

T0 = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


def call(lon: float | None = None, lat: float | None = None, **kw: object) -> intake.CallData:
    return intake.CallData(lon=lon, lat=lat, received_at=kw.pop("at", T0), **kw)  # type: ignore[arg-type]


def test_119_call_by_address_is_geocoded_with_venues_and_devices(dcity: DCity, db: Database):
    city_post = dcity.principal("dispatcher", "city")
    with db.session() as session:
        result = intake.take_call(
            session,
            city_post,
            call(address_text=f"东莞市西镇西北村{ROAD}8号", caller_number="139"),
            scope_path=city_post.scope_path,
            incident_type=None,
            level=1,
            auto=False,
        )
        view = intake.intake_view(session, result, city_post.scope_path)
    assert view["call"]["geocode"]["matched"] is True
    assert view["call"]["jurisdiction_path"] == dcity.paths["grid:west:n"]
    assert view["incident_id"] is None
    names = [v["code"] for v in view["venues_nearby"]]
    assert names == ["VEN-west"]
    assert view["venues_nearby"][0]["buildings"][0]["floors_above"] == 28
    assert view["venues_nearby"][0]["devices"] == []


def test_119_call_with_a_gcj02_point_is_stored_in_wgs84(dcity: DCity, db: Database):
    post = dcity.principal("dispatcher", "city")
    glon, glat = wgs84_to_gcj02([113.15], [23.02])
    with db.session() as session:
        c = intake.receive_call(
            session,
            post,
            call(float(glon[0]), float(glat[0]), crs="gcj02"),
            scope_path=post.scope_path,
        )
        assert c.lon == pytest.approx(113.15, abs=1e-5)
        assert c.lat == pytest.approx(23.02, abs=1e-5)
        assert c.jurisdiction_path == dcity.paths["grid:middle:s"]


def test_a_town_post_cannot_take_a_call_located_in_another_town(dcity: DCity, db: Database):
    west = dcity.principal("dispatcher", "town:west")
    with db.session() as session, pytest.raises(ValidationFailed):
        intake.receive_call(session, west, call(113.25, 23.05), scope_path=west.scope_path)


def test_duplicate_calls_are_offered_and_merged_keeping_every_call(dcity: DCity, db: Database):
    post = dcity.principal("dispatcher", "city")
    with db.session() as session:
        first = intake.take_call(
            session,
            post,
            call(113.05, 23.075),
            scope_path="/",
            incident_type="building_fire",
            level=1,
            auto=True,
        )
        assert first.incident is not None
        assert not first.merged
        # 150 m away, 10 minutes later: offered as a duplicate
        near = intake.take_call(
            session,
            post,
            call(113.0515, 23.075, at=T0 + timedelta(minutes=10)),
            scope_path="/",
            incident_type=None,
            level=1,
            auto=False,
        )
        assert [d.incident.id for d in near.duplicates] == [first.incident.id]
        from firegrid.dispatch.duplicates import merge_call

        merge_call(session, post, near.call, first.incident, at=T0 + timedelta(minutes=11))
        # far away, or much later: not a duplicate
        far = intake.take_call(
            session,
            post,
            call(113.06, 23.075, at=T0 + timedelta(minutes=12)),
            scope_path="/",
            incident_type=None,
            level=1,
            auto=False,
        )
        late = intake.take_call(
            session,
            post,
            call(113.05, 23.075, at=T0 + timedelta(hours=2)),
            scope_path="/",
            incident_type=None,
            level=1,
            auto=False,
        )
        assert far.duplicates == []
        assert late.duplicates == []
        session.flush()
        incident_id = first.incident.id
        assert first.incident.call_count == 2
        calls = session.scalars(select(IncidentCall).where(IncidentCall.incident_id == incident_id))
        assert sorted(c.status for c in calls) == ["linked", "merged"]
        kinds = session.scalars(
            select(TimelineEntry.kind).where(TimelineEntry.incident_id == incident_id)
        ).all()
        assert "call_merged" in kinds


def test_110_transfer_opens_an_incident_once(dcity: DCity, db: Database):
    police = dcity.principal("police_liaison", "city")
    with db.session() as session:
        data = call(113.15, 23.07, external_ref="110-2026-0001", caller_number="110")
        first = intake.transfer_from_110(session, police, data, incident_type="rescue", level=1)
        again = intake.transfer_from_110(
            session,
            police,
            call(113.15, 23.07, external_ref="110-2026-0001"),
            incident_type="rescue",
            level=1,
        )
        assert first.incident is not None
        assert again.incident is not None
        assert again.incident.id == first.incident.id
        assert first.incident.source == "transfer_110"
        assert session.scalar(select(func.count(IncidentCall.id))) == 1


@dataclass(frozen=True)
class Forward:
    id: int
    alarm_id: int
    venue_id: int | None
    lon: float | None
    lat: float | None
    jurisdiction_path: str
    incident_kind: str
    venue_category: str
    probable: bool
    forwarded_at: datetime


class Outbox:
    """The alarms context's outbox interface, for when that context is not installed."""

    def __init__(self, forwards: list[Forward]) -> None:
        self.forwards = forwards
        self.consumed: dict[int, int] = {}

    def pending_forwards(self, session, limit: int = 100) -> list[Forward]:
        return [f for f in self.forwards if f.id not in self.consumed][:limit]

    def mark_forward_consumed(self, session, forward_id: int, incident_id: int) -> None:
        self.consumed[forward_id] = incident_id


def put_forwards(db: Database, forwards: list[Forward]) -> tuple[object | None, dict[int, int]]:
    """Put forwards in the alarms context's real outbox when it is installed (``None``: use
    the default source), else in a stand-in. Returns the source and forward id -> row id."""
    try:
        from firegrid.alarms.models import AlarmForward
    except ImportError:  # pragma: no cover - dispatch without the alarms context
        box = Outbox(forwards)
        return box, {f.id: f.id for f in forwards}
    ids = {}
    with db.session() as session:
        for f in forwards:
            row = AlarmForward(
                alarm_id=f.alarm_id,
                venue_id=f.venue_id,
                lon=f.lon,
                lat=f.lat,
                jurisdiction_path=f.jurisdiction_path,
                incident_kind=f.incident_kind,
                venue_category=f.venue_category,
                probable=f.probable,
                forwarded_at=f.forwarded_at,
            )
            session.add(row)
            session.flush()
            ids[f.id] = row.id
    return None, ids


def consumed_incident(db: Database, source: object | None, forward_id: int) -> int | None:
    if isinstance(source, Outbox):
        return source.consumed.get(forward_id)
    from firegrid.alarms.models import AlarmForward

    with db.session() as session:
        row = session.get(AlarmForward, forward_id)
        assert row is not None
        return row.incident_id


def test_forwarded_alarms_become_incidents_and_are_marked_consumed(dcity: DCity, db: Database):
    venue = dcity.venues["east"]
    source, ids = put_forwards(
        db,
        [
            Forward(
                1,
                501,
                venue,
                113.25,
                23.075,
                dcity.paths["grid:east:n"],
                "fire",
                "high_rise_office",
                True,
                T0,
            ),
            Forward(
                2,
                502,
                venue,
                None,
                None,
                dcity.paths["grid:east:n"],
                "fire",
                "high_rise_office",
                True,
                T0 + timedelta(minutes=3),
            ),
        ],
    )
    with db.session() as session:
        report = consume_alarm_forwards(session, source=source)  # type: ignore[arg-type]
        assert report.as_dict() == {"available": True, "consumed": 2, "created": 1, "merged": 1}
    first = consumed_incident(db, source, ids[1])
    assert first is not None
    assert consumed_incident(db, source, ids[2]) == first
    with db.session() as session:
        incident = incidents.get_incident(session, dcity.principal("dispatcher", "city"), first)
        assert (incident.source, incident.incident_type, incident.venue_id) == (
            "alarm",
            "building_fire",
            venue,
        )
        assert consume_alarm_forwards(session, source=source).consumed == 0  # type: ignore[arg-type]


def _open(session, post, lon, lat, level=1, incident_type="building_fire", category=""):
    result = intake.take_call(
        session,
        post,
        call(lon, lat, venue_category=category),
        scope_path=post.scope_path,
        incident_type=incident_type,
        level=level,
        auto=True,
    )
    assert result.incident is not None
    return result.incident


def test_dispatch_moves_units_and_the_timeline_gives_intervals(
    dcity: DCity, db: Database, engine: TravelTimeEngine
):
    post = dcity.principal("dispatcher", "city")
    with db.session() as session:
        incident = _open(session, post, 113.05, 23.075, category="high_rise_office", level=2)
        rec = recommend_for_incident(session, engine, incident, "/")
        assert rec.complete
        assert sorted(c.vehicle_type for c in rec.chosen) == [
            "command",
            "ladder",
            "pumper",
            "pumper",
        ]
        t_dispatch = T0 + timedelta(seconds=75)
        incidents.dispatch_units(
            session,
            post,
            incident,
            rec.vehicle_ids,
            forces_path="/",
            at=t_dispatch,
            etas={c.vehicle_id: c.eta_s for c in rec.chosen},
        )
        session.flush()
        assert incident.status == "dispatched"
        # a second recommendation has nothing left to add
        assert recommend_for_incident(session, engine, incident, "/").vehicle_ids == []
        vehicles = {
            v.id: v for v in session.scalars(select(Vehicle).where(Vehicle.id.in_(rec.vehicle_ids)))
        }
        first = vehicles[rec.vehicle_ids[0]]
        with pytest.raises(Conflict):  # not available any more
            incidents.dispatch_units(session, post, incident, [first.id], forces_path="/")
        for k, v in enumerate(vehicles.values()):
            incidents.set_vehicle_status(
                session, post, v, "en_route", at=t_dispatch + timedelta(seconds=60 + k)
            )
        for k, v in enumerate(vehicles.values()):
            incidents.set_vehicle_status(
                session, post, v, "on_scene", at=t_dispatch + timedelta(seconds=400 + k)
            )
        assert incident.status == "on_scene"
        incidents.set_incident_status(
            session, post, incident, "under_control", at=T0 + timedelta(minutes=30)
        )
        incidents.set_incident_status(
            session, post, incident, "extinguished", at=T0 + timedelta(minutes=40)
        )
        incidents.set_incident_status(
            session, post, incident, "closed", at=T0 + timedelta(minutes=50), cause="done"
        )
        session.flush()
        assert all(v.status == "returning" and v.incident_id is None for v in vehicles.values())
        for v in vehicles.values():
            incidents.set_vehicle_status(
                session, post, v, "available_in_station", at=T0 + timedelta(minutes=70)
            )
        detail = incidents.incident_detail(session, incident)
    assert detail["intervals"] == {
        "call_processing_s": 75.0,
        "turnout_s": 60.0,
        "travel_s": 340.0,
        "response_s": 475.0,
        "duration_s": 3000.0,
    }
    kinds = [e["kind"] for e in detail["timeline"]]
    for kind in (
        "call_received",
        "created",
        "dispatched",
        "turnout",
        "en_route",
        "arrived",
        "on_scene",
        "under_control",
        "extinguished",
        "closed",
        "released",
    ):
        assert kind in kinds
    assert all(e["actor"] and e["at"].endswith("+00:00") for e in detail["timeline"])
    with db.session() as session:
        log = session.scalars(
            select(VehicleStatusChange.to_status)
            .where(VehicleStatusChange.vehicle_id == first.id)
            .order_by(VehicleStatusChange.id)
        ).all()
    assert log == ["dispatched", "en_route", "on_scene", "returning", "available_in_station"]


def test_a_town_dispatches_only_its_own_forces_and_sees_only_its_area(
    dcity: DCity, db: Database, engine: TravelTimeEngine
):
    west = dcity.principal("dispatcher", "town:west")
    east = dcity.principal("dispatcher", "town:east")
    with db.session() as session:
        incident = _open(session, west, 113.05, 23.02, level=2)
        rec = recommend_for_incident(session, engine, incident, west.scope_path)
        west_ids = {i for i, v in dcity.vehicles.items() if v["town"] == "west"}
        assert set(rec.vehicle_ids) <= west_ids
        east_unit = next(i for i, v in dcity.vehicles.items() if v["town"] == "east")
        with pytest.raises(Conflict):
            incidents.dispatch_units(
                session, west, incident, [east_unit], forces_path=west.scope_path
            )
        with pytest.raises(NotFound):
            incidents.get_incident(session, east, incident.id)


def test_escalation_moves_command_up_and_is_recorded(dcity: DCity, db: Database):
    village = dcity.principal("dispatcher", "village:west:s")
    town = dcity.principal("dispatcher", "town:west")
    with db.session() as session:
        incident = _open(session, village, 113.05, 23.02, level=1)
        assert (incident.command_level, incident.command_path) == (
            "village",
            dcity.paths["village:west:s"],
        )
        incidents.check_command(village, incident)
        command.escalate(session, village, incident, cause="spreading to next building")
        assert (incident.command_level, incident.command_path) == ("town", dcity.paths["town:west"])
        with pytest.raises(Forbidden):  # the village post no longer commands it
            incidents.check_command(village, incident)
        incidents.get_incident(session, village, incident.id)  # but still sees it
        command.escalate(session, town, incident, cause="major fire", new_level=3)
        assert (incident.command_level, incident.level) == ("city", 3)
        with pytest.raises(Conflict):
            command.escalate(
                session,
                dcity.principal("dispatcher", "city"),
                incident,
                cause="nothing above the city",
            )
        session.flush()
        entries = session.scalars(
            select(TimelineEntry)
            .where(
                TimelineEntry.incident_id == incident.id,
                TimelineEntry.kind.in_(["escalated", "level_changed"]),
            )
            .order_by(TimelineEntry.id)
        ).all()
    assert [e.kind for e in entries] == ["escalated", "escalated", "level_changed"]
    assert entries[0].details["to"] == dcity.paths["town:west"]
    assert "village" in entries[0].actor or "west" in entries[0].actor


def test_joint_defence_between_neighbouring_towns(
    dcity: DCity, db: Database, engine: TravelTimeEngine
):
    west = dcity.principal("dispatcher", "town:west")
    middle = dcity.principal("dispatcher", "town:middle")
    east = dcity.principal("dispatcher", "town:east")
    with db.session() as session:
        incident = _open(session, west, 113.09, 23.05, level=2)
        with pytest.raises(ValidationFailed):  # East does not touch West
            command.request_joint_defence(
                session,
                west,
                incident,
                to_town_code=dcity.codes["town:east"],
                requirements=[{"vehicle_type": "pumper", "count": 1}],
            )
        req = command.request_joint_defence(
            session,
            west,
            incident,
            to_town_code=dcity.codes["town:middle"],
            requirements=[{"vehicle_type": "pumper", "count": 2}],
            note="need water",
        )
        assert [r.id for r in command.incoming_requests(session, middle)] == [req.id]
        assert command.incoming_requests(session, east) == []
        with pytest.raises(NotFound):
            command.answer_request(session, east, req, accept=True, engine=engine)
        # Middle now sees the incident it is asked to help with
        incidents.get_incident(session, middle, incident.id)
        command.answer_request(session, middle, req, accept=True, engine=engine, note="2 coming")
        assert req.status == "accepted"
        assert len(req.vehicle_ids) == 2
        assert {dcity.vehicles[v]["town"] for v in req.vehicle_ids} == {"middle"}
        with pytest.raises(Conflict):
            command.answer_request(session, middle, req, accept=False)
        second = command.request_joint_defence(
            session,
            west,
            incident,
            to_town_code=dcity.codes["town:middle"],
            requirements=[{"vehicle_type": "hazmat", "count": 1}],
        )
        command.answer_request(session, middle, second, accept=False, note="none here")
        assert second.status == "declined"
        assert second.vehicle_ids == []
        session.flush()
        kinds = session.scalars(
            select(TimelineEntry.kind).where(TimelineEntry.incident_id == incident.id)
        ).all()
    assert kinds.count("aid_requested") == 2
    assert kinds.count("aid_answered") == 2


def test_reinforcement_for_a_running_incident(dcity: DCity, db: Database, engine: TravelTimeEngine):
    city_post = dcity.principal("dispatcher", "city")
    village = dcity.principal("dispatcher", "village:east:n")
    with db.session() as session:
        incident = _open(session, village, 113.25, 23.075, level=1)
        with pytest.raises(Conflict):  # not running yet
            command.request_reinforcement(
                session, village, incident, requirements=[{"vehicle_type": "ladder"}]
            )
        rec = recommend_for_incident(session, engine, incident, village.scope_path)
        incidents.dispatch_units(
            session, village, incident, rec.vehicle_ids, forces_path=village.scope_path
        )
        req = command.request_reinforcement(
            session,
            village,
            incident,
            requirements=[{"vehicle_type": "ladder", "count": 1}, {"capability": "command"}],
        )
        assert req.to_path == dcity.paths["village:east:n"]
        command.answer_request(session, city_post, req, accept=True, engine=engine)
        types = sorted(dcity.vehicles[v]["type"] for v in req.vehicle_ids)
    assert types == ["command", "ladder"]


def test_the_periodic_consumer_opens_incidents_in_the_background(
    dcity: DCity, db: Database, monkeypatch: pytest.MonkeyPatch
):
    import threading
    import time

    from firegrid.dispatch import consumers

    source, ids = put_forwards(
        db,
        [
            Forward(
                9,
                909,
                dcity.venues["west"],
                113.05,
                23.075,
                dcity.paths["grid:west:n"],
                "fire",
                "high_rise_office",
                False,
                T0,
            )
        ],
    )
    if source is not None:  # pragma: no cover - the alarms context is not installed
        monkeypatch.setattr(consumers, "default_source", lambda: source)
    stop = threading.Event()
    worker = threading.Thread(
        target=consumers.run_periodically, args=(db, stop), kwargs={"interval_s": 0.05}
    )
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while consumed_incident(db, source, ids[9]) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(10)
    assert consumed_incident(db, source, ids[9]) is not None
    assert not worker.is_alive()


def test_a_110_transfer_outside_the_callers_town_is_refused(dcity: DCity, db: Database):
    police = dcity.principal("police_liaison", "town:west")
    with db.session() as session, pytest.raises(ValidationFailed):
        intake.transfer_from_110(
            session,
            police,
            call(113.25, 23.05, external_ref="110-OUT-1"),
            incident_type="rescue",
            level=1,
            scope_path=police.scope_path,
        )
