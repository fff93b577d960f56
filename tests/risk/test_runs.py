"""Recorded assessment runs on the tiny demo city (SQLite and PostgreSQL)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.places.models import Jurisdiction, Venue
from firegrid.risk import service
from firegrid.risk.inputs import read_inputs
from firegrid.risk.models import RiskRescore, RiskRun, RiskScore

SEED = 3


def build_city(db: Database, settings: Settings) -> dict[str, Any]:
    """The tiny demo city with its road network stored (the geo engine loads it)."""
    from firegrid.demo import DemoSpec, build_demo_city, demo_road_network
    from firegrid.geo.store import save_network

    spec = DemoSpec.tiny()
    network = demo_road_network(spec, SEED)
    counts = build_demo_city(db, spec, SEED, network=network)
    save_network(db, network, source="test", cache_dir=settings.data_dir)
    with db.session() as session:
        towns = session.execute(
            select(Jurisdiction.code, Jurisdiction.path)
            .where(Jurisdiction.level == "town")
            .order_by(Jurisdiction.code)
        ).all()
        venue_of_town = {
            code: session.scalars(
                select(Venue.id).where(Venue.jurisdiction_path.startswith(path)).order_by(Venue.id)
            ).first()
            for code, path in towns
        }
        per_town = {
            code: session.scalar(
                select(func.count()).where(Venue.jurisdiction_path.startswith(path))
            )
            for code, path in towns
        }
    return {
        "counts": counts,
        "towns": [c for c, _ in towns],
        "town_paths": dict(towns),
        "venue_of_town": venue_of_town,
        "venues_per_town": per_town,
    }


@pytest.fixture
def city(db: Database, settings: Settings) -> dict[str, Any]:
    return build_city(db, settings)


def test_assess_records_one_run_with_levels_and_validation(
    db: Database, settings: Settings, city: dict[str, Any]
) -> None:
    summary = service.assess(db, settings, "expert-ahp", actor="test")
    n = city["counts"]["venues"]
    assert summary["counts"]["venues"] == n
    assert sum(summary["counts"]["grades"].values()) == n
    assert set(summary["levels"]) == {"town", "village", "grid", "industry", "category"}
    assert summary["levels"]["town"]["areas"] == city["counts"]["towns"]
    for block in summary["levels"].values():
        assert sum(block["venue_grades"].values()) == n
        assert sum(block["area_grades"].values()) == block["areas"]
    validation = summary["validation"]
    assert 0.0 <= validation["auc"] <= 1.0
    assert set(validation["precision_at_top"]) == {"1%", "5%", "10%"}
    assert len(validation["calibration"]) == 10
    assert summary["synthetic"] is True
    assert any("SYNTHETIC" in w for w in summary["warnings"])
    # the validation says what its labels are, with the generator's ceiling and an ablation
    assert validation["labels"] == "synthetic"
    assert validation["measures"] == "recovery of the synthetic process"
    assert 0.0 <= validation["ceiling_auc"] <= 1.0
    assert set(validation["ablation"]) >= {"generator_features_auc", "other_indicators_auc"}
    # area grades come from the area method: every row has its score and drivers
    assert all(cr <= 0.1 for cr in summary["area_method"]["consistency_ratio"].values())
    for block in summary["levels"].values():
        for row in block["rows"]:
            assert 0.0 <= row["area_score"] <= 100.0
            assert all(d["risk"] >= 0.5 for d in row["drivers"])
            # the simulated incident history is named as such where it drives a grade
            assert all(d["synthetic"] == (d["group"] == "history") for d in row["drivers"])
    assert summary["device_health"]["registered"] == city["counts"]["devices"]
    assert any("device_state" in w for w in summary["warnings"])
    assert summary["sources"]["first_due_travel_time_s"].startswith("geo engine")
    assert summary["top_units"]
    assert summary["top_units"][0]["rank"] == 1
    snapshot = datetime.fromisoformat(summary["snapshot_at"])
    assert snapshot.tzinfo is not None

    with db.session() as session:
        runs = session.scalars(select(RiskRun)).all()
        assert len(runs) == 1
        run = runs[0]
        assert run.id == summary["run_id"]
        assert run.status == "done"
        assert run.actor == "test"
        assert run.snapshot_at == snapshot
        assert run.model_version == summary["model_version"]
        assert run.synthetic
        assert run.venue_count == n
        assert run.normaliser["indicators"]
        stored = session.scalar(select(func.count()).where(RiskScore.run_id == run.id))
        assert stored == n
        red = session.scalar(
            select(func.count()).where(RiskScore.run_id == run.id, RiskScore.grade == "blue")
        )
        assert red == summary["counts"]["grades"]["blue"]
        # Travel time from the geo engine is stored with the inputs.
        row = session.scalars(select(RiskScore).limit(1)).one()
        assert row.inputs["first_due_travel_time_s"] is not None
        assert row.inputs["open_hazards"] is None  # no inspection source: null


def test_explanations_add_up_to_the_stored_score(
    db: Database, settings: Settings, city: dict[str, Any]
) -> None:
    summary = service.assess(db, settings, actor="test")
    venue_ids = [u["venue_id"] for u in summary["top_units"][:3]] + list(
        city["venue_of_town"].values()
    )
    with db.session() as session:
        for vid in venue_ids:
            score = service.venue_score(session, vid)
            assert math.isclose(sum(score["contributions"].values()), score["score"], abs_tol=1e-9)
            exp = service.explain(session, vid)
            points = sum(c["points"] for c in exp["contributions"])
            assert math.isclose(points, exp["stored_score"], abs_tol=1e-9)
            assert math.isclose(exp["score"], exp["stored_score"], abs_tol=1e-9)
            assert math.isclose(exp["contributions_total"], exp["stored_score"], abs_tol=1e-9)
            assert exp["peers"]["category_n"] >= 1
            for w in exp["what_if"]:
                assert w["new_score"] < exp["score"]


def test_rescore_is_recorded_and_equals_the_batch_for_an_unchanged_venue(
    db: Database, settings: Settings, city: dict[str, Any]
) -> None:
    service.assess(db, settings, actor="test")
    vid = next(iter(city["venue_of_town"].values()))
    with db.session() as session:
        batch = session.scalars(select(RiskScore).where(RiskScore.venue_id == vid)).one()
        batch_score, batch_pct = batch.score, batch.pct_in_category
    results = [
        service.rescore_venue(db, settings, vid, actor="tester", cause="check") for _ in range(5)
    ]
    for r in results:
        assert math.isclose(r["score"], batch_score, abs_tol=1e-9)
        assert r["grade"] == batch.grade
        assert r["previous_score"] == batch_score
        assert math.isclose(r["pct_in_category"], batch_pct, abs_tol=1e-9)
    # the time it took is recorded (its speed is bench_risk.py's business, not a test's)
    assert all(r["compute_ms"] >= 0 for r in results)

    # A change makes the score move; the re-score is recorded with cause and actor.
    with db.session() as session:
        session.execute(
            update(Venue)
            .where(Venue.id == vid)
            .values(floors=45, construction_class="IV", night_occupancy=400)
        )
    changed = service.rescore_venue(
        db, settings, vid, actor="tester", cause="floors added without approval"
    )
    assert changed["score"] > batch_score
    assert math.isclose(sum(changed["contributions"].values()), changed["score"], abs_tol=1e-9)
    with db.session() as session:
        recs = session.scalars(
            select(RiskRescore).where(RiskRescore.venue_id == vid).order_by(RiskRescore.id)
        ).all()
        assert len(recs) == 6
        assert recs[-1].cause == "floors added without approval"
        assert recs[-1].actor == "tester"
        assert recs[-1].at.tzinfo is not None
        assert recs[-1].inputs["floors"] == 45
        trend = service.venue_trend(session, vid)
        assert len(trend["runs"]) == 1
        assert len(trend["rescores"]) == 6
        assert trend["rescores"][-1]["score"] == pytest.approx(changed["score"])


def test_trends_across_two_runs(db: Database, settings: Settings, city: dict[str, Any]) -> None:
    first = service.assess(db, settings, actor="test")
    second = service.assess(db, settings, "equal-weights", actor="test")
    assert second["run_id"] == first["run_id"] + 1
    town = city["towns"][0]
    vid = city["venue_of_town"][town]
    with db.session() as session:
        trend = service.venue_trend(session, vid)
        assert [r["run_id"] for r in trend["runs"]] == [first["run_id"], second["run_id"]]
        area = service.area_trend(session, "town", town)
        assert [r["n_venues"] for r in area["runs"]] == [city["venues_per_town"][town]] * 2
        assert all(
            sum(r[f"n_{g}"] for g in ("red", "orange", "yellow", "blue")) == r["n_venues"]
            for r in area["runs"]
        )
        city_trend = service.area_trend(session, "city", None)
        assert city_trend["runs"][0]["n_venues"] == city["counts"]["venues"]
        # The explanation of the latest run lists the earlier run as history.
        exp = service.explain(session, vid)
        assert exp["history"]
        assert exp["history"][0]["label"].startswith(f"run {first['run_id']}")
        assert len(service.list_runs(session)) == 2


def test_live_device_health_alarms_and_incidents_are_read(
    db: Database, settings: Settings, city: dict[str, Any]
) -> None:
    from firegrid.alarms.models import Alarm
    from firegrid.devices.models import Device
    from firegrid.devices.state_models import DeviceStateRow
    from firegrid.dispatch.incident_models import Incident

    now = datetime.now(UTC)
    with db.session() as session:
        device = session.scalars(select(Device).order_by(Device.id).limit(1)).one()
        vid, path = device.venue_id, device.jurisdiction_path
        n_devices = session.scalar(
            select(func.count()).where(Device.venue_id == vid, Device.deleted_at.is_(None))
        )
        session.add(
            DeviceStateRow(
                device_id=device.id, venue_id=vid, online=False, faults={"loop1": {"since": "x"}}
            )
        )
        for i, (days, reason) in enumerate([(10, "cooking"), (20, ""), (200, "dust")]):
            at = now - timedelta(days=days)
            session.add(
                Alarm(
                    kind="fire",
                    status="closed",
                    fold_key=f"k{i}",
                    venue_id=vid,
                    jurisdiction_path=path,
                    opened_at=at,
                    first_received_at=at,
                    last_event_at=at,
                    decided_at=at + timedelta(minutes=5),
                    false_reason=reason,
                )
            )
        for years_ago in (0.2, 1.5, 2.5):
            at = now - timedelta(days=365 * years_ago)
            session.add(
                Incident(
                    incident_type="fire",
                    source="call",
                    lon=0.0,
                    lat=0.0,
                    jurisdiction_path=path,
                    command_path=path,
                    command_level="grid",
                    venue_id=vid,
                    call_received_at=at,
                    last_call_at=at,
                )
            )
    inputs = read_inputs(db, settings)
    row = inputs.facts.filter(inputs.facts["venue_id"] == vid).row(0, named=True)
    assert row["device_count"] == n_devices
    # one offline; the others never reported: not commissioned, so not offline
    assert row["offline_devices"] == 1
    assert any("never reported (not commissioned)" in w for w in inputs.warnings)
    # reported apart: the never-seen devices are not commissioned, not offline
    health = inputs.device_health
    assert health["offline"] == 1
    assert health["commissioned"] is not None
    assert health["not_commissioned"] == health["registered"] - health["commissioned"]
    assert health["not_commissioned"] >= n_devices - 2
    assert row["unresolved_faults"] == 1
    assert row["fire_alarms_90d"] == 2
    assert row["false_alarm_rate"] == pytest.approx(2 / 3)
    assert row["incidents_venue_3y"] == 3
    assert row["incidents_grid_3y"] == 3
    assert inputs.synthetic is False
    assert inputs.history is not None
    assert inputs.history.periods == [1, 2, 3]
    others = inputs.facts.filter(inputs.facts["venue_id"] != vid)
    # one device reporting does not turn the city's never-seen devices offline
    assert others["offline_devices"].max() == 0
    assert others["fire_alarms_90d"].max() == 0
    assert others["incidents_venue_3y"].max() == 0
    # The same reading for one venue gives the same facts (re-scoring relies on it).
    one = read_inputs(db, settings, venue_ids=[vid], with_history=False)
    assert one.facts.row(0, named=True) == row
