"""The plan, due-list and performance routes on the two-town test city: scoped to the
caller (the outside town never appears), the due list ordered, the xlsx a workbook."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from tests.accounts.city import City, bearer, make_user, token_for
from tests.inspections.conftest import record

pytestmark = pytest.mark.postgres


def _headers(db: Database, settings: Settings, city: City, role: str) -> dict[str, str]:
    user = make_user(db, f"plan_{role}", role, city.code("town", "in"))
    return bearer(token_for(db, settings, user))


def test_plan_and_due_list_stay_in_scope(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    headers = _headers(db, settings, city, "analyst")
    r = client.get("/api/v1/inspections/plan", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] >= 1
    assert all("990000002" not in g["town_code"] for g in body["grids"])
    venue_ids = {e["venue_id"] for g in body["grids"] for e in g["due"]}
    assert city.id("venue", "in") in venue_ids  # never inspected: due today
    assert city.id("venue", "out") not in venue_ids
    r = client.get(
        "/api/v1/inspections/plan", params={"grid": city.code("grid", "out")}, headers=headers
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    due = client.get("/api/v1/inspections/due", headers=headers).json()
    assert [i["venue_id"] for i in due["items"]] == sorted(
        (i["venue_id"] for i in due["items"]),
        key=lambda v: next(
            (
                {"red": 0, "yellow": 1, "green": 2}[i["colour"]],
                {"red": 0, "orange": 1, "yellow": 2, "blue": 3, "none": 4}[i["grade"]],
                i["due_on"],
                i["venue_id"],
            )
            for i in due["items"]
            if i["venue_id"] == v
        ),
    )


def test_an_inspection_moves_the_due_date(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    headers = _headers(db, settings, city, "analyst")
    venue = city.id("venue", "in")

    def entry() -> dict[str, object]:
        grids = client.get("/api/v1/inspections/plan", headers=headers).json()["grids"]
        return next(e for g in grids for e in g["due"] if e["venue_id"] == venue)

    assert entry()["last_inspected_at"] is None
    record(db, city, "in", days_ago=0.01, hazards=())
    grids = client.get("/api/v1/inspections/plan", headers=headers).json()["grids"]
    assert all(e["venue_id"] != venue for g in grids for e in g["due"])  # no longer due


def test_performance_json_and_xlsx(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    headers = _headers(db, settings, city, "analyst")
    params = {"period": "2026-11", "level": "town"}
    r = client.get("/api/v1/inspections/performance", params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert [row["unit"] for row in r.json()["items"]] == [city.code("town", "in")]
    bad = client.get(
        "/api/v1/inspections/performance", params={"period": "2026-13"}, headers=headers
    )
    assert bad.status_code in (400, 422)
    assert "error" in bad.json()
    x = client.get("/api/v1/inspections/performance.xlsx", params=params, headers=headers)
    assert x.status_code == 200
    sheet = load_workbook(io.BytesIO(x.content)).active
    assert sheet is not None
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        city.code("town", "in")
    ]
