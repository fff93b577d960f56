"""Import a drivable road network from an OpenStreetMap extract (``.osm.pbf``) with pyosmium.

Every way node becomes a graph node (no topological simplification), so geometry is exact.
Direction follows ``oneway`` (``yes``/``1``/``true``; ``-1``/``reverse`` flips the way;
``no`` makes it two-way), implied by ``junction=roundabout`` and by motorways. Speeds come
from ``maxspeed`` where it parses (``50``, ``50 mph``, ``30 km/h``), else from the speed
table, times its peak factor. The result is pruned to its largest strongly connected
component; the ``ImportReport`` says what was dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import osmium

from firegrid.geo.errors import GeoError, NoDrivableRoads
from firegrid.geo.network import RoadClass, RoadNetwork
from firegrid.geo.projection import haversine_m
from firegrid.geo.speeds import SpeedTable

HIGHWAY_CLASSES: Mapping[str, RoadClass] = MappingProxyType(
    {
        "motorway": RoadClass.MOTORWAY,
        "trunk": RoadClass.TRUNK,
        "primary": RoadClass.PRIMARY,
        "secondary": RoadClass.SECONDARY,
        "tertiary": RoadClass.TERTIARY,
        "unclassified": RoadClass.UNCLASSIFIED,
        "road": RoadClass.UNCLASSIFIED,
        "residential": RoadClass.RESIDENTIAL,
        "service": RoadClass.SERVICE,
        "living_street": RoadClass.LIVING_STREET,
        "motorway_link": RoadClass.MOTORWAY_LINK,
        "trunk_link": RoadClass.TRUNK_LINK,
        "primary_link": RoadClass.PRIMARY_LINK,
        "secondary_link": RoadClass.SECONDARY_LINK,
        "tertiary_link": RoadClass.TERTIARY_LINK,
    }
)
"""OSM ``highway=*`` values a fire engine can drive on, and their road class."""

_ONEWAY_FORWARD = frozenset({"yes", "1", "true"})
_ONEWAY_REVERSE = frozenset({"-1", "reverse"})
_ONEWAY_NO = frozenset({"no", "0", "false"})
_IMPLIED_ONEWAY = frozenset({"motorway", "motorway_link"})
_BARRED = frozenset({"no", "private"})
_EMERGENCY_OK = frozenset({"yes", "designated", "permissive"})
_MPH = 1.609344
_SPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$")


@dataclass(frozen=True)
class RoadLabel:
    """Where a named way's name is written on the map: its middle vertex."""

    name: str
    road_class: int
    lon: float
    lat: float
    length_m: float


@dataclass(frozen=True)
class ImportReport:
    """What an OSM import read, used and dropped (and the names of the named ways)."""

    ways_used: int
    ways_skipped: int
    nodes_total: int
    edges_total: int
    nodes_dropped: int
    edges_dropped: int
    components: int
    missing_locations: int
    labels: tuple[RoadLabel, ...] = ()

    @property
    def nodes_kept(self) -> int:
        return self.nodes_total - self.nodes_dropped

    @property
    def edges_kept(self) -> int:
        return self.edges_total - self.edges_dropped


def parse_maxspeed(value: str | None) -> float:
    """Parse an OSM ``maxspeed`` into km/h; ``nan`` when absent or not numeric.

    ``"50"`` and ``"50 km/h"`` are km/h, ``"30 mph"`` is converted; for lists such as
    ``"60;80"`` the first value counts. ``"none"``, ``"walk"``, ``"CN:urban"`` give ``nan``.
    """
    if not value:
        return math.nan
    match = _SPEED_RE.match(value.split(";")[0])
    if match is None:
        return math.nan
    speed = float(match.group(1))
    if match.group(2) == "mph":
        speed *= _MPH
    return speed if speed > 0 else math.nan


def oneway_direction(tags: Mapping[str, str]) -> int:
    """``1`` one-way along the way, ``-1`` one-way against it, ``0`` two-way."""
    value = tags.get("oneway", "").strip().lower()
    if value in _ONEWAY_FORWARD:
        return 1
    if value in _ONEWAY_REVERSE:
        return -1
    if value in _ONEWAY_NO:
        return 0
    if tags.get("junction", "") in ("roundabout", "circular"):
        return 1
    if tags.get("highway", "") in _IMPLIED_ONEWAY:
        return 1
    return 0


def _drivable(tags: Mapping[str, str]) -> RoadClass | None:
    road_class = HIGHWAY_CLASSES.get(tags.get("highway", ""))
    if road_class is None or tags.get("area") == "yes":
        return None
    barred = tags.get("access") in _BARRED or tags.get("motor_vehicle") in _BARRED
    if barred and tags.get("emergency") not in _EMERGENCY_OK:
        return None
    return road_class


