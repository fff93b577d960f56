"""The travel-time engine of a database, loaded once per process and kept warm.

The engine is built from the active road network (array cache first) with the database's
fire stations registered as the ``stations`` facility set (a precomputed tree per station),
so "which stations reach this point first" needs no search at request time. It is rebuilt
when the network or the stations change.

A station the engine cannot snap (farther from every road node than its snapping limit) is
not registered: it is kept in ``GeoContext.skipped`` so that answers report it instead of
failing the whole request.

Warm start: the station trees (one search per station over the whole network, the slow
part: seconds to tens of seconds for a city) are persisted next to the network's array
cache, keyed by the network's checksum and the stations' ids and points, and restored on
the next start. A process that recommends or routes loads the engine when it starts
(:class:`EngineWarmup`; the API reports "warming" and is not ready until it is loaded).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import NotFound
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.dispatch.public import Station
from firegrid.geo.engine import FacilitySet, TravelTimeEngine
from firegrid.geo.errors import GeoError, UnknownFacility
from firegrid.geo.facilities import FacilityPoint, SkippedFacility, split_reachable
from firegrid.geo.models import RoadNetworkRecord
from firegrid.geo.store import active_record, load_network

STATIONS = "stations"
log = logging.getLogger(__name__)
#: what this process built or restored, for tests and the warm-up report:
#: ``engine`` builds, ``station_trees_computed``, ``station_trees_restored``
BUILDS: Counter[str] = Counter()


@dataclass(frozen=True)
class StationInfo:
    id: int
    code: str
    name: str
    station_type: str
    force_kind: str
    lon: float
    lat: float
    jurisdiction_path: str


@dataclass
class GeoContext:
    """An engine with the stations it was built with."""

    engine: TravelTimeEngine
    stations: list[StationInfo]
    stamp: tuple[Any, ...]
    #: stations left out of the ``stations`` facility set (off the road network)
    skipped: list[SkippedFacility] = field(default_factory=list)

    @property
    def registered(self) -> list[StationInfo]:
        """The stations in the engine's ``stations`` facility set."""
        left_out = {s.id for s in self.skipped}
        return [s for s in self.stations if s.id not in left_out]

    def skipped_station(self, station_id: int) -> SkippedFacility | None:
        return next((s for s in self.skipped if s.id == station_id), None)

    def skipped_visible(self, can_see_path: Callable[[str], bool]) -> list[SkippedFacility]:
        """The skipped stations in a caller's scope (``Principal.can_see_path``)."""
        paths = {s.id: s.jurisdiction_path for s in self.stations}
        return [s for s in self.skipped if s.id in paths and can_see_path(paths[s.id])]

    def station(self, station_id: int) -> StationInfo:
        for info in self.stations:
            if info.id == station_id:
                return info
        from firegrid.core.errors import NotFound

        raise NotFound(
            f"station {station_id} not found",
            {"station_id": station_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "station", "id": station_id},
        )


_lock = threading.Lock()
_contexts: dict[str, GeoContext] = {}


def _stamp(database: Database) -> tuple[Any, ...]:
    with database.session() as session:
        record = active_record(session)
        stations = session.execute(
            select(func.count(Station.id), func.max(Station.updated_at)).where(
                Station.deleted_at.is_(None)
            )
        ).one()
        return (record.checksum, int(stations[0]), stations[1])


def load_stations(database: Database) -> list[StationInfo]:
    with database.session() as session:
        rows = session.scalars(
            select(Station).where(Station.deleted_at.is_(None)).order_by(Station.id)
        ).all()
        return [
            StationInfo(
                r.id,
                r.code,
                r.name,
                r.station_type,
                r.force_kind,
                r.lon,
                r.lat,
                r.jurisdiction_path,
            )
            for r in rows
        ]


def stations_key(stations: list[StationInfo]) -> str:
    """Fingerprint of the stations the trees were computed for (ids and points)."""
    digest = hashlib.sha256()
    for st in stations:
        digest.update(f"{st.id}:{st.lon!r}:{st.lat!r};".encode())
    return digest.hexdigest()


def station_trees_path(cache_dir: Path, network_checksum: str, key: str) -> Path:
    return cache_dir / "roads" / f"stations-{network_checksum[:16]}-{key[:16]}.npz"


