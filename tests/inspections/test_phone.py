"""The grid worker's phone: evidence on an inspection (checklist, GPS, photo) and
idempotent submissions — an offline submission sent twice is one inspection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.inspections.models import Hazard, Inspection, SubmissionKey
from tests.accounts.city import City, bearer, make_user, token_for
from tests.inspections.conftest import record

pytestmark = pytest.mark.postgres

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _worker(db: Database, settings: Settings, city: City, name: str = "phone") -> dict[str, str]:
    user = make_user(db, name, "grid_worker", city.code("town", "in"))
    return bearer(token_for(db, settings, user))


def _body(city: City, **extra: object) -> dict[str, object]:
    return {
        "venue_id": city.id("venue", "in"),
        "inspected_at": (utcnow() - timedelta(minutes=30)).isoformat(),
        "checklist": "general",
        "checklist_answers": {"gn_exits": "fail", "gn_extinguishers": "ok"},
        "gps_status": "recorded",
        "gps_lon": 113.75,
        "gps_lat": 23.02,
        "gps_accuracy_m": 12.5,
        "hazards": [{"category": "blocked_exit", "severity": "major"}],
        **extra,
    }


def _count(db: Database, model: type[Inspection] | type[Hazard]) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_offline_submission_sent_twice_is_one_inspection(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    headers = {**_worker(db, settings, city), "Idempotency-Key": "phone-1f3a9c2e-0001"}
    body = _body(city)
    first = client.post("/api/v1/inspections", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/inspections", json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["hazard_count"] == 1
    assert _count(db, Inspection) == 1
    assert _count(db, Hazard) == 1
    saved = first.json()
    assert saved["checklist_answers"] == {"gn_exits": "fail", "gn_extinguishers": "ok"}
    assert (saved["gps_status"], saved["gps_accuracy_m"]) == ("recorded", 12.5)

    # the photo, sent twice with its own key: attached once
    photo_headers = {**headers, "Idempotency-Key": "phone-1f3a9c2e-0001-photo"}
    url = f"/api/v1/inspections/{saved['id']}/photo"
    files = {"photo": ("site.png", PNG, "image/png")}
    r1 = client.post(url, files=files, headers=photo_headers)
    assert r1.status_code == 200, r1.text
    r2 = client.post(url, files=files, headers=photo_headers)
    assert r2.status_code == 200, r2.text
    assert r2.json()["evidence_photo"] == r1.json()["evidence_photo"] != ""
    # another photo with another key: the inspection already has its photo
    other = {**headers, "Idempotency-Key": "phone-1f3a9c2e-0002-photo"}
    assert client.post(url, files=files, headers=other).status_code == 409

    # without a key, the same body is a second inspection (keys are opt-in)
    plain = _worker(db, settings, city, "phone-plain")
    assert client.post("/api/v1/inspections", json=body, headers=plain).status_code == 201
    assert _count(db, Inspection) == 2


def test_a_key_reused_with_another_body_is_a_conflict(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    headers = {**_worker(db, settings, city), "Idempotency-Key": "phone-key-reused-01"}
    assert client.post("/api/v1/inspections", json=_body(city), headers=headers).status_code == 201
    changed = _body(city, note="another visit")
    r = client.post("/api/v1/inspections", json=changed, headers=headers)
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "conflict"
    assert "Idempotency-Key" in error["message"]
    assert error["details"]["key"] == "phone-key-reused-01"
    assert _count(db, Inspection) == 1
    bad = {**headers, "Idempotency-Key": "short"}
    r = client.post("/api/v1/inspections", json=changed, headers=bad)
    assert r.status_code == 422, r.text
    # another worker may use the same key string: keys are per caller
    other = {**_worker(db, settings, city, "phone2"), "Idempotency-Key": "phone-key-reused-01"}
    assert client.post("/api/v1/inspections", json=changed, headers=other).status_code == 201
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(SubmissionKey)) == 2


def test_rectification_sent_twice_is_rectified_once(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    _, (hazard_id,) = record(db, city, "in")
    headers = {**_worker(db, settings, city), "Idempotency-Key": "phone-rectify-0001"}
    url = f"/api/v1/hazards/{hazard_id}/rectify"
    files = {"photo": ("fixed.png", PNG, "image/png")}
    first = client.post(url, data={"note": "cleared"}, files=files, headers=headers)
    assert first.status_code == 200, first.text
    again = client.post(url, data={"note": "cleared"}, files=files, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["evidence_photo"] == first.json()["evidence_photo"]
    assert [t["to_status"] for t in again.json()["transitions"]] == ["open", "rectified"]
    different = client.post(url, data={"note": "other"}, headers=headers)
    assert different.status_code == 409


def test_evidence_is_checked(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    headers = _worker(db, settings, city)
    cases = [
        ({"checklist": "nope"}, "unknown checklist"),
        ({"checklist_answers": {"ts_wiring": "ok"}}, "has no item"),
        ({"gps_accuracy_m": None}, "gps_accuracy_m"),
        ({"gps_status": "denied"}, "records no position"),
    ]
    for change, message in cases:
        r = client.post("/api/v1/inspections", json=_body(city, **change), headers=headers)
        assert r.status_code == 422, (change, r.text)
        assert message in r.json()["error"]["message"], r.text
    denied = _body(city, gps_status="denied", gps_lon=None, gps_lat=None, gps_accuracy_m=None)
    r = client.post("/api/v1/inspections", json=denied, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["gps_status"] == "denied"
    r = client.get("/api/v1/inspections/checklists", headers=headers)
    assert r.status_code == 200, r.text
    codes = {c["code"] for c in r.json()["items"]}
    assert {"general", "three_small", "rental_housing"} <= codes


def test_two_copies_racing_make_one_inspection(db: Database, city: City) -> None:
    """The second copy waits for the first transaction and answers its inspection."""
    import threading

    from firegrid.inspections import idempotency, service
    from tests.inspections.conftest import principal

    worker = principal(city, "grid_worker")
    digest = idempotency.request_digest({"venue_id": city.id("venue", "in")})
    key = "phone-race-000001"
    second: list[idempotency.Claim] = []
    errors: list[BaseException] = []

    def second_copy() -> None:
        try:
            with db.session() as session:
                second.append(idempotency.claim(session, worker, key, "inspection", digest))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    with db.session() as session:
        first = idempotency.claim(session, worker, key, "inspection", digest)
        assert not first.is_replay
        inspection, _ = service.record_inspection(session, worker, venue_id=city.id("venue", "in"))
        idempotency.settle(session, first, inspection.id)
        thread = threading.Thread(target=second_copy)
        thread.start()
        thread.join(0.5)  # it waits on the unique key while this transaction is open
        assert thread.is_alive()
    thread.join(15)
    assert errors == []
    assert [c.replay_id for c in second] == [inspection.id]
    assert _count(db, Inspection) == 1
