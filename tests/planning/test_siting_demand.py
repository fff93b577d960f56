"""Siting rules, demand weighting and candidate lists."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from firegrid.core.errors import ImportFailed, ValidationFailed
from firegrid.geo.engine import TravelTimeEngine
from firegrid.planning.candidates import file_candidates, grid_candidates
from firegrid.planning.demand import DemandParams, build_demand
from firegrid.planning.inputs import VenueRows
from firegrid.planning.siting import Venues, check_sites, load_siting_rules

LON0, LAT0 = 113.1, 23.05
M_PER_DEG_LAT = 110_574.0


def offset(east_m: float, north_m: float) -> tuple[float, float]:
    kx = 111_320.0 * math.cos(math.radians(LAT0))
    return LON0 + east_m / kx, LAT0 + north_m / M_PER_DEG_LAT


def test_siting_rules_exclude_with_the_reason() -> None:
    rules = load_siting_rules()
    school = offset(0, 0)
    gas = offset(5000, 0)
    venues = Venues(
        ["SCH", "GAS"],
        ["school", "gas_station"],
        np.asarray([school[0], gas[0]]),
        np.asarray([school[1], gas[1]]),
    )
    # winds from 22.5 (NNE) and 157.5 (SSE): downwind bearings 202.5 and 337.5
    points = {
        "near_school": offset(30, 0),  # 30 m: too close
        "clear_of_school": offset(0, 80),  # 80 m: allowed
        "near_gas": offset(5150, 0),  # 150 m: too close
        "downwind_gas": offset(
            5000 - 500 * math.sin(math.radians(22.5)), -500 * math.cos(math.radians(22.5))
        ),  # 500 m SSW
        "beside_gas": offset(5500, 0),  # 500 m east: neither season's downwind sector
        "far_downwind": offset(5000, -1500),  # beyond the 1000 m reach
    }
    lon = np.asarray([p[0] for p in points.values()])
    lat = np.asarray([p[1] for p in points.values()])
    found = dict(zip(points, check_sites(rules, lon, lat, venues), strict=True))
    assert [(e.reason, e.venue_code) for e in found["near_school"]] == [("too_close", "SCH")]
    assert found["near_school"][0].distance_m == pytest.approx(30, abs=1)
    assert found["clear_of_school"] == []
    assert [(e.reason, e.venue_code) for e in found["near_gas"]] == [("too_close", "GAS")]
    assert [(e.reason, e.venue_code) for e in found["downwind_gas"]] == [("downwind", "GAS")]
    assert found["beside_gas"] == []
    assert found["far_downwind"] == []
    # with a single south wind, the SSW point is upwind and allowed
    south_only = rules.with_wind([180.0])
    again = check_sites(south_only, lon, lat, venues)
    assert again[list(points).index("downwind_gas")] == []


def _rows(score: list[float], occupancy: list[float], lon: list[float]) -> VenueRows:
    n = len(score)
    return VenueRows(
        np.arange(1, n + 1, dtype=np.int64),
        np.asarray(lon),
        np.full(n, LAT0),
        np.asarray(occupancy, dtype=np.float64),
        np.asarray(score, dtype=np.float64),
        7,
    )


def test_demand_weighting_and_cells() -> None:
    # two venues 100 m apart (one cell of 1 km), one 5 km away
    lon = [offset(0, 0)[0], offset(100, 0)[0], offset(5000, 0)[0]]
    rows = _rows([80.0, 40.0, 100.0], [10.0, 0.0, 100.0], lon)
    venues = build_demand(rows, DemandParams("risk_occupancy", None))
    expected = [0.8 * (1 + math.log(11)), 0.4 * 1.0, 1.0 * (1 + math.log(101))]
    assert venues.weight == pytest.approx(expected)
    cells = build_demand(rows, DemandParams("risk_occupancy", 1000.0))
    assert len(cells) == 2
    order = np.argsort(cells.lon)
    assert cells.weight[order] == pytest.approx([expected[0] + expected[1], expected[2]])
    assert cells.venues[order].tolist() == [2, 1]
    # the cell's point is the weighted centroid of its venues
    w0, w1 = expected[0], expected[1]
    assert cells.lon[order][0] == pytest.approx((w0 * lon[0] + w1 * lon[1]) / (w0 + w1), abs=1e-7)
    described = cells.describe()
    assert described["weighting"] == "risk_occupancy"
    assert described["risk_run_id"] == 7
    assert described["formula"] == "score/100 * (1 + ln(1 + occupancy))"
    uniform = build_demand(rows, DemandParams("uniform", None))
    assert uniform.weight.tolist() == [1.0, 1.0, 1.0]


def test_demand_without_scores_says_so() -> None:
    rows = _rows([math.nan, math.nan], [3.0, 5.0], [offset(0, 0)[0], offset(3000, 0)[0]])
    demand = build_demand(rows, DemandParams("risk", None))
    assert demand.weight.tolist() == [0.5, 0.5]
    assert any("without a risk score" in n for n in demand.notes)
    by_people = build_demand(rows, DemandParams("occupancy", None))
    assert by_people.weight.tolist() == [3.0, 5.0]


def test_incident_history_raises_the_weight_of_its_cells() -> None:
    lon = [offset(0, 0)[0], offset(5000, 0)[0]]
    rows = _rows([50.0, 50.0], [0.0, 0.0], lon)
    incidents = (np.asarray([lon[0]] * 3), np.full(3, LAT0))
    demand = build_demand(rows, DemandParams("risk", 1000.0, incidents=True), incidents)
    order = np.argsort(demand.lon)
    # the cell with all 3 incidents: 1 + 3/3 = 2 times its weight; the other unchanged
    assert demand.weight[order] == pytest.approx([1.0, 0.5])


def test_bad_demand_parameters_are_named() -> None:
    with pytest.raises(ValidationFailed, match="weighting must be one of"):
        DemandParams("popularity", 1000.0).check()


def test_grid_candidates_are_road_nodes_one_per_square(engine: TravelTimeEngine) -> None:
    cands = grid_candidates(engine, 1000.0)
    net = engine.network
    assert len(cands) > 50
    assert np.array_equal(net.node_lon[cands.node], cands.lon)
    assert len(set(cands.node.tolist())) == len(cands)
    x, y = engine.projection.forward(cands.lon, cands.lat)
    squares = set(zip(np.floor(x / 1000).tolist(), np.floor(y / 1000).tolist(), strict=True))
    assert len(squares) == len(cands)
    finer = grid_candidates(engine, 500.0)
    assert len(finer) > len(cands)


def test_candidate_file_lists_every_bad_row(engine: TravelTimeEngine, tmp_path: Path) -> None:
    node = 10
    lon, lat = float(engine.network.node_lon[node]), float(engine.network.node_lat[node])
    good = tmp_path / "good.csv"
    good.write_text(f"code,lon,lat,cost\nA,{lon},{lat},2.5\nB,{lon + 0.0001},{lat},\n")
    cands = file_candidates(engine, good, 500.0)
    assert cands.code == ["A", "B"]
    assert cands.cost.tolist() == [2.5, 1.0]
    assert cands.node[0] == node
    bad = tmp_path / "bad.csv"
    bad.write_text(f"code,lon,lat\nA,{lon},{lat}\nA,{lon},{lat}\nC,east,{lat}\nD,114.5,23.9\n")
    with pytest.raises(ImportFailed) as info:
        file_candidates(engine, bad, 500.0)
    errors = info.value.details["errors"]
    assert {(e["line"], e["column"]) for e in errors} >= {(3, "code"), (4, "lon")}
    coded = {(e["line"], e["column"]): (e["code"], e["params"]) for e in errors}
    assert coded[(3, "code")] == (
        "import.row_problem",
        {"field": "code", "problem": "duplicate_code", "value": "A", "first_line": 2},
    )
    assert coded[(4, "lon")] == (
        "import.row_problem",
        {"field": "lon", "problem": "float_parsing", "value": "east"},
    )
    odd = tmp_path / "odd.csv"
    odd.write_text(
        f"code,lon,lat,cost\nN,nan,{lat},1\nM,{lon},,1\nK,{lon},{lat},-2\nI,{lon},{lat},inf\n"
    )
    with pytest.raises(ImportFailed) as info:
        file_candidates(engine, odd, 500.0)
    problems = {
        (e["line"], e["column"]): e["params"]["problem"] for e in info.value.details["errors"]
    }
    assert problems == {
        (2, "lon"): "float_parsing",  # NaN is not a coordinate
        (3, "lat"): "missing",
        (4, "cost"): "greater_than_equal",
        (5, "cost"): "float_parsing",  # an infinite cost is no cost
    }
    far = tmp_path / "far.geojson"
    far.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"F"},'
        '"geometry":{"type":"Point","coordinates":[114.5,23.9]}}]}'
    )
    with pytest.raises(ImportFailed) as info:
        file_candidates(engine, far, 500.0)
    (off_road,) = info.value.details["errors"]
    assert "road network" in off_road["reason"]
    assert off_road["code"] == "geo.facility_off_road"
    assert off_road["params"]["kind"] == "candidate"
    assert off_road["params"]["code"] == "F"
    assert off_road["params"]["limit_m"] == 500


def test_a_candidate_with_no_road_node_at_all_is_off_the_network() -> None:
    """An infinite snap distance (no road node reachable) is not "inf m from the road"."""
    from firegrid.planning.candidates import _off_road

    far = _off_road("F", 114.5, 23.9, 1234.4, 500.0)
    assert (far.code, far.params["distance_m"], far.params["limit_m"]) == (
        "geo.facility_off_road",
        1234,
        500,
    )
    nowhere = _off_road("F", 114.5, 23.9, float("inf"), 500.0)
    assert nowhere.code == "geo.off_network"
    assert nowhere.params == {"lon": 114.5, "lat": 23.9}
