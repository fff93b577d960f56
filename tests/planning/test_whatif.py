"""The what-if replay: the same figures as dispatch's replay, and a plan adding nothing
changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.core.settings import Settings
from firegrid.dispatch.generate import generate_records, load_points, write_jsonl
from firegrid.dispatch.replay import replay_file
from firegrid.planning.simulate import simulate_plan
from tests.dispatch.city import DCity


@pytest.fixture
def calls(pcity: DCity, db: Database, tmp_path: Path) -> Path:
    path = tmp_path / "calls.jsonl"
    write_jsonl(generate_records(load_points(db), 400, seed=3, year=2025), path)
    return path


def test_empty_plan_reproduces_the_dispatch_replay(
    db: Database, settings: Settings, calls: Path
) -> None:
    sim = simulate_plan(db, settings, {"kind": "stations", "sites": []}, calls, seed=0)
    before, after = sim["before"], sim["after"]
    # a plan adding nothing: the same run, figure for figure
    timing = {"elapsed_s"}
    assert {k: v for k, v in before.items() if k not in timing} == {
        k: v for k, v in after.items() if k not in timing
    }
    assert all(row["change"] in (0, 0.0, None) for row in sim["comparison"].values())
    # and the figures of `firegrid incidents replay` (which writes to the database)
    replay = replay_file(db, settings, calls, seed=0)
    assert replay["received"] == before["calls"] == 400
    assert replay["created"] == before["incidents"]
    assert replay["merged"] == before["merged_calls"]
    assert replay["units_dispatched"] == before["units_dispatched"]
    assert replay["unmet_plans"] == before["plan_not_met"]
    response = replay["intervals_s"]["response_s"]
    assert response["n"] == before["reached"]
    assert response["p50"] == before["first_arrival_p50_s"]
    assert response["p90"] == before["first_arrival_p90_s"]


def test_new_stations_do_not_make_first_arrival_worse(
    db: Database, settings: Settings, calls: Path, pcity: DCity
) -> None:
    # two stations where the test city has none nearby (its north-east and south-west)
    plan = {
        "kind": "stations",
        "sites": [{"lon": 113.29, "lat": 23.09}, {"lon": 113.02, "lat": 23.01}],
    }
    sim = simulate_plan(db, settings, plan, calls, seed=0)
    assert sim["new_units"] == 2 * len(sim["new_station_fleet"]) > 0
    assert sim["after"]["units"] == sim["before"]["units"] + sim["new_units"]
    assert sim["after"]["reached"] >= sim["before"]["reached"]
    share = sim["comparison"]["within_5_min_of_call"]
    assert share["after"] >= share["before"]


def test_bad_inputs_are_named(
    db: Database, settings: Settings, pcity: DCity, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t": "2025-01-01T00:00:00+08:00", "lon": 113.1}\n')
    with pytest.raises(ValidationFailed, match="line 1: missing lat, incident_type"):
        simulate_plan(db, settings, {"kind": "stations", "sites": []}, bad)
    with pytest.raises(ValidationFailed, match="only station plans"):
        simulate_plan(db, settings, {"kind": "hydrants", "sites": []}, bad)
