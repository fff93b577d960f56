"""The risk API: runs, scores, explanations, rankings, grades, trends — scoped by
jurisdiction (SQLite and PostgreSQL)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.api.app import create_app
from firegrid.core.changes import consume_changes
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.risk.changes import RESCORE_CHANGED_VENUES
from firegrid.risk.models import RiskRescore, RiskScore
from tests.accounts.city import bearer, make_user, token_for, use_cheap_hasher
from tests.risk.test_runs import build_city


@pytest.fixture(autouse=True, scope="module")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


@pytest.fixture
def world(db: Database, settings: Settings) -> Iterator[dict[str, Any]]:
    city = build_city(db, settings)
    town_a, town_b = city["towns"][0], city["towns"][1]
    users = {
        "admin": make_user(db, "risk_admin", "admin", "441900"),
        "analyst_a": make_user(db, "risk_analyst_a", "analyst", town_a),
        "commander_a": make_user(db, "risk_commander_a", "commander", town_a),
        "worker": make_user(db, "risk_worker", "grid_worker", town_a),
    }
    headers = {k: bearer(token_for(db, settings, v)) for k, v in users.items()}
    app = create_app(settings, db)
    with TestClient(app) as client:
        yield {
            **city,
            "client": client,
            "h": headers,
            "town_a": town_a,
            "town_b": town_b,
            "settings": settings,
        }


def test_run_and_read_scoped_by_jurisdiction(world: dict[str, Any], db: Database) -> None:
    client: TestClient = world["client"]
    h = world["h"]
    a, b = world["town_a"], world["town_b"]
    va, vb = world["venue_of_town"][a], world["venue_of_town"][b]

    # No run yet.
    assert client.get("/api/v1/risk/runs/latest", headers=h["admin"]).status_code == 404
    # Only roles with risk:run may start a run.
    assert client.post("/api/v1/risk/runs", json={}, headers=h["commander_a"]).status_code == 403
    r = client.post("/api/v1/risk/runs", json={"model": "expert-ahp"}, headers=h["admin"])
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["counts"]["venues"] == world["counts"]["venues"]
    assert run["validation"]["auc"] > 0
    assert (
        client.post(
            "/api/v1/risk/runs", json={"model": "no-such-model"}, headers=h["admin"]
        ).status_code
        == 404
    )

    # Runs: listed; the summary is computed over the caller's venues only.
    listed = client.get("/api/v1/risk/runs", headers=h["analyst_a"]).json()["items"]
    assert [x["run_id"] for x in listed] == [run["run_id"]]
    summary = client.get(f"/api/v1/risk/runs/{run['run_id']}", headers=h["analyst_a"]).json()
    assert summary["counts"]["venues"] == world["venues_per_town"][a]
    assert summary["levels"]["town"]["areas"] == 1
    assert {u["town_code"] for u in summary["top_units"]} == {a}
    assert summary["validation"]["calibration"]
    whole = client.get("/api/v1/risk/runs/latest", headers=h["admin"]).json()
    assert whole["counts"]["venues"] == world["counts"]["venues"]
    assert whole["levels"]["town"]["areas"] == world["counts"]["towns"]

    # Venue score and explanation: in scope 200, another town's venue 404.
    score = client.get(f"/api/v1/risk/venues/{va}", headers=h["analyst_a"])
    assert score.status_code == 200
    body = score.json()
    assert math.isclose(sum(body["contributions"].values()), body["score"], abs_tol=1e-9)
    assert client.get(f"/api/v1/risk/venues/{vb}", headers=h["analyst_a"]).status_code == 404
    assert client.get(f"/api/v1/risk/venues/{vb}", headers=h["admin"]).status_code == 200
    exp = client.get(f"/api/v1/risk/venues/{va}/explanation", headers=h["commander_a"])
    assert exp.status_code == 200
    e = exp.json()
    assert math.isclose(sum(c["points"] for c in e["contributions"]), body["score"], abs_tol=1e-9)
    assert (
        client.get(f"/api/v1/risk/venues/{vb}/explanation", headers=h["commander_a"]).status_code
        == 404
    )
    # Roles without risk:read are refused.
    assert client.get(f"/api/v1/risk/venues/{va}", headers=h["worker"]).status_code == 403

    # Rankings and grades only hold the caller's venues and areas.
    venues = client.get(
        "/api/v1/risk/rankings", params={"level": "venue", "limit": 1000}, headers=h["analyst_a"]
    ).json()["items"]
    assert venues
    assert {v["town_code"] for v in venues} == {a}
    scores = [v["score"] for v in venues]
    assert scores == sorted(scores, reverse=True)
    towns = client.get(
        "/api/v1/risk/rankings", params={"level": "town"}, headers=h["analyst_a"]
    ).json()["items"]
    assert [t["town_code"] for t in towns] == [a]
    all_towns = client.get(
        "/api/v1/risk/rankings", params={"level": "town"}, headers=h["admin"]
    ).json()["items"]
    assert len(all_towns) == world["counts"]["towns"]
    # towns are ranked by the area method's score, each with its stored grade and drivers
    area_scores = [t["area_score"] for t in all_towns]
    assert area_scores == sorted(area_scores, reverse=True)
    assert all(t["grade"] in ("red", "orange", "yellow", "blue") for t in all_towns)

    # Area grades (the area method): scoped, with drivers; history and changes.
    mine = client.get("/api/v1/risk/areas", params={"level": "town"}, headers=h["analyst_a"]).json()
    assert [x["code"] for x in mine["items"]] == [a]
    assert mine["thresholds"] == {"red": 60.0, "orange": 45.0, "yellow": 30.0}
    assert sum(mine["area_grades"].values()) == 1
    everyone = client.get("/api/v1/risk/areas", params={"level": "town"}, headers=h["admin"])
    assert len(everyone.json()["items"]) == world["counts"]["towns"]
    # industries are city-wide figures: a town analyst sees none
    industries = client.get(
        "/api/v1/risk/areas", params={"level": "industry"}, headers=h["analyst_a"]
    ).json()
    assert industries["items"] == []
    hist = client.get(
        "/api/v1/risk/areas/town/history", params={"code": a}, headers=h["analyst_a"]
    ).json()
    assert [r["run_id"] for r in hist["runs"]] == [run["run_id"]]
    other = next(c for c in world["towns"] if c != a)
    assert (
        client.get(
            "/api/v1/risk/areas/town/history", params={"code": other}, headers=h["analyst_a"]
        ).status_code
        == 404
    )
    changes = client.get("/api/v1/risk/changes", headers=h["analyst_a"]).json()
    assert changes["previous_run_id"] is None
    schedules = client.get("/api/v1/risk/schedules", headers=h["analyst_a"]).json()["items"]
    assert {x["name"] for x in schedules} == {"monthly", "after_import"}
    # no report was written for this run: not found, for everyone
    report = client.get(f"/api/v1/risk/runs/{run['run_id']}/report", headers=h["admin"])
    assert report.status_code == 404
    grids = client.get(
        "/api/v1/risk/grades", params={"level": "grid"}, headers=h["analyst_a"]
    ).json()["items"]
    assert grids
    assert all(g["key"].startswith(a) for g in grids)
    assert sum(g["n_venues"] for g in grids) == world["venues_per_town"][a]
    assert (
        client.get("/api/v1/risk/rankings", params={"level": "x"}, headers=h["admin"]).status_code
        == 422
    )

    # Trends: venue and area, scoped.
    trend = client.get(f"/api/v1/risk/venues/{va}/trend", headers=h["analyst_a"]).json()
    assert [t["run_id"] for t in trend["runs"]] == [run["run_id"]]
    assert client.get(f"/api/v1/risk/venues/{vb}/trend", headers=h["analyst_a"]).status_code == 404
    area = client.get(
        "/api/v1/risk/areas/town/trend", params={"code": a}, headers=h["analyst_a"]
    ).json()
    assert area["runs"][0]["n_venues"] == world["venues_per_town"][a]
    assert (
        client.get(
            "/api/v1/risk/areas/town/trend", params={"code": b}, headers=h["analyst_a"]
        ).status_code
        == 404
    )


def test_rescore_via_api_is_recorded_and_scoped(world: dict[str, Any], db: Database) -> None:
    client: TestClient = world["client"]
    h = world["h"]
    a, b = world["town_a"], world["town_b"]
    va, vb = world["venue_of_town"][a], world["venue_of_town"][b]
    assert client.post("/api/v1/risk/runs", json={}, headers=h["admin"]).status_code == 201
    with db.session() as session:
        batch = session.scalars(select(RiskScore).where(RiskScore.venue_id == va)).one()
    r = client.post(
        f"/api/v1/risk/venues/{va}/rescore",
        json={"cause": "rectification verified"},
        headers=h["analyst_a"],
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert math.isclose(out["score"], batch.score, abs_tol=1e-9)
    assert out["cause"] == "rectification verified"
    assert (
        client.post(
            f"/api/v1/risk/venues/{vb}/rescore", json={"cause": "x"}, headers=h["analyst_a"]
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/risk/venues/{va}/rescore", json={"cause": "x"}, headers=h["commander_a"]
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/risk/venues/{va}/rescore", json={}, headers=h["analyst_a"]
        ).status_code
        == 422
    )
    with db.session() as session:
        recs = session.scalars(select(RiskRescore)).all()
        assert [(x.venue_id, x.cause) for x in recs] == [(va, "rectification verified")]
        assert recs[0].actor.startswith("user:")
    latest = client.get(f"/api/v1/risk/venues/{va}", headers=h["analyst_a"]).json()
    assert latest["latest_rescore"]["cause"] == "rectification verified"


def test_a_changed_venue_is_rescored_at_once(world: dict[str, Any], db: Database) -> None:
    """Editing a venue, recording an inspection and rectifying a hazard each record a
    change that risk's consumer turns into a re-score of the venue, with the change as its
    cause."""
    client: TestClient = world["client"]
    h = world["h"]
    va = world["venue_of_town"][world["town_a"]]

    def rescores() -> list[tuple[int, str, float, str]]:
        # the change stream's consumers (run by `firegrid serve`) handle what is pending
        consume_changes(db, world["settings"], RESCORE_CHANGED_VENUES)
        with db.session() as session:
            return [
                (r.venue_id, r.cause, r.score, r.actor)
                for r in session.scalars(select(RiskRescore).order_by(RiskRescore.id))
            ]

    def last_inputs() -> dict[str, Any]:
        with db.session() as session:
            last = session.scalars(select(RiskRescore).order_by(RiskRescore.id.desc())).first()
            assert last is not None
            return dict(last.inputs)

    # before the first run there is nothing to re-score against
    patch = {"night_occupancy": 5}
    assert client.patch(f"/api/v1/venues/{va}", json=patch, headers=h["admin"]).status_code == 200
    assert rescores() == []

    assert client.post("/api/v1/risk/runs", json={}, headers=h["admin"]).status_code == 201
    with db.session() as session:
        batch = session.scalars(select(RiskScore).where(RiskScore.venue_id == va)).one()
    patch = {"night_occupancy": 400, "construction_class": "IV"}
    assert client.patch(f"/api/v1/venues/{va}", json=patch, headers=h["admin"]).status_code == 200
    ((venue, cause, score, actor),) = rescores()
    assert venue == va
    assert cause == f"venue {va} updated by risk_admin"
    assert actor.startswith("user:")
    assert score > batch.score  # more people asleep in a weaker building: riskier

    body = {"venue_id": va, "hazards": [{"category": "blocked_exit", "severity": "major"}]}
    r = client.post("/api/v1/inspections", json=body, headers=h["admin"])
    assert r.status_code == 201, r.text
    hazard_id = r.json()["hazards"][0]["id"]
    after_inspection = rescores()
    assert after_inspection[-1][1] == f"inspection {r.json()['id']} recorded by risk_admin"
    inputs = last_inputs()  # inspected today, with one open hazard
    assert (inputs["open_hazards"], inputs["days_since_inspection"]) == (1, 0)

    r = client.post(
        f"/api/v1/hazards/{hazard_id}/rectify", data={"note": "exit cleared"}, headers=h["admin"]
    )
    assert r.status_code == 200, r.text
    last = rescores()[-1]
    assert last[1] == f"hazard {hazard_id} rectified by risk_admin"
    assert last_inputs()["open_hazards"] == 0
    assert last[2] < after_inspection[-1][2]  # the same venue without its open hazard
