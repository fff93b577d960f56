"""The planning routes: stored plans listed, read, compared and exported in the reader's
scope; making a plan is city-wide; bad bodies are named."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from firegrid.accounts.principal import Principal
from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.planning.busy import DEFAULT_BUSY_FRACTION, estimate_busy_fraction
from firegrid.planning.inputs import ServiceHistory
from firegrid.planning.store import save_plan
from tests.accounts.city import bearer, make_user, token_for
from tests.dispatch.city import DCity

RESULT = {
    "kind": "stations",
    "model": "mclp",
    "parameters": {"add": 1, "minutes": 5},
    "sites": [
        {
            "code": "N12",
            "lon": 113.21,
            "lat": 23.07,
            "node": 12,
            "source": "grid",
            "district": {
                "demand_points": 2,
                "weight": 3.5,
                "newly_covered_weight": 1.5,
                "points": [[113.2, 23.07], [113.22, 23.06]],
            },
        }
    ],
    "objective": 10.0,
    "bound": 10.0,
    "gap": 0.0,
    "optimal": True,
    "method": "highs",
    "coverage": {
        "minutes": 5,
        "before": {"covered_share": 0.5, "mean_time_s": 300.0, "worst_time_s": 900.0},
        "after": {"covered_share": 0.6, "mean_time_s": 250.0, "worst_time_s": 800.0},
    },
    "stations": [{"id": 1, "code": "S01", "lon": 113.05, "lat": 23.07}],
}


@pytest.fixture
def client(settings: Settings, db: Database, pcity: DCity) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client


def _headers(db: Database, settings: Settings, pcity: DCity, key: str) -> dict[str, str]:
    uid = make_user(db, f"planner_{key.replace(':', '_')}", "planner", pcity.codes[key])
    return bearer(token_for(db, settings, uid))


def _city_plan(db: Database, pcity: DCity, name: str) -> int:
    actor = Principal("user:p", "planner", "planner", pcity.paths["city"], pcity.codes["city"])
    with db.session() as session:
        return save_plan(session, actor, RESULT, name).id


def test_plans_are_read_in_scope_and_exported(
    client: TestClient, db: Database, settings: Settings, pcity: DCity
) -> None:
    first, second = _city_plan(db, pcity, "A"), _city_plan(db, pcity, "B")
    city = _headers(db, settings, pcity, "city")
    listed = client.get("/api/v1/planning/plans", headers=city)
    assert listed.status_code == 200, listed.text
    assert [p["id"] for p in listed.json()["items"]] == [second, first]
    one = client.get(f"/api/v1/planning/plans/{first}", headers=city).json()
    assert one["summary"]["coverage_after"] == 0.6
    assert one["result"]["sites"][0]["code"] == "N12"
    both = client.get("/api/v1/planning/compare", params={"ids": f"{first},{second}"}, headers=city)
    assert [p["name"] for p in both.json()["plans"]] == ["A", "B"]
    geo = client.get(f"/api/v1/planning/plans/{first}/export", headers=city)
    assert geo.status_code == 200
    roles = [f["properties"]["role"] for f in json.loads(geo.content)["features"]]
    assert roles == ["new_site", "district", "existing"]
    xlsx = client.get(f"/api/v1/planning/plans/{first}/export?format=xlsx", headers=city)
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.content))
    assert book["sites"]["A2"].value == "N12"
    html = client.get(f"/api/v1/planning/plans/{first}/export?format=html", headers=city)
    assert "<svg" in html.text
    assert "N12" in html.text
    # a town-scoped planner does not see the city's plans (their sites span the city)
    town = _headers(db, settings, pcity, "town:west")
    assert client.get("/api/v1/planning/plans", headers=town).json()["items"] == []
    assert client.get(f"/api/v1/planning/plans/{first}", headers=town).status_code == 404


def test_making_a_plan_is_city_wide_and_checks_its_body(
    client: TestClient, db: Database, settings: Settings, pcity: DCity
) -> None:
    town = _headers(db, settings, pcity, "town:west")
    refused = client.post("/api/v1/planning/plans", json={"model": "mclp"}, headers=town)
    assert refused.status_code == 403
    city = _headers(db, settings, pcity, "city")
    bad = client.post("/api/v1/planning/plans", json={"model": "best", "add": -1}, headers=city)
    assert bad.status_code == 422
    assert set(bad.json()) == {"error"}
    bad_ids = client.get("/api/v1/planning/compare", params={"ids": "1,x"}, headers=city)
    assert bad_ids.status_code == 422


def test_busy_fraction_from_history() -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    history = ServiceHistory(10, busy_s=36_000.0, first=t0, last=t0 + timedelta(days=1), units=5)
    busy = estimate_busy_fraction(history)
    assert busy.source == "dispatch_history"
    assert busy.value == pytest.approx(36_000 / (5 * 86_400))
    empty = estimate_busy_fraction(ServiceHistory(0, 0.0, None, None, 5))
    assert (empty.value, empty.source) == (DEFAULT_BUSY_FRACTION, "default")
