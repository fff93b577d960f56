from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from firegrid.geo.errors import GeoError, NoDrivableRoads
from firegrid.geo.network import RoadClass, RoadNetwork
from firegrid.geo.osm import ImportReport, import_osm, oneway_direction, parse_maxspeed
from firegrid.geo.speeds import SpeedTable

from .conftest import osm_xml_to_pbf


def edge(net: RoadNetwork, a: int, b: int) -> int:
    """Edge id between two OSM node ids, -1 if absent."""
    index = {ref: i for i, ref in enumerate(net.node_ref.tolist())}
    return int(net.edge_ids([index[a]], [index[b]])[0])


def test_report_counts_dropped_parts(town: tuple[RoadNetwork, ImportReport]) -> None:
    net, report = town
    refs = set(net.node_ref.tolist())
    assert refs == set(range(1, 26)) | {101, 102, 103, 104, 501, 502, 503, 504}
    # the island (3 nodes, 4 edges) and the one-way spur to 401 (1 node, 1 edge) are dropped
    assert report.nodes_dropped == 4
    assert report.edges_dropped == 5
    assert report.components == 3
    assert report.nodes_kept == net.n_nodes
    assert report.edges_kept == net.n_edges
    # footway and private service road skipped
    assert report.ways_skipped == 2


def test_footway_and_private_road_excluded(town: tuple[RoadNetwork, ImportReport]) -> None:
    net, _ = town
    assert 201 not in net.node_ref.tolist()
    assert 601 not in net.node_ref.tolist()


def test_oneway_directions(town: tuple[RoadNetwork, ImportReport]) -> None:
    net, _ = town
    # row 1 (nodes 6..10) oneway=yes: eastbound only
    assert edge(net, 6, 7) >= 0
    assert edge(net, 7, 6) < 0
    assert net.oneway[edge(net, 6, 7)]
    # row 3 (nodes 16..20) oneway=-1: westbound only
    assert edge(net, 17, 16) >= 0
    assert edge(net, 16, 17) < 0
    # row 2 is two-way
    assert edge(net, 11, 12) >= 0
    assert edge(net, 12, 11) >= 0
    assert not net.oneway[edge(net, 11, 12)]


def test_roundabout_and_motorway_imply_oneway(town: tuple[RoadNetwork, ImportReport]) -> None:
    net, _ = town
    for a, b in [(101, 102), (102, 103), (103, 104), (104, 101)]:
        assert edge(net, a, b) >= 0
        assert edge(net, b, a) < 0
    assert edge(net, 501, 502) >= 0
    assert edge(net, 502, 501) < 0
    assert net.road_class[edge(net, 501, 502)] == RoadClass.MOTORWAY
    assert net.oneway[edge(net, 501, 502)]


def test_speeds_from_maxspeed_and_table(town: tuple[RoadNetwork, ImportReport]) -> None:
    net, _ = town
    table = SpeedTable()
    assert net.speed_kph[edge(net, 1, 6)] == pytest.approx(50.0)  # maxspeed=50
    assert net.speed_kph[edge(net, 3, 8)] == pytest.approx(30 * 1.609344)  # 30 mph
    assert net.speed_kph[edge(net, 5, 10)] == pytest.approx(40.0)  # 40 km/h
    residential = table.speed_kph[RoadClass.RESIDENTIAL]
    assert net.speed_kph[edge(net, 4, 9)] == pytest.approx(residential)  # CN:urban -> table
    e = edge(net, 1, 2)
    assert net.travel_time_s[e] == pytest.approx(net.length_m[e] / (residential / 3.6))
    assert net.length_m[e] == pytest.approx(102.4, abs=0.5)  # 0.001 deg of lon at 23 N


def test_peak_factor(town_pbf: Path, town: tuple[RoadNetwork, ImportReport]) -> None:
    peak, _ = import_osm(town_pbf, peak_factor=0.5)
    assert np.allclose(peak.travel_time_s, town[0].travel_time_s * 2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0),
        ("50 mph", 80.4672),
        ("30 km/h", 30.0),
        ("60;80", 60.0),
        ("none", math.nan),
        ("CN:urban", math.nan),
        (None, math.nan),
        ("walk", math.nan),
    ],
)
def test_parse_maxspeed(value: str | None, expected: float) -> None:
    got = parse_maxspeed(value)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


def test_oneway_direction_rules() -> None:
    assert oneway_direction({"oneway": "yes"}) == 1
    assert oneway_direction({"oneway": "true"}) == 1
    assert oneway_direction({"oneway": "-1"}) == -1
    assert oneway_direction({"junction": "roundabout"}) == 1
    assert oneway_direction({"highway": "motorway"}) == 1
    assert oneway_direction({"highway": "motorway", "oneway": "no"}) == 0
    assert oneway_direction({"highway": "primary"}) == 0


def test_no_drivable_roads(tmp_path: Path) -> None:
    xml = tmp_path / "paths.osm"
    xml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        '<node id="1" version="1" lat="23.0" lon="113.7"/>\n'
        '<node id="2" version="1" lat="23.001" lon="113.7"/>\n'
        '<way id="1" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>\n'
        "</osm>\n",
        encoding="utf-8",
    )
    pbf = osm_xml_to_pbf(xml, tmp_path / "paths.osm.pbf")
    with pytest.raises(NoDrivableRoads, match=r"paths\.osm\.pbf.*no drivable roads"):
        import_osm(pbf)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GeoError, match="does not exist"):
        import_osm(tmp_path / "nope.osm.pbf")


def test_named_ways_give_road_labels(town: tuple[RoadNetwork, ImportReport]) -> None:
    _, report = town
    names = {label.name for label in report.labels}
    assert {"Row 0", "Row 4", "Column 0", "Column 1"} <= names
    for label in report.labels:
        assert label.length_m > 0
        assert label.name.strip() == label.name
        assert -180 <= label.lon <= 180
        assert -90 <= label.lat <= 90
