"""The plans through the API: a fire officer writes and publishes, a venue manager proposes
for its own venue only, attachments are checked by content and size, the live view and
the first-due sheet, and a dispatched crew reads the plan (and only then)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.core.settings import Settings
from firegrid.preplans import attachments
from tests.dispatch.test_api import api_key, dispatch_recommended
from tests.preplans.conftest import PDF, PNG, PCity, document, headers

pytestmark = pytest.mark.postgres


def publish(client: TestClient, h: dict[str, str], venue_id: int, doc: dict) -> int:
    made = client.post(
        f"/api/v1/venues/{venue_id}/preplan/drafts", headers=h, json={"document": doc}
    )
    assert made.status_code == 201, made.text
    plan = client.get(f"/api/v1/venues/{venue_id}/preplan", headers=h).json()
    plan_id, version = plan["plan"]["plan_id"], made.json()["version"]
    reviewed = client.post(
        f"/api/v1/preplans/{plan_id}/versions/{version}/review", headers=h, json={"note": "ok"}
    )
    assert reviewed.status_code == 200, reviewed.text
    published = client.post(f"/api/v1/preplans/{plan_id}/versions/{version}/publish", headers=h)
    assert published.status_code == 200, published.text
    return int(plan_id)


def test_officer_publishes_with_a_floor_plan_and_live_view(
    client: TestClient, db: Database, settings: Settings, pcity: PCity
):
    h = headers(db, settings, pcity, "commander", "town:east")
    east = pcity.venues["east"]
    plan_id = publish(client, h, east, document(pcity))
    up = client.post(
        f"/api/v1/preplans/{plan_id}/attachments",
        headers=h,
        files={"file": ("../../../etc/一层平面.png", PNG, "text/plain")},
        data={"title": "一层平面图"},
    )
    assert up.status_code == 201, up.text
    att = up.json()
    assert att["content_type"] == "image/png"  # by content, whatever the client said
    stored = list((settings.data_dir / "preplans" / "attachments").rglob("*"))
    files = [p for p in stored if p.is_file()]
    assert len(files) == 1
    assert ".." not in str(files[0])
    assert "etc" not in files[0].name
    got = client.get(f"/api/v1/preplans/{plan_id}/attachments/{att['attachment_id']}", headers=h)
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    live = client.get(f"/api/v1/preplans/{plan_id}/live", headers=h)
    assert live.status_code == 200, live.text
    body = live.json()
    assert body["version"]["status"] == "published"
    assert [d["device_id"] for d in body["devices"]] == [pcity.device_id]
    assert [a["alarm_id"] for a in body["open_alarms"]] == [pcity.alarm_id]
    assert body["hydrants"], "hydrants within 150 m by road"
    assert all(h["road_distance_m"] <= 150 for h in body["hydrants"])
    assert body["route"]["from"] == "station"
    assert body["route"]["travel_time_s"] > 0
    listed = client.get("/api/v1/preplans", headers=h).json()
    assert [i["plan_id"] for i in listed["items"]] == [plan_id]
    sheet = client.get(f"/api/v1/preplans/{plan_id}/sheet.html", headers=h)
    assert sheet.status_code == 200
    assert "消防控制室" in sheet.text
    assert "一层东侧" in sheet.text
    assert "UN1202" in sheet.text
    assert "script" not in sheet.text.lower()
    pdf = client.get(f"/api/v1/preplans/{plan_id}/sheet.pdf", headers=h)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_attachment_checks(client: TestClient, db: Database, settings: Settings, pcity: PCity):
    h = headers(db, settings, pcity, "commander", "town:east")
    plan_id = publish(client, h, pcity.venues["east"], document(pcity))
    url = f"/api/v1/preplans/{plan_id}/attachments"
    fake = client.post(
        url, headers=h, files={"file": ("plan.png", b"<html>not a png", "image/png")}
    )
    assert fake.status_code == 422
    assert fake.json()["error"]["code"] == "validation_failed"
    pdf = client.post(url, headers=h, files={"file": ("x.bin", PDF, "application/octet-stream")})
    assert pdf.status_code == 201
    assert pdf.json()["content_type"] == "application/pdf"
    big = PNG + b"\x00" * attachments.MAX_ATTACHMENT_BYTES
    too_big = client.post(url, headers=h, files={"file": ("big.png", big, "image/png")})
    assert too_big.status_code in (413, 422)
    empty = client.post(url, headers=h, files={"file": ("e.png", b"", "image/png")})
    assert empty.status_code == 422
    pdf_id = pdf.json()["attachment_id"]
    assert client.delete(f"{url}/{pdf_id}", headers=h).status_code == 204
    assert client.get(f"{url}/{pdf_id}", headers=h).status_code == 404
    listed = client.get(f"/api/v1/venues/{pcity.venues['east']}/preplan", headers=h).json()
    assert pdf_id not in [a["attachment_id"] for a in listed["attachments"]]


def test_stored_paths_cannot_leave_the_area(tmp_path: Path):
    with pytest.raises(ValidationFailed):
        attachments.resolve(tmp_path, "preplans/attachments/../../secret.png")
    with pytest.raises(ValidationFailed):
        attachments.resolve(tmp_path, "/etc/passwd")
    assert attachments.sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert attachments.sniff(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert attachments.sniff(b"GIF89a") is None


def test_venue_manager_proposes_for_its_own_venue_only(
    client: TestClient, db: Database, settings: Settings, pcity: PCity
):
    east, west = pcity.venues["east"], pcity.venues["west"]
    manager = headers(db, settings, pcity, "venue_manager", "town:east", venue_ids=(east,))
    ok = client.post(
        f"/api/v1/venues/{east}/preplan/drafts", headers=manager, json={"document": document(pcity)}
    )
    assert ok.status_code == 201, ok.text
    other = client.post(
        f"/api/v1/venues/{west}/preplan/drafts", headers=manager, json={"document": {}}
    )
    assert other.status_code == 404
    plan_id = client.get(f"/api/v1/venues/{east}/preplan", headers=manager).json()["plan"][
        "plan_id"
    ]
    review = client.post(f"/api/v1/preplans/{plan_id}/versions/1/review", headers=manager, json={})
    assert review.status_code == 403
    officer = headers(db, settings, pcity, "commander", "town:east")
    assert (
        client.post(f"/api/v1/preplans/{plan_id}/versions/1/review", headers=officer, json={})
    ).status_code == 200
    west_officer = headers(db, settings, pcity, "commander", "town:west")
    assert client.get(f"/api/v1/preplans/{plan_id}/live", headers=west_officer).status_code == 404


def test_a_dispatched_crew_sees_the_plan_live(
    client: TestClient, db: Database, settings: Settings, pcity: PCity
):
    east = pcity.venues["east"]
    officer = headers(db, settings, pcity, "commander", "town:east")
    plan_id = publish(client, officer, east, document(pcity))
    up = client.post(
        f"/api/v1/preplans/{plan_id}/attachments",
        headers=officer,
        files={"file": ("f.png", PNG, "image/png")},
    )
    att_id = up.json()["attachment_id"]
    h = headers(db, settings, pcity, "dispatcher", "city")
    crew = api_key(db, pcity.dcity, "integration", "town:east", ["/api/v1/crew", "/api/v1/avl"])
    idle = next(i for i, v in pcity.dcity.vehicles.items() if v["town"] == "east")
    # before any dispatch: no plan, no attachment through the crew route
    assert client.get(f"/api/v1/crew/vehicles/{idle}", headers=crew).json()["incident"] is None
    denied = client.get(f"/api/v1/crew/vehicles/{idle}/preplan/attachments/{att_id}", headers=crew)
    assert denied.status_code == 404
    opened = client.post(
        "/api/v1/calls",
        headers=h,
        json={
            "lon": 113.25,
            "lat": 23.075,
            "incident_type": "building_fire",
            "level": 1,
            "venue_category": "high_rise_office",
            "venue_id": east,
            "auto": True,
        },
    )
    units = dispatch_recommended(client, h, opened.json()["incident_id"])["assignments"]
    vehicle_id = units[0]["vehicle_id"]
    client.post(
        "/api/v1/avl/positions",
        headers=crew,
        json={"positions": [{"vehicle_id": vehicle_id, "lon": 113.24, "lat": 23.07}]},
    )
    mine = client.get(f"/api/v1/crew/vehicles/{vehicle_id}", headers=crew).json()
    plan = mine["plan"]
    assert plan["version"]["document"]["fire_protection"]["control_room"]["phone"]
    # the route from the unit's GPS fix is the crew page's own
    assert mine["route"]["geometry"]["coordinates"][0] == pytest.approx([113.24, 23.07])
    assert [a["alarm_id"] for a in plan["open_alarms"]] == [pcity.alarm_id]
    assert plan["devices"][0]["device_id"] == pcity.device_id
    # the dispatch order's sheet
    incident_id = opened.json()["incident_id"]
    order = client.get(f"/api/v1/incidents/{incident_id}/preplan-sheet.html", headers=h)
    assert order.status_code == 200
    assert "一层东侧" in order.text
    order_pdf = client.get(f"/api/v1/incidents/{incident_id}/preplan-sheet.pdf", headers=h)
    assert order_pdf.content.startswith(b"%PDF")
    got = client.get(
        f"/api/v1/crew/vehicles/{vehicle_id}/preplan/attachments/{att_id}", headers=crew
    )
    assert got.status_code == 200
    assert got.content == PNG
