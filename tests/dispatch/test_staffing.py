"""Crew on duty per vehicle and shift; the recommendation honours the minimum crew."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.recommend import available_units
from firegrid.dispatch.staffing import load_rules
from tests.dispatch.city import DCity
from tests.dispatch.test_api import headers

pytestmark = pytest.mark.postgres


def test_shifts_are_local_and_a_night_belongs_to_the_day_it_starts() -> None:
    rules = load_rules()
    # 2025-03-01 01:00 UTC = 09:00 Dongguan: the day shift
    assert rules.shift_at(datetime(2025, 3, 1, 1, 0, tzinfo=UTC)) == (date(2025, 3, 1), "day")
    # 2025-03-01 13:00 UTC = 21:00: the night shift of the 1st
    assert rules.shift_at(datetime(2025, 3, 1, 13, 0, tzinfo=UTC)) == (date(2025, 3, 1), "night")
    # 2025-03-01 20:00 UTC = 04:00 on the 2nd: still the night shift of the 1st
    assert rules.shift_at(datetime(2025, 3, 1, 20, 0, tzinfo=UTC)) == (date(2025, 3, 1), "night")
    assert rules.minimum("pumper") == 4


def test_a_pumper_below_its_minimum_crew_is_not_recommended(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
) -> None:
    pumper = next(
        v
        for v, info in dcity.vehicles.items()
        if info["type"] == "pumper" and info["town"] == "west"
    )
    west = headers(db, settings, dcity, "dispatcher", "town:west")
    with db.session() as session:
        assert pumper in {u.id for u in available_units(session, "/")}
    short = client.put(
        f"/api/v1/units/{pumper}/staffing",
        json={"crew_on_duty": 2, "note": "两人病假"},
        headers=west,
    )
    assert short.status_code == 200, short.text
    assert short.json()["meets_minimum"] is False
    assert short.json()["minimum_crew"] == 4
    with db.session() as session:
        assert pumper not in {u.id for u in available_units(session, "/")}
    listed = client.get("/api/v1/staffing", headers=west).json()
    assert [i["vehicle_id"] for i in listed["items"]] == [pumper]
    assert listed["shift"] == load_rules().shift_at(utcnow())[1]
    full = client.put(f"/api/v1/units/{pumper}/staffing", json={"crew_on_duty": 4}, headers=west)
    assert full.json()["meets_minimum"] is True
    with db.session() as session:
        assert pumper in {u.id for u in available_units(session, "/")}
    east = headers(db, settings, dcity, "dispatcher", "town:east")
    other = client.put(f"/api/v1/units/{pumper}/staffing", json={"crew_on_duty": 1}, headers=east)
    assert other.status_code == 404
    assert client.get("/api/v1/staffing", headers=east).json()["items"] == []