def _restore_trees(
    engine: TravelTimeEngine, path: Path, stations: list[StationInfo]
) -> FacilitySet | None:
    """The station trees saved at ``path`` if they fit this engine and these stations."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            ids = tuple(int(i) for i in data["ids"])
            if ids != tuple(st.id for st in stations):
                return None
            facility_set = FacilitySet(
                name=STATIONS,
                ids=ids,
                nodes=np.asarray(data["nodes"], dtype=np.int64),
                leg_time_s=np.asarray(data["leg_time_s"], dtype=np.float64),
                times_s=np.asarray(data["times_s"], dtype=np.float32),
                index_of={fid: i for i, fid in enumerate(ids)},
            )
        return engine.add_facility_set(facility_set)
    except Exception:  # noqa: BLE001 - a bad cache is recomputed
        log.warning("station trees cache %s unusable; recomputing", path)
        return None


def _save_trees(path: Path, facility_set: FacilitySet) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part.npz")
        np.savez(
            tmp,
            ids=np.asarray(facility_set.ids, dtype=np.int64),
            nodes=facility_set.nodes,
            leg_time_s=facility_set.leg_time_s,
            times_s=facility_set.times_s,
        )
        tmp.replace(path)
    except OSError:  # a read-only data dir: the trees are recomputed next start
        log.warning("cannot write the station trees cache %s", path)


def geo_context(database: Database, settings: Settings) -> GeoContext:
    """The warm engine for ``database``; built on first use and after changes (the station
    trees restored from their cache when the network and the stations are unchanged)."""
    stamp = _stamp(database)
    with _lock:
        cached = _contexts.get(database.url)
        if cached is not None and cached.stamp == stamp:
            return cached
        network = load_network(database, settings.data_dir)
        engine = TravelTimeEngine(network)
        BUILDS["engine"] += 1
        stations = load_stations(database)
        skipped = register_stations(engine, stations, settings.data_dir, str(stamp[0]))
        context = GeoContext(engine, stations, stamp, skipped)
        _contexts[database.url] = context
    if cached is not None:  # replaced: its matrix workers (forks holding the graph) stop
        cached.engine.close()
    return context


def register_stations(
    engine: TravelTimeEngine,
    stations: list[StationInfo],
    cache_dir: Path | None = None,
    checksum: str | None = None,
) -> list[SkippedFacility]:
    """Register the stations the engine can snap as ``stations`` (their trees restored from
    the cache under ``cache_dir`` when given, else computed and saved); return the skipped
    ones."""
    points = [FacilityPoint("station", s.id, s.code, s.lon, s.lat) for s in stations]
    keep, skipped = split_reachable(engine, points)
    if not keep:
        return skipped
    kept = [stations[i] for i in keep]
    if cache_dir is None or checksum is None:
        engine.register_facilities(
            STATIONS,
            np.asarray([(s.lon, s.lat) for s in kept], dtype=np.float64),
            [s.id for s in kept],
        )
        return skipped
    path = station_trees_path(cache_dir, checksum, stations_key(kept))
    if _restore_trees(engine, path, kept) is not None:
        BUILDS["station_trees_restored"] += 1
        return skipped
    facility_set = engine.register_facilities(
        STATIONS,
        np.asarray([(s.lon, s.lat) for s in kept], dtype=np.float64),
        [s.id for s in kept],
    )
    BUILDS["station_trees_computed"] += 1
    _save_trees(path, facility_set)
    return skipped


def loaded_context(database: Database) -> GeoContext | None:
    """The engine already loaded for ``database`` in this process, if any (no build)."""
    return _contexts.get(database.url)


@dataclass
class EngineWarmup:
    """Loads the engine of a database in a background thread when a process starts.

    ``state``: ``idle``, ``warming``, ``loaded`` (engine loaded, the caller still priming:
    see ``hold``), ``ready``, ``unavailable`` (no road network: nothing to load, routes
    that need one say so) or ``failed`` (built on first use instead).
    """

    state: str = "idle"
    detail: str = ""
    started_at: str | None = None
    seconds: float | None = None
    thread: threading.Thread | None = field(default=None, repr=False)
    hold: bool = False
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def warming(self) -> bool:
        return self.state in ("warming", "loaded")

    def start(
        self,
        database: Database,
        settings: Settings,
        primers: Sequence[Callable[[Database, GeoContext], None]] = (),
        *,
        hold: bool = False,
    ) -> None:
        """Load in a thread; then run ``primers`` (first-use costs of the callers). With
        ``hold`` the state stays ``loaded`` (not ready) until :meth:`finish`."""
        try:
            with database.session() as session:
                active_record(session)
        except NotFound:
            self.state, self.detail = "unavailable", "no road network"
            self.done.set()
            return
        except Exception as exc:  # noqa: BLE001 - e.g. tables not migrated yet
            self.state, self.detail = "unavailable", type(exc).__name__
            self.done.set()
            return
        self.hold = hold
        self.state, self.started_at = "warming", utcnow().isoformat()
        self.thread = threading.Thread(
            target=self._run,
            args=(database, settings, tuple(primers)),
            name="engine-warmup",
            daemon=True,
        )
        self.thread.start()

    def _run(
        self,
        database: Database,
        settings: Settings,
        primers: tuple[Callable[[Database, GeoContext], None], ...],
    ) -> None:
        t0 = time.perf_counter()
        try:
            context = geo_context(database, settings)
            for prime in primers:
                try:
                    prime(database, context)
                except Exception:
                    log.warning("warm-up primer %s failed", prime.__qualname__, exc_info=True)
        except Exception as exc:
            log.exception("travel-time engine warm-up failed")
            self.state, self.detail = "failed", f"{type(exc).__name__}: {exc}"[:300]
            self.done.set()
        else:
            self.detail = (
                f"{context.engine.network.n_nodes} nodes, {len(context.stations)} stations"
            )
            log.info("travel-time engine loaded: %s", self.detail)
            self.state = "loaded" if self.hold else "ready"
            if not self.hold:
                self.done.set()
        self.seconds = round(time.perf_counter() - t0, 3)

    def finish(self) -> None:
        """The caller's own priming is done: ready."""
        if self.state == "loaded":
            self.state = "ready"
        self.done.set()

    def join(self, timeout_s: float | None = None) -> None:
        """Wait for the loading thread (not for :meth:`finish`)."""
        if self.thread is not None:
            self.thread.join(timeout_s)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until ready, unavailable or failed; ``False`` on timeout."""
        return self.done.wait(timeout_s)

    def as_dict(self) -> dict[str, Any]:
        """What the public health routes show (the detail, which may name internals, is
        logged, not shown)."""
        return {"state": self.state, "started_at": self.started_at, "seconds": self.seconds}


def network_summary(database: Database) -> dict[str, Any]:
    with database.session() as session:
        record: RoadNetworkRecord = active_record(session)
        return {
            "network_id": record.id,
            "source": record.source,
            "nodes": record.node_count,
            "edges": record.edge_count,
            "dropped_nodes": record.dropped_nodes,
            "dropped_edges": record.dropped_edges,
            "created_at": record.created_at.isoformat(),
        }


@dataclass(frozen=True)
class BoundedTimes:
    """Road travel times within a bound, as triplets: ``times_s[k]`` is the time from source
    ``col[k]`` to target ``row[k]`` (legs included); pairs beyond the bound are absent."""

    row: npt.NDArray[np.int64]
    col: npt.NDArray[np.int64]
    times_s: npt.NDArray[np.float64]
    shape: tuple[int, int]


def _groups(inverse: npt.NDArray[np.int64], n_unique: int) -> tuple[Any, Any]:
    """Original positions grouped by unique value: ``(order, starts)`` (CSR-like)."""
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(n_unique + 1))
    return order, starts


def _expand(
    unique_idx: npt.NDArray[np.int64], order: Any, starts: Any
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For entries on unique values, ``(entry, original position)`` for every original."""
    counts = starts[unique_idx + 1] - starts[unique_idx]
    entry = np.repeat(np.arange(len(unique_idx)), counts)
    offset = np.arange(len(entry)) - np.repeat(np.cumsum(counts) - counts, counts)
    return entry.astype(np.int64), np.asarray(order[starts[unique_idx][entry] + offset], np.int64)


