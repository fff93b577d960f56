"""Facilities and the road network: which ones the travel-time engine can use.

A facility (fire station, hydrant, logistics point, a vehicle's GPS fix) is usable only if
it lies within ``facility_max_snap_m`` (``FIREGRID_FACILITY_MAX_SNAP_M``) of a road node.

* At the door (API, importers, AVL) :func:`check_on_network` refuses one that is farther,
  naming it and the distance; without a road network only the city outline applies.
* In the engine, :func:`split_reachable` leaves out the stored ones it cannot snap at all
  (beyond its own snapping limit, 1000 m: inserted before the rule, by SQL, or before a
  smaller network was imported) and describes each as a :class:`SkippedFacility`, which
  answers report instead of failing. Stored rows between the two limits still count: the
  engine reaches them with an off-network leg, as it always did.
* :func:`network_coverage` tells which stored stations, venues and hydrants a new network
  would leave outside (``firegrid roads import`` refuses it unless ``--partial``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.models import RoadNetworkRecord, RoadNode
from firegrid.geo.network import RoadNetwork
from firegrid.geo.projection import LocalProjection

FloatArray = npt.NDArray[np.float64]

OFF_NETWORK = "off_network"


class OffRoadNetwork(ValidationFailed):
    """A facility lies farther from every road node than the configured limit."""

    code = "off_road_network"


class NetworkDoesNotCover(ValidationFailed):
    """A new road network leaves stored stations, venues or hydrants off its roads."""

    code = "network_does_not_cover_city"


@dataclass(frozen=True)
class FacilityPoint:
    """A facility's identity and WGS-84 position."""

    kind: str  # station | hydrant | logistics_point | vehicle
    id: int
    code: str
    lon: float
    lat: float


@dataclass(frozen=True)
class SkippedFacility:
    """A facility an answer left out, and why."""

    kind: str
    id: int
    code: str
    reason: str
    snap_distance_m: float
    limit_m: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "code": self.code,
            "reason": self.reason,
            "snap_distance_m": round(self.snap_distance_m, 1),
            "limit_m": self.limit_m,
        }

    def describe(self) -> str:
        """One line for people: ``station ST101 is 12034 m from the nearest road (…)``."""
        return (
            f"{self.kind.replace('_', ' ')} {self.code} skipped: {self.snap_distance_m:.0f} m "
            f"from the nearest road node (limit {self.limit_m:.0f} m)"
        )


def split_reachable(
    engine: TravelTimeEngine, facilities: Sequence[FacilityPoint], limit_m: float | None = None
) -> tuple[list[int], list[SkippedFacility]]:
    """Indices of the facilities the engine can snap (within its snapping limit, and within
    ``limit_m`` if given), and the others as skipped."""
    if not facilities:
        return [], []
    lon = np.asarray([f.lon for f in facilities], dtype=np.float64)
    lat = np.asarray([f.lat for f in facilities], dtype=np.float64)
    finite = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    dist = np.full(len(facilities), np.inf)
    if finite.any():
        dist[finite] = engine.snap_distance_m(lon[finite], lat[finite])
    bound = engine.max_snap_distance_m
    if limit_m is not None:
        bound = min(limit_m, bound)
    keep: list[int] = []
    skipped: list[SkippedFacility] = []
    for i, facility in enumerate(facilities):
        if dist[i] <= bound:
            keep.append(i)
        else:
            skipped.append(
                SkippedFacility(
                    facility.kind, facility.id, facility.code, OFF_NETWORK, float(dist[i]), bound
                )
            )
    return keep, skipped


# ---------------------------------------------------------------- the door


@dataclass(frozen=True)
class NodeIndex:
    """Nearest-node distances over the active network's nodes (no graph needed)."""

    checksum: str
    projection: LocalProjection
    tree: cKDTree

    @classmethod
    def build(cls, checksum: str, lon: FloatArray, lat: FloatArray) -> NodeIndex:
        projection = LocalProjection.around(lon, lat)
        x, y = projection.forward(lon, lat)
        return cls(checksum, projection, cKDTree(np.column_stack([x, y])))

    def distance_m(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
        x, y = self.projection.forward(lon, lat)
        dist, _ = self.tree.query(np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]))
        return np.asarray(dist, dtype=np.float64)


_lock = threading.Lock()
_indexes: dict[str, NodeIndex] = {}


