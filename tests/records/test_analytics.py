"""Response analytics on a hand-built set of incidents whose percentiles are known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.dispatch.incident_models import Assignment, Incident
from firegrid.records.analytics import load_response_data, response_analytics
from firegrid.records.period import parse_period
from tests.dispatch.city import DCity

pytestmark = pytest.mark.postgres

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Dongguan
#: (call processing s, turnout s, travel s of the first unit, second unit's extra s or None)
CASES = [
    (30, 60, 110, 120),  # first arrival 200, second unit 320 -> ERF 320
    (60, 50, 140, None),  # 250
    (90, 70, 140, None),  # 300
    (120, 80, 200, -1),  # 400, second unit never arrives -> no ERF
    (150, 90, 260, None),  # 500
]


def station_units(dcity: DCity, code: str) -> tuple[int, list[int]]:
    station_id = next(i for i, s in dcity.stations.items() if s["code"] == code)
    units = [v for v, info in dcity.vehicles.items() if info["station_id"] == station_id]
    return station_id, units


def build_incidents(db: Database, dcity: DCity) -> list[int]:
    """Five building fires next to station S01 (west), answered by S01's units, one hour
    apart, plus one call in the east answered by a west unit (east's own units missed)."""
    west_id, west_units = station_units(dcity, "S01")
    ids = []
    with db.session() as session:
        for n, (processing, turnout, travel, second) in enumerate(CASES):
            call = T0 + timedelta(hours=n)
            dispatched = call + timedelta(seconds=processing)
            en_route = dispatched + timedelta(seconds=turnout)
            arrived = en_route + timedelta(seconds=travel)
            closed = arrived + timedelta(minutes=30)
            s01 = dcity.stations[west_id]
            incident = _incident(s01["lon"] + 0.001, s01["lat"], s01["path"], call, closed)
            incident.dispatched_at, incident.turnout_at, incident.arrived_at = (
                dispatched,
                en_route,
                arrived,
            )
            session.add(incident)
            session.flush()
            ids.append(incident.id)
            units = [(west_units[0], en_route, arrived)]
            if second is not None:
                late = None if second < 0 else arrived + timedelta(seconds=second)
                units.append((west_units[1], en_route, late))
            for vehicle_id, left, came in units:
                session.add(
                    Assignment(
                        incident_id=incident.id,
                        vehicle_id=vehicle_id,
                        station_id=west_id,
                        status="released",
                        dispatched_at=dispatched,
                        en_route_at=left,
                        arrived_at=came,
                        released_at=closed,
                    )
                )
        # one call in the east, overlapping nothing, served from the west
        east = next(s for s in dcity.stations.values() if s["code"] == "S07")
        call = T0 + timedelta(days=1)
        incident = _incident(
            east["lon"] + 0.001, east["lat"], east["path"], call, call + timedelta(hours=1)
        )
        incident.dispatched_at = call + timedelta(seconds=40)
        incident.turnout_at = call + timedelta(seconds=100)
        incident.arrived_at = call + timedelta(seconds=700)
        session.add(incident)
        session.flush()
        session.add(
            Assignment(
                incident_id=incident.id,
                vehicle_id=west_units[2],
                station_id=west_id,
                status="released",
                dispatched_at=incident.dispatched_at,
                en_route_at=incident.turnout_at,
                arrived_at=incident.arrived_at,
                released_at=call + timedelta(hours=1),
            )
        )
        ids.append(incident.id)
    return ids


def _incident(lon: float, lat: float, path: str, call: datetime, closed: datetime) -> Incident:
    return Incident(
        incident_type="building_fire",
        status="closed",
        source="119",
        lon=lon,
        lat=lat,
        jurisdiction_path=path,
        command_path=path,
        command_level="town",
        call_received_at=call,
        last_call_at=call,
        closed_at=closed,
    )


def test_percentiles_by_station_are_the_known_ones(db: Database, dcity: DCity) -> None:
    build_incidents(db, dcity)
    with db.session() as session:
        data = load_response_data(session, parse_period("2025-03"))
    table = response_analytics(data, "station")
    rows = {row["label"]: row for row in table["rows"]}
    west = next(row for label, row in rows.items() if label.endswith("站1"))
    assert west["calls"] == 5
    intervals = west["intervals"]
    # linear interpolation between ranks: p90 of 30..150 is 120 + 0.6 * 30
    assert intervals["call_processing_s"] == {"p50": 90.0, "p90": 138.0}
    assert intervals["turnout_s"] == {"p50": 70.0, "p90": 86.0}
    assert intervals["first_arrival_s"] == {"p50": 300.0, "p90": 460.0}
    # ERF: 250, 300, 320 (two units), 500; the fourth call's second unit never came;
    # p90 at rank 2.7 of 3: 320 + 0.7 * 180
    assert intervals["effective_response_force_s"] == {"p50": 310.0, "p90": 446.0}
    assert west["within_5min_share"] == pytest.approx(3 / 5)
    assert west["own_station_missed"] == 0
    assert west["concurrency_max"] == 0  # an hour apart, each closed within the hour
    east = next(row for label, row in rows.items() if label.endswith("站7"))
    assert east["calls"] == 1
    assert east["own_station_missed"] == 1  # served by a west unit
    assert east["within_5min_share"] == 0.0
    assert table["totals"]["calls"] == 6


def test_groupings_by_town_hour_unit_and_period(db: Database, dcity: DCity) -> None:
    build_incidents(db, dcity)
    with db.session() as session:
        march = load_response_data(session, parse_period("2025-Q1"))
        april = load_response_data(session, parse_period("2025-04"))
    by_town = {r["key"]: r for r in response_analytics(march, "town")["rows"]}
    assert by_town[dcity.codes["town:west"]]["calls"] == 5
    assert by_town[dcity.codes["town:west"]]["label"] == "西镇"
    by_hour = {r["key"]: r["calls"] for r in response_analytics(march, "hour")["rows"]}
    assert by_hour == {9: 2, 10: 1, 11: 1, 12: 1, 13: 1}  # local time (UTC+8)
    by_unit = response_analytics(march, "unit")["rows"]
    busiest = by_unit[0]
    assert busiest["calls"] == 5
    # committed from dispatch to release: processing .. arrival + 30 min, five times
    busy_s = sum(t + tr + 1800 for _p, t, tr, _s in CASES)
    assert busiest["utilisation"] == pytest.approx(busy_s / march.period.seconds, abs=1e-4)
    assert response_analytics(april, "type")["totals"]["calls"] == 0
    with pytest.raises(ValidationFailed):
        response_analytics(march, "weather")
    with pytest.raises(ValidationFailed):
        parse_period("2025-13")


def test_concurrency_counts_open_incidents_of_the_group(db: Database, dcity: DCity) -> None:
    build_incidents(db, dcity)
    west_id, _ = station_units(dcity, "S01")
    s01 = dcity.stations[west_id]
    with db.session() as session:  # two more calls while the first incident is open
        for minutes in (5, 10):
            call = T0 + timedelta(minutes=minutes)
            session.add(
                _incident(s01["lon"], s01["lat"], s01["path"], call, call + timedelta(hours=3))
            )
    with db.session() as session:
        data = load_response_data(session, parse_period("2025-03"))
    row = next(r for r in response_analytics(data, "town")["rows"] if r["calls"] == 7)
    # 01:00 none open; 01:05 the first (open till 01:33); 01:10 the first and 01:05; the
    # calls at 02:00, 03:00 and 04:00 each see the 01:05 and 01:10 ones (till 04:05, 04:10);
    # 05:00 none
    assert row["concurrency_max"] == 2
    assert row["concurrency_mean"] == pytest.approx(9 / 7, abs=1e-4)
    assert row["concurrent_share"] == pytest.approx(5 / 7, abs=1e-4)


def test_the_cached_data_follows_new_incidents(db: Database, dcity: DCity) -> None:
    from firegrid.records.analytics import cached_response_data

    build_incidents(db, dcity)
    period = parse_period("2025-03")
    with db.session() as session:
        first = cached_response_data(session, period)
        assert cached_response_data(session, period) is first  # nothing changed: kept
    station = next(iter(dcity.stations.values()))
    with db.session() as session:
        call = T0 + timedelta(days=2)
        session.add(_incident(station["lon"], station["lat"], station["path"], call, call))
    with db.session() as session:
        again = cached_response_data(session, period)
    assert again is not first
    assert response_analytics(again, "type")["totals"]["calls"] == 7