def travel_times_within(
    engine: TravelTimeEngine,
    target_nodes: npt.ArrayLike,
    source_nodes: npt.ArrayLike,
    limit_s: float,
    *,
    target_leg_s: npt.ArrayLike | None = None,
    source_leg_s: npt.ArrayLike | None = None,
    target_limit_s: npt.ArrayLike | None = None,
    chunk: int = 128,
) -> BoundedTimes:
    """Road times from every source to every target, kept only up to ``limit_s``.

    The fast path for many-to-many questions with a cut-off (siting, coverage): one bounded
    Dijkstra per distinct target node on the reverse graph, run in the engine's search pool
    (worker processes) a chunk at a time, so memory stays ``chunk × sources``. Legs (the
    off-network access of a target or a source) are added and count against the bound.

    ``target_limit_s`` gives each target its own bound (at most ``limit_s``; negative or
    NaN: not searched at all): targets are searched in order of their bound, each chunk
    only as far as its largest one, so a question where most targets need little (times
    below what they already have) costs little.
    """
    targets = engine.check_nodes(target_nodes)
    sources = engine.check_nodes(source_nodes)
    t_leg = np.zeros(len(targets)) if target_leg_s is None else np.asarray(target_leg_s, float)
    s_leg = np.zeros(len(sources)) if source_leg_s is None else np.asarray(source_leg_s, float)
    if len(t_leg) != len(targets) or len(s_leg) != len(sources):
        raise GeoError("travel_times_within: one leg per target and per source")
    empty = np.zeros(0, dtype=np.int64)
    if not len(targets) or not len(sources) or not limit_s >= 0:
        return BoundedTimes(empty, empty, np.zeros(0), (len(targets), len(sources)))
    ut, t_inv = np.unique(targets, return_inverse=True)
    us, s_inv = np.unique(sources, return_inverse=True)
    t_inv = t_inv.ravel()
    t_order, t_starts = _groups(t_inv, len(ut))
    s_order, s_starts = _groups(s_inv.ravel(), len(us))
    own = np.full(len(targets), float(limit_s))
    if target_limit_s is not None:
        own = np.minimum(np.asarray(target_limit_s, dtype=np.float64).ravel(), own)
        own = np.where(np.isnan(own), -1.0, own)
    # a node's search must reach its farthest-bound target, less that target's leg
    node_reach = np.full(len(ut), -np.inf)
    np.maximum.at(node_reach, t_inv, own - t_leg)
    node_reach -= float(s_leg.min())
    searched = np.flatnonzero(node_reach >= 0)
    searched = searched[np.argsort(node_reach[searched], kind="stable")]
    rows: list[npt.NDArray[np.int64]] = [empty]
    cols: list[npt.NDArray[np.int64]] = [empty]
    times: list[npt.NDArray[np.float64]] = [np.zeros(0)]
    for start in range(0, len(searched), chunk):
        block_idx = searched[start : start + chunk]
        net_limit = float(node_reach[block_idx].max())
        # only what is within reach comes back from the workers (not chunk × sources rows)
        bu, su, net = engine.search_pool.rows_within("reverse:time", ut[block_idx], us, net_limit)
        # every original target on the node, then every original source on the node
        e1, t_pos = _expand(block_idx[bu].astype(np.int64), t_order, t_starts)
        e2, s_pos = _expand(su[e1].astype(np.int64), s_order, s_starts)
        t_pos = t_pos[e2]
        total = net[e1][e2] + t_leg[t_pos] + s_leg[s_pos]
        keep = total <= own[t_pos]
        rows.append(t_pos[keep])
        cols.append(s_pos[keep])
        times.append(total[keep])
    return BoundedTimes(
        np.concatenate(rows).astype(np.int64),
        np.concatenate(cols).astype(np.int64),
        np.concatenate(times).astype(np.float64),
        (len(targets), len(sources)),
    )