def import_osm(
    path: str | Path,
    *,
    speeds: SpeedTable | None = None,
    peak_factor: float | None = None,
) -> tuple[RoadNetwork, ImportReport]:
    """Read the drivable road network of an OSM file (``.osm.pbf``, or ``.osm`` XML).

    Parameters
    ----------
    path
        The OSM extract.
    speeds
        Speed table per road class (default ``SpeedTable()``).
    peak_factor
        Overrides the table's peak-hour factor when given.

    Raises
    ------
    NoDrivableRoads
        The file holds no way a fire engine can drive on.
    """
    source = Path(path)
    if not source.is_file():
        raise GeoError(f"OSM file {str(source)!r} does not exist")
    table = speeds or SpeedTable()
    if peak_factor is not None:
        table = table.at_peak(peak_factor)

    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    seg_a: list[int] = []  # positions into refs/lons/lats
    seg_dir: list[int] = []
    seg_class: list[int] = []
    seg_maxspeed: list[float] = []
    labels: list[RoadLabel] = []
    ways_used = ways_skipped = missing = 0
    try:
        processor = osmium.FileProcessor(str(source)).with_locations()
        for obj in processor:
            if not isinstance(obj, osmium.osm.Way) or "highway" not in obj.tags:
                continue
            tags = {t.k: t.v for t in obj.tags}
            road_class = _drivable(tags)
            if road_class is None:
                ways_skipped += 1
                continue
            direction = oneway_direction(tags)
            maxspeed = parse_maxspeed(tags.get("maxspeed"))
            start = len(refs)
            for node in obj.nodes:
                loc = node.location
                if not loc.valid():
                    missing += 1
                    continue
                refs.append(node.ref)
                lons.append(loc.lon)
                lats.append(loc.lat)
            count = len(refs) - start
            if count < 2:
                ways_skipped += 1
                continue
            ways_used += 1
            name = tags.get("name", "").strip()
            if name:
                labels.append(_label(name, road_class, lons[start:], lats[start:]))
            seg_a.extend(range(start, start + count - 1))
            seg_dir.extend([direction] * (count - 1))
            seg_class.extend([int(road_class)] * (count - 1))
            seg_maxspeed.extend([maxspeed] * (count - 1))
    except RuntimeError as err:
        raise GeoError(f"cannot read OSM file {str(source)!r}: {err}") from err

    if not seg_a:
        raise NoDrivableRoads(
            f"OSM file {str(source)!r} has no drivable roads "
            f"({ways_skipped} highway ways skipped: not drivable or barred)"
        )
    node_ref_all = np.asarray(refs, dtype=np.int64)
    unique_ref, first_pos, index = np.unique(node_ref_all, return_index=True, return_inverse=True)
    lon = np.asarray(lons)[first_pos]
    lat = np.asarray(lats)[first_pos]
    pos_a = np.asarray(seg_a, dtype=np.int64)
    a = index[pos_a]
    b = index[pos_a + 1]
    direction_a = np.asarray(seg_dir, dtype=np.int64)
    road_class_a = np.asarray(seg_class, dtype=np.int64)
    maxspeed_a = np.asarray(seg_maxspeed, dtype=np.float64)
    length = haversine_m(lon[a], lat[a], lon[b], lat[b])
    fwd = direction_a >= 0
    rev = direction_a <= 0
    src = np.concatenate([a[fwd], b[rev]])
    dst = np.concatenate([b[fwd], a[rev]])
    pick = np.concatenate([np.flatnonzero(fwd), np.flatnonzero(rev)])
    oneway = direction_a[pick] != 0
    speed = table.speeds_kph(road_class_a[pick], maxspeed_a[pick])
    network = RoadNetwork.build(
        lon,
        lat,
        src,
        dst,
        length[pick],
        road_class_a[pick],
        oneway,
        speed,
        node_ref=unique_ref,
    )
    pruned, prune = network.largest_strongly_connected()
    report = ImportReport(
        ways_used=ways_used,
        ways_skipped=ways_skipped,
        nodes_total=network.n_nodes,
        edges_total=network.n_edges,
        nodes_dropped=prune.nodes_dropped,
        edges_dropped=prune.edges_dropped,
        components=prune.components,
        missing_locations=missing,
        labels=tuple(labels),
    )
    return pruned.spatially_sorted(), report


def _label(name: str, road_class: RoadClass, lons: list[float], lats: list[float]) -> RoadLabel:
    lon = np.asarray(lons)
    lat = np.asarray(lats)
    length = float(haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:]).sum())
    middle = len(lons) // 2
    return RoadLabel(name[:200], int(road_class), float(lon[middle]), float(lat[middle]), length)
