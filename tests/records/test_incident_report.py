"""The record of a closed incident: validated, linked to the venue's fire alarm, locked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.alarms.models import Alarm
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.incident_models import Incident
from firegrid.records.models import FireRecord
from firegrid.records.public import fire_records
from tests.dispatch.city import DCity
from tests.dispatch.test_api import headers
from tests.records.test_analytics import T0, build_incidents

pytestmark = pytest.mark.postgres

FULL: dict[str, Any] = {
    "cause_code": "electrical",
    "origin_code": "electrical_room",
    "heat_source_code": "electrical_arc",
    "item_first_ignited_code": "wiring",
    "civilian_injured": 2,
    "civilian_killed": 0,
    "firefighter_injured": 1,
    "firefighter_killed": 0,
    "direct_loss_yuan": 85000,
    "area_burned_m2": 40,
    "detector_presence": "present",
    "detector_performance": "operated_effective",
    "alarm_system_presence": "present",
    "alarm_system_performance": "operated_effective",
    "sprinkler_presence": "absent",
    "sprinkler_performance": "not_applicable",
    "actions": ["extinguish", "evacuate"],
    "narrative": "配电间电缆短路起火",
}


def closed_fire_at_venue(db: Database, dcity: DCity, *, alarm_lead_s: float | None) -> int:
    """The first hand-built incident, at the west venue, with (or without) its fire alarm
    received ``alarm_lead_s`` seconds before the call."""
    incident_id = build_incidents(db, dcity)[0]
    with db.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        incident.venue_id = dcity.venues["west"]
        if alarm_lead_s is not None:
            at = T0 - timedelta(seconds=alarm_lead_s)
            session.add(
                Alarm(
                    kind="fire",
                    status="closed",
                    fold_key="report-test",
                    venue_id=dcity.venues["west"],
                    jurisdiction_path=incident.jurisdiction_path,
                    opened_at=at,
                    first_received_at=at,
                    last_event_at=at,
                )
            )
    return incident_id


def test_report_links_the_alarm_and_the_record_is_locked_after_review(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
) -> None:
    incident_id = closed_fire_at_venue(db, dcity, alarm_lead_s=180)
    officer = headers(db, settings, dcity, "commander", "town:west")
    url = f"/api/v1/incidents/{incident_id}/report"
    before = client.get(url, headers=officer).json()
    assert before["record"] is None
    assert before["record_due"] is True
    assert before["alarm"]["alarm_before_call"] is True
    assert before["alarm"]["alarm_lead_s"] == 180.0
    # the first hand-built case: processing 30, turnout 60, travel 110, second unit +120
    assert before["intervals"]["call_processing_s"] == 30.0
    assert before["intervals"]["first_arrival_s"] == 200.0
    assert before["intervals"]["effective_response_force_s"] == 320.0
    assert before["intervals"]["units_sent"] == 2

    put = client.put(f"/api/v1/incidents/{incident_id}/record", json=FULL, headers=officer)
    assert put.status_code == 200, put.text
    record = put.json()
    assert record["source"] == "incident"
    assert record["incident_id"] == incident_id
    assert record["vehicles_used"] == 2  # from the units sent
    assert record["personnel_used"] == 8
    assert record["connected_alarm_id"] is not None
    # the fire started no later than the alarm
    assert record["occurred_at"].startswith((T0 - timedelta(seconds=180)).isoformat()[:19])
    with db.session() as session:
        [public] = [r for r in fire_records(session) if r.incident_id == incident_id]
    assert public.casualties.total == 3
    assert public.venue_id == dcity.venues["west"]

    record_id = record["id"]
    for action in ("submit", "lock"):
        moved = client.post(
            f"/api/v1/fire-records/{record_id}/review", json={"action": action}, headers=officer
        )
        assert moved.status_code == 200, moved.text
    again = client.put(
        f"/api/v1/incidents/{incident_id}/record", json={**FULL, "cause_code": "arson"},
        headers=officer,
    )  # fmt: skip
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "record_locked"
    after = client.get(url, headers=officer).json()
    assert after["record"]["cause_code"] == "electrical"
    assert after["record_due"] is False


def test_no_alarm_means_the_connected_system_did_not_alarm_first(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
) -> None:
    incident_id = closed_fire_at_venue(db, dcity, alarm_lead_s=None)
    officer = headers(db, settings, dcity, "commander", "town:west")
    alarm = client.get(f"/api/v1/incidents/{incident_id}/report", headers=officer).json()["alarm"]
    assert alarm["alarm_before_call"] is False
    assert alarm["connected_alarm_id"] is None


def test_the_record_is_validated_and_waits_for_the_close(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
) -> None:
    incident_id = closed_fire_at_venue(db, dcity, alarm_lead_s=None)
    officer = headers(db, settings, dcity, "commander", "town:west")
    url = f"/api/v1/incidents/{incident_id}/record"
    missing = {k: v for k, v in FULL.items() if k != "origin_code"}
    assert client.put(url, json=missing, headers=officer).status_code == 422
    absent = client.put(
        url, json={**FULL, "sprinkler_performance": "operated_effective"}, headers=officer
    )
    assert absent.status_code == 422
    assert "sprinkler_performance" in absent.json()["error"]["details"]
    unknown = client.put(url, json={**FULL, "actions": ["pray"]}, headers=officer)
    assert unknown.status_code == 422
    with db.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        incident.status = "extinguished"
    early = client.put(url, json=FULL, headers=officer)
    assert early.status_code == 409
    with db.session() as session:
        assert session.scalars(select(FireRecord)).first() is None
    east = headers(db, settings, dcity, "commander", "town:east")
    assert client.put(url, json=FULL, headers=east).status_code == 404


def test_the_code_lists_name_every_code_of_every_coded_field(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
) -> None:
    """The record form's selects: each coded field names a list, each code has both names
    (the shape CodeListOut declares and the console reads)."""
    officer = headers(db, settings, dcity, "commander", "town:west")
    codes = client.get("/api/v1/fire-records-codes", headers=officer).json()
    assert codes["fields"]["cause_code"] in codes["lists"]
    for field, list_name in codes["fields"].items():
        entries = codes["lists"][list_name]
        assert entries, field
        for names in entries.values():
            assert set(names) == {"name_zh", "name_en"}
            assert names["name_zh"]
            assert names["name_en"]