def engine_with_stations(
    engine: TravelTimeEngine, extra: Sequence[tuple[int, float, float]]
) -> TravelTimeEngine:
    """A view of ``engine`` whose ``stations`` facility set also holds ``extra`` stations
    (``(id, lon, lat)``; one search each): for what-if questions about stations not built.

    The view shares the network, its indexes and the search pool with ``engine``; only the
    facility sets are its own, so ``engine`` is left as it was.
    """
    import copy

    view = copy.copy(engine)
    view._facilities = dict(engine._facilities)
    if not extra:
        return view
    added = view.register_facilities(
        "planned",
        np.asarray([(lon, lat) for _, lon, lat in extra], dtype=np.float64),
        [sid for sid, _, _ in extra],
    )
    try:
        base: FacilitySet | None = engine.facilities(STATIONS)
    except UnknownFacility:  # no station registered yet
        base = None
    if base is None:
        merged = added
    else:
        ids = (*base.ids, *added.ids)
        merged = FacilitySet(
            name=STATIONS,
            ids=ids,
            nodes=np.concatenate([base.nodes, added.nodes]),
            leg_time_s=np.concatenate([base.leg_time_s, added.leg_time_s]),
            times_s=np.vstack([base.times_s, added.times_s]),
            index_of={fid: i for i, fid in enumerate(ids)},
        )
    view.add_facility_set(
        FacilitySet(
            name=STATIONS,
            ids=merged.ids,
            nodes=merged.nodes,
            leg_time_s=merged.leg_time_s,
            times_s=merged.times_s,
            index_of=merged.index_of,
        )
    )
    return view
