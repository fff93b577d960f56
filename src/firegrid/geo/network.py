"""The road network: a directed graph held in NumPy arrays.

Nodes are WGS-84 longitude/latitude (float64). Each directed edge has ``length_m``,
``road_class`` (``RoadClass``), ``oneway``, ``speed_kph`` and ``travel_time_s``. A two-way
road is two directed edges with ``oneway=False``; a one-way road is a single edge.

Invariants kept by ``RoadNetwork.build`` (and checked by the constructor): no self-loops,
no parallel edges, edges sorted by ``(src, dst)``, every weight strictly positive. Thanks to
the sort, the position of an edge in the forward CSR matrix is its edge id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from firegrid.geo.errors import InvalidNetwork

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Weight = Literal["time", "distance"]

#: Smallest weights kept on an edge: a zero weight would vanish from a sparse matrix.
MIN_LENGTH_M = 0.01
MIN_TRAVEL_TIME_S = 0.001

FORMAT_VERSION = 1

NodeRow = tuple[int, int, float, float]
"""``(node_index, node_ref, lon, lat)``."""

EdgeRow = tuple[int, int, int, float, int, bool, float, float]
"""``(edge_index, src, dst, length_m, road_class, oneway, speed_kph, travel_time_s)``."""


class RoadClass(IntEnum):
    """Road classes, after OSM ``highway=*``; stored as ``uint8``."""

    MOTORWAY = 0
    TRUNK = 1
    PRIMARY = 2
    SECONDARY = 3
    TERTIARY = 4
    UNCLASSIFIED = 5
    RESIDENTIAL = 6
    SERVICE = 7
    LIVING_STREET = 8
    MOTORWAY_LINK = 9
    TRUNK_LINK = 10
    PRIMARY_LINK = 11
    SECONDARY_LINK = 12
    TERTIARY_LINK = 13


@dataclass(frozen=True)
class PruneReport:
    """What pruning to the largest strongly connected component removed."""

    nodes_kept: int
    edges_kept: int
    nodes_dropped: int
    edges_dropped: int
    components: int


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """Directed road graph in NumPy arrays (see the module docstring for invariants).

    Build one with ``RoadNetwork.build`` (normalises) rather than the constructor (checks).
    """

    node_lon: FloatArray
    node_lat: FloatArray
    node_ref: IntArray
    edge_src: IntArray
    edge_dst: IntArray
    length_m: FloatArray
    road_class: npt.NDArray[np.uint8]
    oneway: BoolArray
    speed_kph: FloatArray
    travel_time_s: FloatArray

    def __post_init__(self) -> None:
        problems: list[str] = []
        n, m = len(self.node_lon), len(self.edge_src)
        if len(self.node_lat) != n or len(self.node_ref) != n:
            problems.append("node_lon, node_lat and node_ref differ in length")
        for name in ("edge_dst", "length_m", "road_class", "oneway", "speed_kph", "travel_time_s"):
            if len(getattr(self, name)) != m:
                problems.append(f"{name} has {len(getattr(self, name))} items, edge_src has {m}")
        if problems:
            raise InvalidNetwork("invalid road network: " + "; ".join(problems))
        if m:
            if self.edge_src.min() < 0 or self.edge_src.max() >= n:
                problems.append("edge_src refers to a node outside the network")
            if self.edge_dst.min() < 0 or self.edge_dst.max() >= n:
                problems.append("edge_dst refers to a node outside the network")
            if np.any(self.edge_src == self.edge_dst):
                problems.append("self-loops present")
            key = self.edge_src * np.int64(n) + self.edge_dst
            if np.any(np.diff(key) <= 0):
                problems.append("edges not sorted by (src, dst) or parallel edges present")
            if not (np.all(self.length_m > 0) and np.all(self.travel_time_s > 0)):
                problems.append("length_m and travel_time_s must be positive")
        if n and not (
            np.all(np.isfinite(self.node_lon))
            and np.all(np.isfinite(self.node_lat))
            and np.all(np.abs(self.node_lon) <= 180)
            and np.all(np.abs(self.node_lat) <= 90)
        ):
            problems.append("node coordinates not finite or out of range")
        if problems:
            raise InvalidNetwork("invalid road network: " + "; ".join(problems))

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(
        cls,
        node_lon: npt.ArrayLike,
        node_lat: npt.ArrayLike,
        edge_src: npt.ArrayLike,
        edge_dst: npt.ArrayLike,
        length_m: npt.ArrayLike,
        road_class: npt.ArrayLike,
        oneway: npt.ArrayLike,
        speed_kph: npt.ArrayLike,
        *,
        travel_time_s: npt.ArrayLike | None = None,
        node_ref: npt.ArrayLike | None = None,
    ) -> RoadNetwork:
        """Normalise raw arrays into a network.

        Drops self-loops, keeps the fastest of parallel edges, sorts edges by
        ``(src, dst)`` and raises weights below ``MIN_LENGTH_M``/``MIN_TRAVEL_TIME_S``.
        ``travel_time_s`` defaults to ``length_m / speed``.
        """
        lon = np.ascontiguousarray(node_lon, dtype=np.float64)
        lat = np.ascontiguousarray(node_lat, dtype=np.float64)
        ref = (
            np.arange(len(lon), dtype=np.int64)
            if node_ref is None
            else np.ascontiguousarray(node_ref, dtype=np.int64)
        )
        src = np.asarray(edge_src, dtype=np.int64)
        dst = np.asarray(edge_dst, dtype=np.int64)
        length = np.maximum(np.asarray(length_m, dtype=np.float64), MIN_LENGTH_M)
        speed = np.asarray(speed_kph, dtype=np.float64)
        if np.any(~(speed > 0)):
            raise InvalidNetwork("invalid road network: speed_kph must be positive")
        time = (
            length / (speed / 3.6)
            if travel_time_s is None
            else np.asarray(travel_time_s, dtype=np.float64)
        )
        time = np.maximum(time, MIN_TRAVEL_TIME_S)
        rclass = np.asarray(road_class, dtype=np.uint8)
        one = np.asarray(oneway, dtype=np.bool_)
        sizes = {len(a) for a in (src, dst, length, speed, time, rclass, one)}
        if len(sizes) != 1:
            raise InvalidNetwork("invalid road network: edge arrays differ in length")
        keep = src != dst
        n = len(lon)
        # Sort by (src, dst, time): the first of each (src, dst) run is the fastest.
        order = np.lexsort((time, dst, src))
        order = order[keep[order]]
        key = src[order] * np.int64(n) + dst[order]
        first = np.ones(len(order), dtype=np.bool_)
        first[1:] = key[1:] != key[:-1]
        order = order[first]
        return cls(
            node_lon=lon,
            node_lat=lat,
            node_ref=ref,
            edge_src=np.ascontiguousarray(src[order]),
            edge_dst=np.ascontiguousarray(dst[order]),
            length_m=np.ascontiguousarray(length[order]),
            road_class=np.ascontiguousarray(rclass[order]),
            oneway=np.ascontiguousarray(one[order]),
            speed_kph=np.ascontiguousarray(speed[order]),
            travel_time_s=np.ascontiguousarray(time[order]),
        )

    # ------------------------------------------------------------------ basic facts
    @property
    def n_nodes(self) -> int:
        return len(self.node_lon)

    @property
    def n_edges(self) -> int:
        return len(self.edge_src)

    def weights(self, by: Weight = "time") -> FloatArray:
        """Edge weights: ``travel_time_s`` for ``"time"``, ``length_m`` for ``"distance"``."""
        if by == "time":
            return self.travel_time_s
        if by == "distance":
            return self.length_m
        raise InvalidNetwork(f"unknown weight {by!r}; use 'time' or 'distance'")

    @cached_property
    def indptr(self) -> IntArray:
        """CSR row pointer of the forward graph (edges are sorted by source)."""
        counts = np.bincount(self.edge_src, minlength=self.n_nodes)
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return indptr

    def csr(self, by: Weight = "time") -> csr_matrix:
        """Forward graph as a SciPy CSR matrix; entry ``k`` of ``.data`` is edge ``k``."""
        return self._csr_time if by == "time" else self._csr_length

    def reverse_csr(self, by: Weight = "time") -> csr_matrix:
        """Reverse graph (every edge turned round) as CSR, for searches towards a node."""
        return self._rcsr_time if by == "time" else self._rcsr_length

    def _make_csr(self, data: FloatArray) -> csr_matrix:
        n = self.n_nodes
        indices = self.edge_dst.astype(np.int32)
        return csr_matrix((data, indices, self.indptr.astype(np.int32)), shape=(n, n))

    @cached_property
    def _csr_time(self) -> csr_matrix:
        return self._make_csr(self.travel_time_s)

    @cached_property
    def _csr_length(self) -> csr_matrix:
        return self._make_csr(self.length_m)

    @cached_property
    def _rcsr_time(self) -> csr_matrix:
        return self._csr_time.transpose().tocsr()

    @cached_property
    def _rcsr_length(self) -> csr_matrix:
        return self._csr_length.transpose().tocsr()

    @cached_property
    def undirected_length_csr(self) -> csr_matrix:
        """Symmetric graph by length (one-way ignored), e.g. for hoses laid on foot."""
        forward = self.csr("distance")
        backward = forward.transpose().tocsr()
        either = forward.maximum(backward)  # the length where only one direction exists
        both = forward.minimum(backward)  # the shorter length where both exist
        result = (either - either.multiply(both > 0) + both).tocsr()
        result.eliminate_zeros()
        result.sort_indices()
        return result

    def edge_ids(self, src: npt.ArrayLike, dst: npt.ArrayLike) -> IntArray:
        """Edge id of each ``(src, dst)`` pair, ``-1`` where there is no such edge."""
        n = np.int64(self.n_nodes)
        keys = self._edge_keys
        want = np.asarray(src, dtype=np.int64) * n + np.asarray(dst, dtype=np.int64)
        pos = np.searchsorted(keys, want)
        pos_c = np.minimum(pos, max(len(keys) - 1, 0))
        found = (pos < len(keys)) & (keys[pos_c] == want) if len(keys) else pos < 0
        return np.where(found, pos_c, -1).astype(np.int64)

    @cached_property
    def _edge_keys(self) -> IntArray:
        return self.edge_src * np.int64(self.n_nodes) + self.edge_dst

    @cached_property
    def reverse_edge(self) -> IntArray:
        """For each edge ``u -> v``, the id of ``v -> u`` or ``-1``."""
        return self.edge_ids(self.edge_dst, self.edge_src)

    @cached_property
    def road_length_m(self) -> float:
        """Length of the road network counting a two-way road once."""
        once = (self.reverse_edge < 0) | (np.arange(self.n_edges) < self.reverse_edge)
        return float(self.length_m[once].sum())

    def bounds(self) -> tuple[float, float, float, float]:
        """``(min_lon, min_lat, max_lon, max_lat)``."""
        return (
            float(self.node_lon.min()),
            float(self.node_lat.min()),
            float(self.node_lon.max()),
            float(self.node_lat.max()),
        )

    # ------------------------------------------------------------------ transformations
    def subgraph(self, node_mask: npt.ArrayLike) -> RoadNetwork:
        """Network induced by the nodes where ``node_mask`` is true (renumbered, order kept)."""
        mask = np.asarray(node_mask, dtype=np.bool_)
        new_index = np.cumsum(mask, dtype=np.int64) - 1
        keep = mask[self.edge_src] & mask[self.edge_dst]
        return RoadNetwork(
            node_lon=self.node_lon[mask],
            node_lat=self.node_lat[mask],
            node_ref=self.node_ref[mask],
            edge_src=new_index[self.edge_src[keep]],
            edge_dst=new_index[self.edge_dst[keep]],
            length_m=self.length_m[keep],
            road_class=self.road_class[keep],
            oneway=self.oneway[keep],
            speed_kph=self.speed_kph[keep],
            travel_time_s=self.travel_time_s[keep],
        )

    def largest_strongly_connected(self) -> tuple[RoadNetwork, PruneReport]:
        """Keep the largest strongly connected component; report what was dropped."""
        if self.n_nodes == 0:
            return self, PruneReport(0, 0, 0, 0, 0)
        count, labels = connected_components(self.csr(), directed=True, connection="strong")
        sizes = np.bincount(labels)
        mask = labels == int(np.argmax(sizes))
        pruned = self.subgraph(mask)
        report = PruneReport(
            nodes_kept=pruned.n_nodes,
            edges_kept=pruned.n_edges,
            nodes_dropped=self.n_nodes - pruned.n_nodes,
            edges_dropped=self.n_edges - pruned.n_edges,
            components=int(count),
        )
        return pruned, report

    def spatially_sorted(self) -> RoadNetwork:
        """Renumber nodes along a Morton (Z-order) curve, for cache-friendly searches."""
        if self.n_nodes == 0:
            return self
        order = np.argsort(_morton_codes(self.node_lon, self.node_lat), kind="stable")
        new_index = np.empty(self.n_nodes, dtype=np.int64)
        new_index[order] = np.arange(self.n_nodes, dtype=np.int64)
        return RoadNetwork.build(
            self.node_lon[order],
            self.node_lat[order],
            new_index[self.edge_src],
            new_index[self.edge_dst],
            self.length_m,
            self.road_class,
            self.oneway,
            self.speed_kph,
            travel_time_s=self.travel_time_s,
            node_ref=self.node_ref[order],
        )

    # ------------------------------------------------------------------ persistence
    _ARRAYS = (
        "node_lon",
        "node_lat",
        "node_ref",
        "edge_src",
        "edge_dst",
        "length_m",
        "road_class",
        "oneway",
        "speed_kph",
        "travel_time_s",
    )

    def save(self, path: str | Path) -> Path:
        """Write an uncompressed ``.npz`` cache; returns the path written."""
        target = Path(path)
        if target.suffix != ".npz":
            target = target.with_suffix(target.suffix + ".npz")
        meta = json.dumps({"format": "firegrid.road_network", "version": FORMAT_VERSION})
        arrays = {name: getattr(self, name) for name in self._ARRAYS}
        with target.open("wb") as fh:
            np.savez(fh, meta=np.frombuffer(meta.encode(), dtype=np.uint8), **arrays)
        return target

    @classmethod
    def load(cls, path: str | Path) -> RoadNetwork:
        """Read a cache written by ``save``."""
        with np.load(Path(path), allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("format") != "firegrid.road_network" or meta.get("version") != (
                FORMAT_VERSION
            ):
                raise InvalidNetwork(
                    f"{path}: not a road network cache of version {FORMAT_VERSION}"
                )
            return cls(**{name: data[name] for name in cls._ARRAYS})

    # ------------------------------------------------------------------ rows
    def node_rows(self) -> Iterator[NodeRow]:
        """Nodes as plain tuples ``(node_index, node_ref, lon, lat)``."""
        return zip(
            range(self.n_nodes),
            self.node_ref.tolist(),
            self.node_lon.tolist(),
            self.node_lat.tolist(),
            strict=True,
        )

    def edge_rows(self) -> Iterator[EdgeRow]:
        """Edges as plain tuples (see ``EdgeRow``)."""
        return zip(
            range(self.n_edges),
            self.edge_src.tolist(),
            self.edge_dst.tolist(),
            self.length_m.tolist(),
            self.road_class.tolist(),
            self.oneway.tolist(),
            self.speed_kph.tolist(),
            self.travel_time_s.tolist(),
            strict=True,
        )

    def to_rows(self) -> tuple[list[NodeRow], list[EdgeRow]]:
        """Nodes and edges as lists of plain tuples, e.g. for a database table."""
        return list(self.node_rows()), list(self.edge_rows())

    @classmethod
    def from_rows(cls, nodes: Iterable[NodeRow], edges: Iterable[EdgeRow]) -> RoadNetwork:
        """Rebuild a network from ``to_rows`` output (rows may come in any order)."""
        node_list = sorted(nodes)
        idx = [r[0] for r in node_list]
        if idx != list(range(len(idx))):
            raise InvalidNetwork("node rows must number nodes 0..n-1 without gaps")
        edge_list = list(edges)
        cols = list(zip(*edge_list, strict=True)) if edge_list else [()] * 8
        return cls.build(
            [r[2] for r in node_list],
            [r[3] for r in node_list],
            np.asarray(cols[1], dtype=np.int64),
            np.asarray(cols[2], dtype=np.int64),
            np.asarray(cols[3], dtype=np.float64),
            np.asarray(cols[4], dtype=np.uint8),
            np.asarray(cols[5], dtype=np.bool_),
            np.asarray(cols[6], dtype=np.float64),
            travel_time_s=np.asarray(cols[7], dtype=np.float64),
            node_ref=[r[1] for r in node_list],
        )


def _morton_codes(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.uint64]:
    """Z-order codes of points quantised to 16 bits per axis over their bounding box."""

    def quantise(v: FloatArray) -> npt.NDArray[np.uint64]:
        span = float(v.max() - v.min()) or 1.0
        out: npt.NDArray[np.uint64] = ((v - v.min()) / span * 65535.0).astype(np.uint64)
        return out

    def spread(v: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
            v = np.bitwise_and(
                np.bitwise_or(v, np.left_shift(v, np.uint64(shift))), np.uint64(mask)
            )
        return v

    codes: npt.NDArray[np.uint64] = spread(quantise(lon)) | (spread(quantise(lat)) << np.uint64(1))
    return codes
