"""The travel-time engine: snapping, searches, routes and precomputed facility trees.

Every travel time a caller sees includes the off-network legs: from a point to its snapped
node (and from the node to a point at the far end), walked/driven at ``access_speed_kph``.
Searches are exact Dijkstra (SciPy) on the network's CSR matrices.

Facilities (stations) are registered once: the engine runs one search from each facility
and keeps the times to every node in a dense ``float32`` matrix ``[facilities x nodes]``;
``k_nearest`` is then a snap plus an ``argpartition`` over one column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
from pyproj import Transformer
from scipy.spatial import cKDTree

from firegrid.geo.errors import (
    GeoError,
    InvalidCoordinates,
    NoRoute,
    PointOffNetwork,
    UnknownFacility,
    UnknownNode,
)
from firegrid.geo.network import RoadNetwork, Weight
from firegrid.geo.parallel import SearchPool
from firegrid.geo.projection import LocalProjection
from firegrid.geo.search import one_to_all, one_to_all_with_predecessors

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
FacilityId = str | int

DEFAULT_ACCESS_SPEED_KPH = 15.0
DEFAULT_MAX_SNAP_DISTANCE_M = 1000.0


@dataclass(frozen=True)
class Snapped:
    """Points snapped to nodes: arrays of equal length (``node == -1``: off network)."""

    lon: FloatArray
    lat: FloatArray
    node: IntArray
    distance_m: FloatArray
    leg_time_s: FloatArray

    def __len__(self) -> int:
        return len(self.node)

    @property
    def on_network(self) -> npt.NDArray[np.bool_]:
        return self.node >= 0


@dataclass(frozen=True)
class Nearest:
    """One facility in a ``k_nearest`` answer."""

    facility_id: FacilityId
    index: int
    travel_time_s: float


@dataclass(frozen=True)
class Route:
    """A shortest path between two points, legs included in the totals."""

    travel_time_s: float
    distance_m: float
    node_ids: IntArray
    coordinates: list[tuple[float, float]]
    access_distance_m: float
    egress_distance_m: float


@dataclass(frozen=True, eq=False)
class FacilitySet:
    """Registered facilities and their travel times to every node.

    ``times_s[f, v]``: time from facility ``f`` (its off-network leg included) to node ``v``.
    """

    name: str
    ids: tuple[FacilityId, ...]
    nodes: IntArray
    leg_time_s: FloatArray
    times_s: npt.NDArray[np.float32]
    index_of: dict[FacilityId, int] = field(repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, facility_id: FacilityId) -> int:
        """Row of a facility id; ``UnknownFacility`` if it is not in the set."""
        try:
            return self.index_of[facility_id]
        except KeyError:
            raise UnknownFacility(
                f"facility {facility_id!r} is not in facility set {self.name!r}"
            ) from None


def as_points(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Validate longitude/latitude arrays (1-D, equal length, finite, in range)."""
    lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
    lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
    if lon_a.shape != lat_a.shape:
        raise InvalidCoordinates(f"lon has {len(lon_a)} values but lat has {len(lat_a)}")
    bad = ~(
        np.isfinite(lon_a) & np.isfinite(lat_a) & (np.abs(lon_a) <= 180) & (np.abs(lat_a) <= 90)
    )
    if bad.any():
        idx = np.flatnonzero(bad)
        shown = ", ".join(f"#{i} ({lon_a[i]}, {lat_a[i]})" for i in idx[:5])
        more = f" and {len(idx) - 5} more" if len(idx) > 5 else ""
        raise InvalidCoordinates(f"invalid longitude/latitude at {shown}{more}")
    return lon_a, lat_a


