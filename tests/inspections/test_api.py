"""The inspections API: record, list with filters, rectify with evidence, summary —
scoped by jurisdiction (another town's objects are 404)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.accounts.models import AuditEntry
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.inspections.service import HazardSpec
from tests.accounts.city import City, bearer, make_user, token_for
from tests.inspections.conftest import record

pytestmark = pytest.mark.postgres

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _headers(
    db: Database, settings: Settings, city: City, role: str, **kw: object
) -> dict[str, str]:
    user = make_user(db, f"insp_{role}_{len(kw)}", role, city.code("town", "in"), **kw)  # type: ignore[arg-type]
    return bearer(token_for(db, settings, user))


def test_record_list_rectify_and_summary(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    worker = _headers(db, settings, city, "grid_worker")
    venue = city.id("venue", "in")
    found = (utcnow() - timedelta(days=10)).isoformat()
    body = {
        "venue_id": venue,
        "inspected_at": found,
        "grid_worker_id": city.id("grid_worker", "in"),
        "hazards": [
            {"category": "blocked_exit", "severity": "major", "description": "exit chained"},
            {"category": "electrical_wiring"},
        ],
    }
    r = client.post("/api/v1/inspections", json=body, headers=worker)
    assert r.status_code == 201, r.text
    inspection = r.json()
    assert inspection["result"] == "hazards_found"
    assert inspection["hazard_count"] == 2
    exit_id, wiring_id = (h["id"] for h in inspection["hazards"])

    # blocked exit (major: 3 days) is overdue after 10 days; wiring (general: 30 days) is not
    r = client.get("/api/v1/hazards", params={"overdue": "true"}, headers=worker)
    assert [h["id"] for h in r.json()["items"]] == [exit_id]
    assert r.json()["items"][0]["status"] == "overdue"
    r = client.get("/api/v1/hazards", params={"status": "open", "venue_id": venue}, headers=worker)
    assert {h["id"] for h in r.json()["items"]} == {exit_id, wiring_id}
    since = (utcnow() - timedelta(days=1)).isoformat()
    assert (
        client.get("/api/v1/hazards", params={"since": since}, headers=worker).json()["count"] == 0
    )
    r = client.get("/api/v1/hazards", params={"limit": 1}, headers=worker).json()
    assert r["count"] == 1
    assert r["next_cursor"]
    nxt = client.get(
        "/api/v1/hazards", params={"limit": 1, "cursor": r["next_cursor"]}, headers=worker
    ).json()
    assert [h["id"] for h in nxt["items"]] == [wiring_id]
    r = client.get("/api/v1/inspections", params={"venue_id": venue}, headers=worker)
    assert [i["id"] for i in r.json()["items"]] == [inspection["id"]]
    r = client.get(f"/api/v1/inspections/{inspection['id']}", headers=worker)
    assert len(r.json()["hazards"]) == 2

    # the venue manager rectifies with a note and a photo
    manager = _headers(db, settings, city, "venue_manager", venue_ids=(venue,))
    r = client.post(
        f"/api/v1/hazards/{exit_id}/rectify",
        data={"note": "chain removed"},
        files={"photo": ("exit.png", PNG, "image/png")},
        headers=manager,
    )
    assert r.status_code == 200, r.text
    rectified = r.json()
    assert rectified["status"] == "rectified"
    assert rectified["overdue"] is False
    assert (Path(settings.data_dir) / rectified["evidence_photo"]).read_bytes() == PNG
    assert [t["to_status"] for t in rectified["transitions"]] == ["open", "rectified"]
    found, done = (t["cause_code"] for t in rectified["transitions"])
    assert found == "hazard_cause.found"
    assert done in {"hazard_cause.rectified", "hazard_cause.rectified_late"}
    again = client.post(f"/api/v1/hazards/{exit_id}/rectify", data={"note": "x"}, headers=manager)
    assert again.status_code == 409
    assert again.json()["error"]["message_code"] == "hazard.not_open"
    no_evidence = client.post(f"/api/v1/hazards/{wiring_id}/rectify", headers=manager)
    assert no_evidence.status_code == 422
    assert no_evidence.json()["error"]["message_code"] == "hazard.needs_evidence"

    r = client.get(f"/api/v1/venues/{venue}/inspection-summary", headers=manager)
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["open_hazards"] == 1
    assert summary["rectified_hazards"] == 1
    assert summary["overdue_rectifications"] == 0
    assert summary["inspections"] == 1
    assert summary["days_since_inspection"] == pytest.approx(10.0, abs=0.1)

    with db.session() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.kind == "change", AuditEntry.resource_type == "hazard"
            )
        ).all()
    assert sorted(actions) == ["create", "create", "rectify"]


def test_another_towns_objects_are_not_found(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    out_inspection, (out_hazard,) = record(db, city, "out")
    _, (in_hazard,) = record(db, city, "in", hazards=(HazardSpec("gas_misuse"),))
    worker = _headers(db, settings, city, "grid_worker")
    for path in (
        f"/api/v1/hazards/{out_hazard}",
        f"/api/v1/inspections/{out_inspection}",
        f"/api/v1/venues/{city.id('venue', 'out')}/inspection-summary",
    ):
        assert client.get(path, headers=worker).status_code == 404, path
    r = client.post(f"/api/v1/hazards/{out_hazard}/rectify", data={"note": "x"}, headers=worker)
    assert r.status_code == 404
    r = client.post(
        "/api/v1/inspections", json={"venue_id": city.id("venue", "out")}, headers=worker
    )
    assert r.status_code == 404
    listed = client.get("/api/v1/hazards", headers=worker).json()["items"]
    assert [h["id"] for h in listed] == [in_hazard]
    # roles: an analyst reads but may not record; a police liaison may not read
    analyst = _headers(db, settings, city, "analyst")
    assert client.get("/api/v1/hazards", headers=analyst).status_code == 200
    body = {"venue_id": city.id("venue", "in")}
    assert client.post("/api/v1/inspections", json=body, headers=analyst).status_code == 403
    police = _headers(db, settings, city, "police_liaison")
    assert client.get("/api/v1/inspections", headers=police).status_code == 403


def test_categories_are_declared(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    headers = _headers(db, settings, city, "commander")
    r = client.get("/api/v1/hazards/categories", headers=headers)
    codes = {c["code"] for c in r.json()}
    assert {"blocked_exit", "electrical_wiring", "ebike_indoor_charging", "three_in_one"} <= codes
