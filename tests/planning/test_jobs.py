"""Planning jobs through the API on the planning city: a simulation of a stored plan, a
hydrant and a logistics plan each run as a background job (202, then ``GET /jobs/{id}``);
the API's simulation equals the CLI's for the same plan and calls; a job a restart cut
short is failed and retriable, and a retry finishes it; bad input is named."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from firegrid.accounts.principal import Principal, system_principal
from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings, get_settings
from firegrid.dispatch.generate import generate_records, load_points, write_jsonl
from firegrid.planning import jobs_api
from firegrid.planning.commands import plan_app
from firegrid.planning.hydrants import plan_hydrants
from firegrid.planning.logistics import plan_logistics
from firegrid.planning.models import PlanningJob
from firegrid.planning.store import get_plan, save_plan
from tests.accounts.city import bearer, make_user, token_for
from tests.dispatch.city import DCity

runner = CliRunner()
PLAN = {
    "kind": "stations",
    "model": "mclp",
    "parameters": {"add": 1},
    "sites": [{"code": "N1", "lon": 113.29, "lat": 23.09, "node": 1}],
}


@pytest.fixture
def client(settings: Settings, db: Database, pcity: DCity) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client


def _headers(db: Database, settings: Settings, pcity: DCity, key: str) -> dict[str, str]:
    uid = make_user(db, f"planner_{key.replace(':', '_')}", "planner", pcity.codes[key])
    return bearer(token_for(db, settings, uid))


def _plan(db: Database, pcity: DCity, name: str) -> int:
    actor = Principal("user:p", "planner", "planner", pcity.paths["city"], pcity.codes["city"])
    with db.session() as session:
        return save_plan(session, actor, PLAN, name).id


def _calls(db: Database, path: Path, count: int = 120) -> Path:
    write_jsonl(generate_records(load_points(db), count, seed=3), path)
    return path


def _job(client: TestClient, job_id: int, headers: dict[str, str]) -> dict[str, Any]:
    got = client.get(f"/api/v1/planning/jobs/{job_id}", headers=headers)
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def test_simulate_job_lifecycle_equals_the_cli(
    client: TestClient,
    db: Database,
    settings: Settings,
    pcity: DCity,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _calls(db, tmp_path / "year.jsonl")
    by_api, by_cli = _plan(db, pcity, "api"), _plan(db, pcity, "cli")
    city = _headers(db, settings, pcity, "city")
    with calls.open("rb") as upload:
        queued = client.post(
            f"/api/v1/planning/plans/{by_api}/simulate",
            files={"calls": ("year.jsonl", upload, "application/x-ndjson")},
            data={"seed": "4"},
            headers=city,
        )
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    assert queued.json()["progress_total"] == 120
    job = _job(client, queued.json()["id"], city)
    assert job["status"] == "done", job
    assert (job["plan_id"], job["progress_share"], job["attempts"]) == (by_api, 1.0, 1)
    assert job["started_at"] is not None
    assert job["finished_at"] is not None
    plan = client.get(f"/api/v1/planning/plans/{by_api}", headers=city).json()
    api_sim = plan["simulation"]
    assert api_sim["calls_file"] == "year.jsonl"
    assert api_sim["before"]["calls"] == api_sim["after"]["calls"] == 120

    monkeypatch.setenv("FIREGRID_DATA_DIR", str(tmp_path / "cli-data"))
    get_settings.cache_clear()
    args = ["simulate", "--plan", str(by_cli), "--calls", str(calls), "--seed", "4"]
    done = runner.invoke(plan_app, [*args, "--db", database_url, "--json"])
    assert done.exit_code == 0, done.output
    cli_sim = json.loads(done.output)
    assert api_sim["comparison"] == cli_sim["comparison"]
    for side in ("before", "after"):  # every figure but the wall time of the replay
        api_sim[side].pop("elapsed_s")
        cli_sim[side].pop("elapsed_s")
        assert api_sim[side] == cli_sim[side]
    listed = client.get("/api/v1/planning/jobs", headers=city).json()["items"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_simulate_from_a_stored_year_and_with_a_limit(
    client: TestClient, db: Database, settings: Settings, pcity: DCity
) -> None:
    _calls(db, Path(settings.data_dir) / "calls" / "2025.jsonl", 80)
    plan_id = _plan(db, pcity, "stored")
    city = _headers(db, settings, pcity, "city")
    queued = client.post(
        f"/api/v1/planning/plans/{plan_id}/simulate",
        data={"stored": "2025.jsonl", "limit": "50"},
        headers=city,
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["progress_total"] == 50
    assert _job(client, queued.json()["id"], city)["status"] == "done"
    with db.session() as session:
        simulation = get_plan(session, plan_id, system_principal("t")).simulation
    assert simulation is not None
    assert simulation["before"]["calls"] == 50
    assert simulation["calls_file"] == "2025.jsonl"


def test_simulate_names_what_is_wrong(
    client: TestClient,
    db: Database,
    settings: Settings,
    pcity: DCity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan_id = _plan(db, pcity, "bad")
    city = _headers(db, settings, pcity, "city")
    url = f"/api/v1/planning/plans/{plan_id}/simulate"
    neither = client.post(url, data={"seed": "1"}, headers=city)
    assert neither.status_code == 422
    assert neither.json()["error"]["details"] == {"field": "calls"}
    unknown = client.post(url, data={"stored": "../secret.jsonl"}, headers=city)
    assert unknown.status_code == 422
    missing = client.post(url, data={"stored": "none.jsonl"}, headers=city)
    assert missing.status_code == 422
    assert "no stored year" in missing.json()["error"]["message"]
    monkeypatch.setattr(jobs_api, "MAX_CALLS_BYTES", 100)
    big = client.post(url, files={"calls": ("big.jsonl", b"{}\n" * 100)}, headers=city)
    assert big.status_code == 422
    assert big.json()["error"]["details"]["max_bytes"] == 100
    monkeypatch.setattr(jobs_api, "MAX_CALLS_BYTES", 1024 * 1024)
    # a calls file with a record lacking its fields: the job fails, naming the line
    broken = client.post(url, files={"calls": ("b.jsonl", b'{"t": "x"}\n')}, headers=city)
    assert broken.status_code == 202
    job = _job(client, broken.json()["id"], city)
    assert job["status"] == "failed"
    assert job["retriable"] is False
    assert job["error"]["code"] == "validation_failed"
    assert "line 1" in job["error"]["message"]
    # out of scope: a town planner neither simulates nor reads the city's plan or job
    town = _headers(db, settings, pcity, "town:west")
    assert client.post(url, data={"stored": "x.jsonl"}, headers=town).status_code == 404
    assert client.get(f"/api/v1/planning/jobs/{job['id']}", headers=town).status_code == 404
    assert client.get("/api/v1/planning/jobs", headers=town).json()["items"] == []


def test_hydrant_and_logistics_jobs_store_the_plans(
    client: TestClient, db: Database, settings: Settings, pcity: DCity
) -> None:
    town = _headers(db, settings, pcity, "town:west")
    assert client.post("/api/v1/planning/hydrants", json={}, headers=town).status_code == 403
    city = _headers(db, settings, pcity, "city")
    bad = client.post("/api/v1/planning/logistics", json={"p": 0}, headers=city)
    assert bad.status_code == 422
    hydrants = client.post("/api/v1/planning/hydrants", json={"name": "h"}, headers=city)
    assert hydrants.status_code == 202, hydrants.text
    job = _job(client, hydrants.json()["id"], city)
    assert job["status"] == "done", job
    stored = client.get(f"/api/v1/planning/plans/{job['plan_id']}", headers=city).json()
    direct = plan_hydrants(db, settings)
    assert stored["summary"]["kind"] == "hydrants"
    assert stored["summary"]["name"] == "h"
    assert stored["result"]["sites"] == direct["sites"]
    logistics = client.post(
        "/api/v1/planning/logistics", json={"p": 2, "spacing_m": 4000}, headers=city
    )
    assert logistics.status_code == 202, logistics.text
    job = _job(client, logistics.json()["id"], city)
    assert job["status"] == "done", job
    stored = client.get(f"/api/v1/planning/plans/{job['plan_id']}", headers=city).json()
    direct = plan_logistics(db, settings, 2, spacing_m=4000.0)
    assert stored["result"]["objective"] == pytest.approx(direct["objective"])
    assert [s["code"] for s in stored["result"]["sites"]] == [s["code"] for s in direct["sites"]]


def _wait_done(client: TestClient, job_id: int, headers: dict[str, str]) -> dict[str, Any]:
    """The job once it ended (the runner thread takes it within a poll or two)."""
    deadline = time.monotonic() + 60
    while True:
        job = _job(client, job_id, headers)
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_a_job_cut_short_by_a_restart_runs_again_and_a_failed_one_is_retried(
    db: Database, settings: Settings, pcity: DCity
) -> None:
    with db.session() as session:
        job = PlanningJob(
            kind="logistics",
            status="running",  # its process died: no lease to renew
            parameters={"p": 1, "spacing_m": 4000.0, "time_limit_s": 30.0, "name": ""},
            jurisdiction_path=pcity.paths["city"],
            created_by="planner",
            attempts=1,
            runner="gone:1:dead",
        )
        session.add(job)
        session.flush()
        job_id = job.id
    with TestClient(create_app(settings, db)) as client:  # the service starts again
        city = _headers(db, settings, pcity, "city")
        done = _wait_done(client, job_id, city)
        assert done["status"] == "done", done
        assert done["attempts"] == 2
        assert done["plan_id"] is not None
        again = client.post(f"/api/v1/planning/jobs/{job_id}/retry", headers=city)
        assert again.status_code == 409  # done: nothing to retry
        with db.session() as session:
            failed = session.get(PlanningJob, job_id)
            assert failed is not None
            failed.status, failed.retriable = "failed", True
        again = client.post(f"/api/v1/planning/jobs/{job_id}/retry", headers=city)
        assert again.status_code == 202, again.text
        assert _wait_done(client, job_id, city)["attempts"] == 3
    with db.session() as session:
        from firegrid.accounts.models import AuditEntry

        rows = session.query(AuditEntry).filter(AuditEntry.kind == "change")
        mine = rows.filter(AuditEntry.resource_type == "planning_job").order_by(AuditEntry.id)
        actions = [a.action for a in mine if a.resource_id == str(job_id)]
    assert actions == [
        "planning.job.reclaim",
        "planning.job.finish",
        "planning.job.retry",
        "planning.job.start",
        "planning.job.finish",
    ]


def test_station_plan_job_reports_its_stages_and_stores_the_plan(
    client: TestClient, db: Database, settings: Settings, pcity: DCity
) -> None:
    from firegrid.planning.stations import StationParams, plan_stations

    body = {"model": "mclp", "add": 1, "minutes": 4, "spacing_m": 4000, "name": "s"}
    town = _headers(db, settings, pcity, "town:west")
    assert client.post("/api/v1/planning/stations", json=body, headers=town).status_code == 403
    city = _headers(db, settings, pcity, "city")
    bad = client.post("/api/v1/planning/stations", json={**body, "add": -1}, headers=city)
    assert bad.status_code == 422
    queued = client.post("/api/v1/planning/stations", json=body, headers=city)
    assert queued.status_code == 202, queued.text
    assert (queued.json()["kind"], queued.json()["progress_total"]) == ("stations", 5)
    job = _wait_done(client, queued.json()["id"], city)
    assert job["status"] == "done", job
    assert (job["progress_share"], job["stage"], job["attempts"]) == (1.0, None, 1)
    stored = client.get(f"/api/v1/planning/plans/{job['plan_id']}", headers=city).json()
    assert stored["summary"]["name"] == "s"
    direct = plan_stations(
        db, settings, StationParams(model="mclp", add=1, minutes=4, spacing_m=4000)
    )
    assert [s["node"] for s in stored["result"]["sites"]] == [s["node"] for s in direct["sites"]]
    assert stored["result"]["optimal"] == direct["optimal"]