def as_lonlat_array(points: npt.ArrayLike, what: str = "points") -> tuple[FloatArray, FloatArray]:
    """Split an ``(n, 2)`` array-like of ``(lon, lat)`` into validated arrays."""
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 1 and arr.shape == (2,):
        arr = arr.reshape(1, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InvalidCoordinates(f"{what} must be (lon, lat) pairs, got shape {arr.shape}")
    return as_points(arr[:, 0], arr[:, 1])


def _label(labels: Sequence[str] | None, i: int) -> str:
    """How an error names point ``i``: its label, else its position (``point #i``)."""
    if labels is not None and i < len(labels):
        return labels[i]
    return f"point #{i}"


class TravelTimeEngine:
    """Travel times on a ``RoadNetwork``.

    Parameters
    ----------
    network
        The road network (ideally strongly connected).
    access_speed_kph
        Speed on the off-network legs between a point and its snapped node.
    max_snap_distance_m
        Farther than this from every node, a point is ``PointOffNetwork``.
    matrix_workers
        Processes for the searches of a matrix (default: the CPU count, at most 4).
    """

    def __init__(
        self,
        network: RoadNetwork,
        *,
        access_speed_kph: float = DEFAULT_ACCESS_SPEED_KPH,
        max_snap_distance_m: float = DEFAULT_MAX_SNAP_DISTANCE_M,
        matrix_workers: int | None = None,
    ) -> None:
        problems = []
        if network.n_nodes == 0:
            problems.append("network has no nodes")
        if not access_speed_kph > 0:
            problems.append(f"access_speed_kph must be positive, got {access_speed_kph!r}")
        if not max_snap_distance_m > 0:
            problems.append(f"max_snap_distance_m must be positive, got {max_snap_distance_m!r}")
        if problems:
            raise GeoError("TravelTimeEngine: " + "; ".join(problems))
        self.network = network
        self.access_speed_kph = float(access_speed_kph)
        self.max_snap_distance_m = float(max_snap_distance_m)
        self.matrix_workers = matrix_workers
        self.projection = LocalProjection.around(network.node_lon, network.node_lat)
        x, y = self.projection.forward(network.node_lon, network.node_lat)
        self._tree = cKDTree(np.column_stack([x, y]))
        self._facilities: dict[str, FacilitySet] = {}
        # Build the CSR matrices now, not on the first request.
        network.csr("time")
        network.csr("distance")

    @property
    def equal_area(self) -> tuple[Transformer, Transformer]:
        """``(to_metric, to_wgs84)``: a Lambert azimuthal equal-area CRS centred on the network.

        Used for polygons and areas (exact areas, distances within 0.01 % over a city).
        New transformers on every call: pyproj transformers are not to be shared by threads.
        """
        crs = (
            f"+proj=laea +lat_0={self.projection.lat0} +lon_0={self.projection.lon0} "
            "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )
        return (
            Transformer.from_crs("EPSG:4326", crs, always_xy=True),
            Transformer.from_crs(crs, "EPSG:4326", always_xy=True),
        )

    @cached_property
    def node_xy_equal_area(self) -> tuple[FloatArray, FloatArray]:
        """Node coordinates in the ``equal_area`` CRS (metres), computed once."""
        x, y = self.equal_area[0].transform(self.network.node_lon, self.network.node_lat)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    # ------------------------------------------------------------------ snapping
    def snap(
        self,
        lon: npt.ArrayLike,
        lat: npt.ArrayLike,
        *,
        strict: bool = True,
        labels: Sequence[str] | None = None,
    ) -> Snapped:
        """Snap points to their nearest nodes.

        With ``strict`` a point beyond ``max_snap_distance_m`` raises ``PointOffNetwork``
        (naming every such point by its label, e.g. ``station ST101`` or ``origin``, else
        by its position in the input); otherwise it gets ``node=-1`` and infinite leg.
        """
        lon_a, lat_a = as_points(lon, lat)
        dist, node = self._nearest_nodes(lon_a, lat_a)
        off = dist > self.max_snap_distance_m
        if off.any():
            if strict:
                idx = np.flatnonzero(off)
                shown = ", ".join(
                    f"{_label(labels, int(i))} ({lon_a[i]:.6f}, {lat_a[i]:.6f}) is "
                    f"{dist[i]:.0f} m away"
                    for i in idx[:5]
                )
                more = f" and {len(idx) - 5} more" if len(idx) > 5 else ""
                raise PointOffNetwork(
                    f"point off the road network (limit {self.max_snap_distance_m:.0f} m): "
                    f"{shown}{more}"
                )
            node = np.where(off, -1, node)
            dist = np.where(off, np.inf, dist)
        return Snapped(lon_a, lat_a, node, dist, dist / (self.access_speed_kph / 3.6))

    def _nearest_nodes(self, lon_a: FloatArray, lat_a: FloatArray) -> tuple[FloatArray, IntArray]:
        x, y = self.projection.forward(lon_a, lat_a)
        dist, node = self._tree.query(np.column_stack([x, y]))
        return np.asarray(dist, dtype=np.float64), np.asarray(node, dtype=np.int64)

    def snap_distance_m(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
        """Distance (m) from each point to its nearest node, whatever the snapping limit."""
        lon_a, lat_a = as_points(lon, lat)
        return self._nearest_nodes(lon_a, lat_a)[0]

    def leg(self, snapped: Snapped, by: Weight) -> FloatArray:
        """Off-network leg cost of snapped points: seconds for ``time``, metres otherwise."""
        return snapped.leg_time_s if by == "time" else snapped.distance_m

    def check_nodes(self, nodes: npt.ArrayLike) -> IntArray:
        """Validate node indices; ``UnknownNode`` names the bad ones."""
        arr = np.atleast_1d(np.asarray(nodes)).ravel()
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise UnknownNode(f"node ids must be integers, got {arr.dtype}")
        arr = arr.astype(np.int64)
        bad = (arr < 0) | (arr >= self.network.n_nodes)
        if bad.any():
            raise UnknownNode(
                f"node ids outside 0..{self.network.n_nodes - 1}: {arr[bad][:5].tolist()}"
            )
        return arr

    # ------------------------------------------------------------------ searches
    def travel_times_from_node(
        self, node: int, *, by: Weight = "time", limit: float | None = None
    ) -> FloatArray:
        """Network cost from one node to every node (no legs); ``inf`` beyond ``limit``."""
        source = int(self.check_nodes(node)[0])
        return one_to_all(self.network.csr(by), source, limit)

    def travel_times_to_node(
        self, node: int, *, by: Weight = "time", limit: float | None = None
    ) -> FloatArray:
        """Network cost from every node to one node (searches the reverse graph)."""
        target = int(self.check_nodes(node)[0])
        return one_to_all(self.network.reverse_csr(by), target, limit)

    def travel_times_from(
        self, lon: float, lat: float, *, by: Weight = "time", limit: float | None = None
    ) -> FloatArray:
        """One-to-all: cost from a point to every node, the access leg included."""
        snapped = self.snap(lon, lat)
        leg = float(self.leg(snapped, by)[0])
        rest = None if limit is None else max(limit - leg, 0.0)
        times = np.asarray(
            one_to_all(self.network.csr(by), int(snapped.node[0]), rest) + leg, dtype=np.float64
        )
        if limit is not None:
            times[times > limit] = np.inf
        return times

    def travel_times(
        self, origin: tuple[float, float], destinations: npt.ArrayLike, *, by: Weight = "time"
    ) -> FloatArray:
        """One-to-many: cost from ``origin`` to each destination point, legs included."""
        row: FloatArray = self.travel_time_matrix([origin], destinations, by=by)[0]
        return row

    def travel_time_matrix(
        self,
        origins: npt.ArrayLike,
        destinations: npt.ArrayLike,
        *,
        by: Weight = "time",
        limit: float | None = None,
    ) -> FloatArray:
        """Many-to-many matrix ``[origins x destinations]`` of costs, legs included.

        One search per distinct origin node, or per distinct destination node on the
        reverse graph when there are fewer of those. With ``limit`` the searches stop there
        (much faster for local questions) and costs above it are ``inf``.
        """
        o_lon, o_lat = as_lonlat_array(origins, "origins")
        d_lon, d_lat = as_lonlat_array(destinations, "destinations")
        so, sd = self.snap(o_lon, o_lat), self.snap(d_lon, d_lat)
        net = self.node_matrix(so.node, sd.node, by=by, limit=limit)
        out = np.asarray(net + self.leg(so, by)[:, None] + self.leg(sd, by)[None, :])
        if limit is not None:
            out[out > limit] = np.inf
        return out

    def node_matrix(
        self,
        origin_nodes: npt.ArrayLike,
        destination_nodes: npt.ArrayLike,
        *,
        by: Weight = "time",
        limit: float | None = None,
    ) -> FloatArray:
        """Network-only cost matrix between node ids (``inf`` beyond ``limit``)."""
        o = self.check_nodes(origin_nodes)
        d = self.check_nodes(destination_nodes)
        uo, o_inv = np.unique(o, return_inverse=True)
        ud, d_inv = np.unique(d, return_inverse=True)
        if len(uo) <= len(ud):
            out = self.search_pool.rows(f"forward:{by}", uo, ud, limit)
        else:
            out = self.search_pool.rows(f"reverse:{by}", ud, uo, limit).T
        return np.asarray(out[o_inv.ravel()][:, d_inv.ravel()], dtype=np.float64)

    @cached_property
    def search_pool(self) -> SearchPool:
        """Worker processes for many independent searches (matrices), started on first use."""
        net = self.network
        return SearchPool(
            {
                "forward:time": net.csr("time"),
                "forward:distance": net.csr("distance"),
                "reverse:time": net.reverse_csr("time"),
                "reverse:distance": net.reverse_csr("distance"),
            },
            workers=self.matrix_workers,
        )

    def close(self) -> None:
        """Stop the matrix worker processes, if any were started. The engine still answers
        (its matrices then search in the calling process); call this when replacing it."""
        pool = self.__dict__.get("search_pool")  # not started: nothing to stop
        if pool is not None:
            pool.close()

    def route(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        *,
        by: Weight = "time",
    ) -> Route:
        """Shortest path between two points by ``time`` or ``distance``.

        Totals include the legs; ``coordinates`` run from the origin point through the
        path's nodes to the destination point.
        """
        s = self.snap(
            [origin[0], destination[0]],
            [origin[1], destination[1]],
            labels=("origin", "destination"),
        )
        return self.route_along(s, self.route_nodes(int(s.node[0]), int(s.node[1]), by=by))

    def route_along(self, ends: Snapped, nodes: IntArray) -> Route:
        """The route from the first point of ``ends`` to its second along the path ``nodes``
        (from the first point's node to the second's): totals with the legs, coordinates
        from point to point through the nodes."""
        length, time = self.path_cost(nodes)
        net = self.network
        coords = [(float(ends.lon[0]), float(ends.lat[0]))]
        coords += list(zip(net.node_lon[nodes].tolist(), net.node_lat[nodes].tolist(), strict=True))
        coords.append((float(ends.lon[1]), float(ends.lat[1])))
        return Route(
            travel_time_s=time + float(ends.leg_time_s.sum()),
            distance_m=length + float(ends.distance_m.sum()),
            node_ids=nodes,
            coordinates=coords,
            access_distance_m=float(ends.distance_m[0]),
            egress_distance_m=float(ends.distance_m[1]),
        )

    def route_nodes(self, source: int, target: int, *, by: Weight = "time") -> IntArray:
        """Node ids of a shortest path from ``source`` to ``target`` (both included)."""
        src, dst = (int(v) for v in self.check_nodes([source, target]))
        dist, pred = one_to_all_with_predecessors(self.network.csr(by), src)
        if not np.isfinite(dist[dst]):
            raise NoRoute(f"node {dst} cannot be reached from node {src}")
        path = [dst]
        while path[-1] != src:
            path.append(int(pred[path[-1]]))
        return np.asarray(path[::-1], dtype=np.int64)

    def path_cost(self, nodes: npt.ArrayLike) -> tuple[float, float]:
        """``(distance_m, travel_time_s)`` along consecutive nodes of a path."""
        arr = np.asarray(nodes, dtype=np.int64)
        edges = self.network.edge_ids(arr[:-1], arr[1:])
        if np.any(edges < 0):
            raise NoRoute("the node sequence is not a path of the network")
        return float(self.network.length_m[edges].sum()), float(
            self.network.travel_time_s[edges].sum()
        )

    # ------------------------------------------------------------------ facilities
    def register_facilities(
        self,
        name: str,
        points: npt.ArrayLike | None = None,
        ids: Sequence[FacilityId] | None = None,
        *,
        nodes: npt.ArrayLike | None = None,
    ) -> FacilitySet:
        """Precompute travel times from each facility to every node.

        Give either ``points`` (``(lon, lat)`` pairs; snapped, their leg included) or
        ``nodes`` (node ids). ``ids`` default to ``0..n-1``. Replaces a set of the same name.
        """
        if (points is None) == (nodes is None):
            raise UnknownFacility(f"facility set {name!r}: give exactly one of points or nodes")
        if points is not None:
            lon, lat = as_lonlat_array(points, f"facility set {name!r} points")
            snapped = self.snap(lon, lat)
            fac_nodes, legs = snapped.node, snapped.leg_time_s
        elif nodes is not None:
            fac_nodes = self.check_nodes(nodes)
            legs = np.zeros(len(fac_nodes))
        fac_ids: tuple[FacilityId, ...] = (
            tuple(range(len(fac_nodes))) if ids is None else tuple(ids)
        )
        if len(fac_ids) != len(fac_nodes):
            raise UnknownFacility(
                f"facility set {name!r}: {len(fac_ids)} ids for {len(fac_nodes)} facilities"
            )
        if len(set(fac_ids)) != len(fac_ids):
            raise UnknownFacility(f"facility set {name!r}: ids are not unique")
        times = np.empty((len(fac_nodes), self.network.n_nodes), dtype=np.float32)
        graph = self.network.csr("time")
        for i, node in enumerate(fac_nodes):
            times[i] = one_to_all(graph, int(node)) + legs[i]
        facility_set = FacilitySet(
            name=name,
            ids=fac_ids,
            nodes=np.asarray(fac_nodes, dtype=np.int64),
            leg_time_s=np.asarray(legs, dtype=np.float64),
            times_s=times,
            index_of={fid: i for i, fid in enumerate(fac_ids)},
        )
        self._facilities[name] = facility_set
        return facility_set

    def add_facility_set(self, facility_set: FacilitySet) -> FacilitySet:
        """Install a facility set computed before (restored from the warm-start cache of
        :mod:`firegrid.geo.service`); its matrix must cover this network's nodes."""
        shape = (len(facility_set), self.network.n_nodes)
        if facility_set.times_s.shape != shape or len(facility_set.nodes) != shape[0]:
            raise UnknownFacility(
                f"facility set {facility_set.name!r}: times of shape "
                f"{facility_set.times_s.shape}, expected {shape}"
            )
        self._facilities[facility_set.name] = facility_set
        return facility_set

    def facilities(self, name: str) -> FacilitySet:
        """A registered facility set; ``UnknownFacility`` if there is none of that name."""
        try:
            return self._facilities[name]
        except KeyError:
            known = ", ".join(sorted(self._facilities)) or "none"
            raise UnknownFacility(f"no facility set named {name!r} (registered: {known})") from None

    def facility_names(self) -> list[str]:
        return sorted(self._facilities)

    def k_nearest(self, name: str, lon: float, lat: float, k: int = 5) -> list[Nearest]:
        """The ``k`` facilities that reach the point soonest, fastest first.

        Unreachable facilities are left out, so fewer than ``k`` may come back.
        """
        fs = self.facilities(name)
        if k < 1:
            raise UnknownFacility(f"k must be at least 1, got {k}")
        snapped = self.snap(lon, lat)
        column = fs.times_s[:, int(snapped.node[0])]
        kk = min(k, len(column))
        best = np.argpartition(column, kk - 1)[:kk] if kk < len(column) else np.arange(kk)
        best = best[np.argsort(column[best], kind="stable")]
        leg = float(snapped.leg_time_s[0])
        return [
            Nearest(fs.ids[i], int(i), float(column[i]) + leg)
            for i in best.tolist()
            if np.isfinite(column[i])
        ]

    def facility_times_to(
        self, name: str, lon: npt.ArrayLike, lat: npt.ArrayLike
    ) -> npt.NDArray[np.float32]:
        """Times ``[facilities x points]`` from each facility to each point (legs included)."""
        fs = self.facilities(name)
        snapped = self.snap(lon, lat)
        return fs.times_s[:, snapped.node] + snapped.leg_time_s.astype(np.float32)[None, :]