def node_index(session: Session) -> NodeIndex | None:
    """The node index of the session's active network (cached per checksum); ``None`` when
    there is no network yet."""
    record = session.execute(
        select(RoadNetworkRecord.id, RoadNetworkRecord.checksum).where(
            RoadNetworkRecord.active.is_(True)
        )
    ).first()
    if record is None:
        return None
    key = str(session.get_bind().engine.url)
    with _lock:
        cached = _indexes.get(key)
    if cached is not None and cached.checksum == record.checksum:
        return cached
    coords = _cached_nodes(record.checksum)
    if coords is None:
        rows = session.execute(
            select(RoadNode.lon, RoadNode.lat).where(RoadNode.network_id == record.id)
        ).all()
        if not rows:
            return None
        # column by column: np.asarray over a list of Row objects is ~100x slower
        coords = np.column_stack(
            [
                np.fromiter((r[0] for r in rows), np.float64, len(rows)),
                np.fromiter((r[1] for r in rows), np.float64, len(rows)),
            ]
        )
    index = NodeIndex.build(record.checksum, coords[:, 0], coords[:, 1])
    with _lock:
        _indexes[key] = index
    return index


def _cached_nodes(checksum: str) -> npt.NDArray[np.float64] | None:
    """Node coordinates ``(n, 2)`` from the network's array cache, if this process's data
    directory holds it (much faster than the rows for a city's 250,000 nodes)."""
    from firegrid.core.settings import get_settings
    from firegrid.geo.store import cache_path

    path = cache_path(get_settings().data_dir, checksum)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return np.column_stack([arrays["node_lon"], arrays["node_lat"]]).astype(np.float64)
    except Exception:  # noqa: BLE001 - an unreadable cache falls back to the rows
        return None


def facility_limit_m() -> float:
    """``FIREGRID_FACILITY_MAX_SNAP_M`` of this process."""
    from firegrid.core.settings import get_settings

    return float(get_settings().facility_max_snap_m)


def check_on_network(
    session: Session,
    kind: str,
    code: str,
    lon: float,
    lat: float,
    limit_m: float | None = None,
) -> float | None:
    """Refuse a facility farther than the limit from every road node (``OffRoadNetwork``).

    Returns the distance, or ``None`` when there is no road network yet (then only the
    city outline, checked by the caller, applies).
    """
    distances = check_all_on_network(session, kind, [code], [lon], [lat], limit_m)
    return None if distances is None else float(distances[0])


def check_all_on_network(
    session: Session,
    kind: str,
    codes: Sequence[str],
    lon: Sequence[float],
    lat: Sequence[float],
    limit_m: float | None = None,
) -> FloatArray | None:
    """:func:`check_on_network` for many points of one kind at once (one network lookup);
    the error names the first offender and counts the others."""
    index = node_index(session)
    if index is None or not codes:
        return None
    limit = facility_limit_m() if limit_m is None else limit_m
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    distances = index.distance_m(lon_a, lat_a)
    off = np.flatnonzero(~(distances <= limit))
    if len(off):
        i = int(off[0])
        what = kind.replace("_", " ")
        others = f" (and {len(off) - 1} more)" if len(off) > 1 else ""
        raise OffRoadNetwork(
            f"{what} {codes[i]} ({lon_a[i]:.6f}, {lat_a[i]:.6f}) is {distances[i]:.0f} m "
            f"from the nearest road node, beyond the limit of {limit:.0f} m{others}: the "
            "travel-time engine cannot reach it (move it onto the road network, or import a "
            "road network that covers it)",
            {
                "lon": float(lon_a[i]),
                "lat": float(lat_a[i]),
                "kind": kind,
                "code": codes[i],
                "snap_distance_m": round(float(distances[i]), 1),
                "limit_m": limit,
                "off_network": [codes[j] for j in off[:20].tolist()],
            },
            text=TextCode.GEO_FACILITY_OFF_ROAD,
            params={
                "kind": kind,
                "code": codes[i],
                "distance_m": round(float(distances[i])),
                "limit_m": round(limit),
            },
        )
    return distances


# ---------------------------------------------------------------- a new network


def network_coverage(
    session: Session, network: RoadNetwork, limit_m: float, *, shown: int = 5
) -> dict[str, Any]:
    """How many stored stations, venues and hydrants ``network`` leaves beyond ``limit_m``
    of its nodes, with the first ``shown`` codes of each kind."""
    from firegrid.dispatch.public import Hydrant, Station
    from firegrid.places.public import Venue

    index = NodeIndex.build("", network.node_lon, network.node_lat)
    report: dict[str, Any] = {"limit_m": limit_m, "covered": True}
    for kind, model in (("stations", Station), ("venues", Venue), ("hydrants", Hydrant)):
        rows = session.execute(
            select(model.code, model.lon, model.lat)
            .where(model.deleted_at.is_(None))
            .order_by(model.id)
        ).all()
        outside: list[str] = []
        if rows:
            lon = np.asarray([r.lon for r in rows], dtype=np.float64)
            lat = np.asarray([r.lat for r in rows], dtype=np.float64)
            dist = index.distance_m(lon, lat)
            outside = [rows[i].code for i in np.flatnonzero(~(dist <= limit_m)).tolist()]
        report[kind] = {"total": len(rows), "outside": len(outside), "codes": outside[:shown]}
        if outside:
            report["covered"] = False
    return report
