"""Recommend units for an incident: the available units that meet the response plan with
the earliest arrivals, by road travel time.

* A unit in its station (``available_in_station``) starts from its station: the engine
  holds a precomputed tree per station (the ``stations`` facility set of
  :mod:`firegrid.geo.service`), so its ETA is a column lookup.
* A unit on the radio (``available_on_radio``) with a GPS fix starts from that fix: one
  search on the reverse graph from the incident gives every such unit's time at once,
  bounded by the time beyond which no such unit could be chosen.

Selection: the plan's requirements are expanded into slots; each slot is given a distinct
eligible unit so that the **sum of ETAs is smallest** (an assignment problem, solved exactly
with :func:`scipy.optimize.linear_sum_assignment`; ties go to the lower vehicle id). Only
the ``slots`` soonest eligible units of each requirement can be in an optimal answer, so
only those enter the matrix. Slots left empty are reported as missing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.dispatch.models import Station, Vehicle
from firegrid.dispatch.plans import Plan, Requirement
from firegrid.dispatch.states import AVAILABLE, VehicleStatus
from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.facilities import OFF_NETWORK, SkippedFacility
from firegrid.geo.public import GeoError, UnknownFacility

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

STATIONS = "stations"  # the facility set registered by firegrid.geo.service
_BIG = 1e12


class OffNetwork(ValidationFailed):
    code = "point_off_network"


@dataclass(frozen=True)
class Unit:
    """What recommendation needs to know about a vehicle."""

    id: int
    code: str
    call_sign: str
    station_id: int
    vehicle_type: str
    capabilities: frozenset[str]
    status: str
    jurisdiction_path: str
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True)
class Choice:
    """A recommended unit: its ETA, where it starts from and why it was chosen."""

    vehicle_id: int
    code: str
    call_sign: str
    station_id: int
    vehicle_type: str
    requirement: str
    eta_s: float
    origin: str  # "station" or "gps"
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "vehicle_id": self.vehicle_id,
            "code": self.code,
            "call_sign": self.call_sign,
            "station_id": self.station_id,
            "vehicle_type": self.vehicle_type,
            "requirement": self.requirement,
            "eta_s": round(self.eta_s, 1),
            "origin": self.origin,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Recommendation:
    plan: Plan
    lon: float
    lat: float
    chosen: tuple[Choice, ...]
    missing: tuple[dict[str, Any], ...]
    considered: int
    notes: tuple[str, ...] = field(default=())
    #: stations (and GPS fixes) left out because the road network does not reach them
    skipped: tuple[SkippedFacility, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def vehicle_ids(self) -> list[int]:
        return [c.vehicle_id for c in self.chosen]

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.as_dict(),
            "lon": self.lon,
            "lat": self.lat,
            "complete": self.complete,
            "units": [c.as_dict() for c in self.chosen],
            "missing": list(self.missing),
            "considered_units": self.considered,
            "notes": list(self.notes),
            "skipped": [s.as_dict() for s in self.skipped],
        }


def load_units(session: Session, forces_path: str = "/", exclude: Iterable[int] = ()) -> list[Unit]:
    """Available vehicles of the stations under ``forces_path`` (one query)."""
    rows = session.execute(
        select(
            Vehicle.id,
            Vehicle.code,
            Vehicle.call_sign,
            Vehicle.station_id,
            Vehicle.vehicle_type,
            Vehicle.capabilities,
            Vehicle.status,
            Station.jurisdiction_path,
            Vehicle.last_lon,
            Vehicle.last_lat,
        )
        .join(Station, Station.id == Vehicle.station_id)
        .where(
            Vehicle.deleted_at.is_(None),
            Station.deleted_at.is_(None),
            Vehicle.status.in_([s.value for s in AVAILABLE]),
            Station.jurisdiction_path.startswith(forces_path, autoescape=True),
        )
    ).all()
    skip = set(exclude)
    return [
        Unit(
            r.id,
            r.code,
            r.call_sign,
            r.station_id,
            r.vehicle_type,
            frozenset(r.capabilities or ()),
            r.status,
            r.jurisdiction_path,
            r.last_lon,
            r.last_lat,
        )
        for r in rows
        if r.id not in skip
    ]


_units_lock = threading.Lock()
_units_cache: dict[str, tuple[tuple[Any, ...], tuple[Unit, ...]]] = {}


def _units_stamp(session: Session) -> tuple[Any, ...]:
    row = session.execute(
        select(
            select(func.count(Vehicle.id)).scalar_subquery(),
            select(func.max(Vehicle.updated_at)).scalar_subquery(),
            select(func.count(Station.id)).scalar_subquery(),
            select(func.max(Station.updated_at)).scalar_subquery(),
        )
    ).one()
    return tuple(row)


def available_units(session: Session, forces_path: str = "/") -> list[Unit]:
    """:func:`load_units`, served from memory while no vehicle or station has changed.

    Every change of a vehicle (status, position, station) moves its ``updated_at``, so the
    cache is checked with one small aggregate query.
    """
    key = str(session.get_bind().engine.url)
    stamp = _units_stamp(session)
    with _units_lock:
        cached = _units_cache.get(key)
    if cached is None or cached[0] != stamp:
        cached = (stamp, tuple(load_units(session, "/")))
        with _units_lock:
            _units_cache[key] = cached
    from firegrid.dispatch.staffing import understaffed

    short = understaffed(session, utcnow())  # below the minimum crew this shift: not sent
    return [
        u for u in cached[1] if u.jurisdiction_path.startswith(forces_path) and u.id not in short
    ]


def _snap_incident(engine: TravelTimeEngine, lon: float, lat: float) -> tuple[int, float]:
    try:
        snapped = engine.snap(lon, lat, labels=("incident",))
    except GeoError as err:
        raise OffNetwork(
            str(err),
            {"lon": lon, "lat": lat},
            text=TextCode.GEO_OFF_NETWORK,
            params={"lon": lon, "lat": lat},
        ) from err
    return int(snapped.node[0]), float(snapped.leg_time_s[0])


def _station_rows(engine: TravelTimeEngine, units: Sequence[Unit]) -> tuple[Any, IntArray]:
    """The station facility set and each unit's row in it (``-1``: not registered)."""
    try:
        fs = engine.facilities(STATIONS)
    except UnknownFacility:  # no station yet
        return None, np.full(len(units), -1, dtype=np.int64)
    index = fs.index_of
    rows = np.fromiter((index.get(u.station_id, -1) for u in units), np.int64, len(units))
    return fs, rows


def eligibility(requirements: Sequence[Requirement], units: Sequence[Unit]) -> list[BoolArray]:
    """For each requirement, which units may fill it."""
    out = []
    for req in requirements:
        if req.kind == "vehicle_type":
            mask = [u.vehicle_type == req.value for u in units]
        else:
            mask = [req.value in u.capabilities for u in units]
        out.append(np.fromiter(mask, np.bool_, len(units)))
    return out


def unit_etas(
    engine: TravelTimeEngine,
    units: Sequence[Unit],
    lon: float,
    lat: float,
    requirements: Sequence[Requirement] = (),
    eligible: list[BoolArray] | None = None,
) -> tuple[FloatArray, list[str]]:
    """ETA (s) of each unit to the point and where it starts from (``station``/``gps``).

    Units that cannot reach the point, or that are beyond the bound where they could matter
    for ``requirements``, get ``inf``.
    """
    node, leg = _snap_incident(engine, lon, lat)
    fs, rows = _station_rows(engine, units)
    eta = np.full(len(units), np.inf)
    if fs is not None:
        known = rows >= 0
        eta[known] = fs.times_s[rows[known], node].astype(np.float64) + leg
    gps = [
        i
        for i, u in enumerate(units)
        if u.status == VehicleStatus.AVAILABLE_ON_RADIO and u.lon is not None and u.lat is not None
    ]
    origin = ["station"] * len(units)
    if gps:
        for i in gps:
            origin[i] = "gps"
        if eligible is None:
            eligible = eligibility(requirements, units)
        _gps_etas(engine, units, requirements, eligible, eta, gps, node, leg)
    return eta, origin


def _gps_etas(
    engine: TravelTimeEngine,
    units: Sequence[Unit],
    requirements: Sequence[Requirement],
    eligible: list[BoolArray],
    eta: FloatArray,
    gps: list[int],
    node: int,
    leg: float,
) -> None:
    """Fill ``eta`` of GPS units from one bounded search on the reverse graph.

    A GPS unit can only be chosen if it beats, for some requirement it may fill, the
    ``slots``-th soonest unit of that requirement timed from its station; that time bounds
    the search (unbounded when too few station units are known).
    """
    slots = sum(r.count for r in requirements)
    is_gps = np.zeros(len(units), dtype=np.bool_)
    is_gps[gps] = True
    station_eta = np.where(is_gps, np.inf, eta)  # the station times of GPS units do not count
    bound = np.inf if not requirements else 0.0
    for mask in eligible:
        if not (mask & is_gps).any():
            continue
        known = np.sort(station_eta[mask & np.isfinite(station_eta)])
        if len(known) < slots:
            bound = np.inf
            break
        bound = max(bound, float(known[slots - 1]))
    limit = None if not np.isfinite(bound) else max(bound - leg, 0.0)
    to_incident = engine.travel_times_to_node(node, limit=limit)
    lon = np.asarray([units[i].lon for i in gps], dtype=np.float64)
    lat = np.asarray([units[i].lat for i in gps], dtype=np.float64)
    snapped = engine.snap(lon, lat, strict=False)
    for k, i in enumerate(gps):
        unit_node = int(snapped.node[k])
        if unit_node < 0:  # fix off the network: fall back to its station
            eta[i] = _station_eta(engine, units[i].station_id, node, leg)
            continue
        eta[i] = float(snapped.leg_time_s[k]) + float(to_incident[unit_node]) + leg


def _station_eta(engine: TravelTimeEngine, station_id: int, node: int, leg: float) -> float:
    try:
        fs = engine.facilities(STATIONS)
    except UnknownFacility:
        return float("inf")
    row = fs.index_of.get(station_id)
    return float("inf") if row is None else float(fs.times_s[row, node]) + leg


def remaining_plan(plan: Plan, committed: Sequence[tuple[str, Iterable[str]]]) -> Plan:
    """The plan minus the units already committed to the incident (``(type, capabilities)``
    of each); each committed unit fills the first requirement it meets."""
    left = [r.count for r in plan.requirements]
    for vehicle_type, capabilities in committed:
        caps = frozenset(capabilities)
        for r, req in enumerate(plan.requirements):
            if left[r] and req.accepts(vehicle_type, caps):
                left[r] -= 1
                break
    reqs = tuple(
        Requirement(req.kind, req.value, left[r])
        for r, req in enumerate(plan.requirements)
        if left[r] > 0
    )
    return Plan(plan.incident_type, plan.venue_category, plan.level, reqs, plan.plan_id)


def _order(eta: FloatArray, ids: IntArray, candidates: IntArray) -> IntArray:
    """``candidates`` sorted by (ETA, vehicle id)."""
    return candidates[np.lexsort((ids[candidates], eta[candidates]))]


def select_units(
    requirements: Sequence[Requirement],
    units: Sequence[Unit],
    eta: FloatArray,
    eligible: list[BoolArray] | None = None,
) -> tuple[list[tuple[int, int]], list[dict[str, Any]]]:
    """Optimal assignment of units to slots: ``[(requirement index, unit index)]``, missing.

    Minimises the sum of ETAs over the filled slots, filling as many slots as possible.
    """
    if eligible is None:
        eligible = eligibility(requirements, units)
    ids = np.fromiter((u.id for u in units), np.int64, len(units))
    pairs = assign_slots(requirements, eligible, eta, ids)
    filled = [0] * len(requirements)
    for r, _ in pairs:
        filled[r] += 1
    missing = [
        {"requirement": req.label, **req.as_dict(), "missing": req.count - filled[r]}
        for r, req in enumerate(requirements)
        if filled[r] < req.count
    ]
    return pairs, missing


def assign_slots(
    requirements: Sequence[Requirement],
    eligible: Sequence[BoolArray],
    eta: FloatArray,
    ids: IntArray,
) -> list[tuple[int, int]]:
    """The optimal assignment of units to the slots of ``requirements`` (a requirement has
    ``count`` slots): ``[(requirement index, unit index)]``. ``eligible[r]`` marks the units
    that may fill requirement ``r``, ``eta`` times every unit (``inf``: not timed), ``ids``
    its vehicle id. Fills as many slots as possible, then minimises the sum of ETAs; ties
    go to the lower vehicle id. What :func:`select_units` and planning's what-if (on
    arrays) both choose with."""
    slot_req = [r for r, req in enumerate(requirements) for _ in range(req.count)]
    n_slots = len(slot_req)
    finite = np.isfinite(eta)
    pool: list[IntArray] = []
    for mask in eligible:
        candidates = np.flatnonzero(mask & finite)
        if len(candidates) > n_slots:  # only the n_slots soonest can be in an optimum
            keep = np.argpartition(eta[candidates], n_slots - 1)[:n_slots]
            cut = eta[candidates[keep]].max()
            candidates = candidates[eta[candidates] <= cut]  # keep ties at the cut
        pool.append(candidates)
    cols = _order(eta, ids, np.unique(np.concatenate(pool))) if pool else np.zeros(0, np.int64)
    pairs: list[tuple[int, int]] = []
    if len(cols) and n_slots:
        # the tiny id term makes ties go to the lower vehicle id, deterministically
        cost_row = eta[cols] + ids[cols] * 1e-9
        cost = np.full((n_slots, len(cols)), _BIG)
        for s, r in enumerate(slot_req):
            ok = eligible[r][cols]
            cost[s, ok] = cost_row[ok]
        rows, picked = linear_sum_assignment(cost)
        pairs = [
            (slot_req[s], int(cols[c]))
            for s, c in zip(rows.tolist(), picked.tolist(), strict=True)
            if cost[s, c] < _BIG
        ]
    return pairs


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def skipped_for(
    engine: TravelTimeEngine, units: Sequence[Unit], skipped: Sequence[SkippedFacility]
) -> tuple[SkippedFacility, ...]:
    """What a recommendation among ``units`` leaves out: the skipped stations of those
    units (none of their units can be timed), and GPS fixes off the road network (those
    units are timed from their station instead)."""
    stations = {u.station_id for u in units}
    out = [s for s in skipped if s.kind == "station" and s.id in stations]
    gps = [
        u
        for u in units
        if u.status == VehicleStatus.AVAILABLE_ON_RADIO and u.lon is not None and u.lat is not None
    ]
    if gps:
        dist = engine.snap_distance_m(
            np.asarray([u.lon for u in gps], dtype=np.float64),
            np.asarray([u.lat for u in gps], dtype=np.float64),
        )
        out += [
            SkippedFacility(
                "vehicle", u.id, u.code, OFF_NETWORK, float(d), engine.max_snap_distance_m
            )
            for u, d in zip(gps, dist.tolist(), strict=True)
            if not d <= engine.max_snap_distance_m
        ]
    return tuple(out)


def recommend_units(
    engine: TravelTimeEngine,
    plan: Plan,
    units: Sequence[Unit],
    lon: float,
    lat: float,
    skipped: Sequence[SkippedFacility] = (),
) -> Recommendation:
    """The recommendation for a point and a plan among ``units`` (pure: no database).

    ``skipped``: the facilities the engine left out (``GeoContext.skipped``); those that
    concern ``units`` are reported in the answer.
    """
    eligible = eligibility(plan.requirements, units)
    eta, origin = unit_etas(engine, units, lon, lat, plan.requirements, eligible)
    pairs, missing = select_units(plan.requirements, units, eta, eligible)
    ids = np.fromiter((u.id for u in units), np.int64, len(units))
    finite = np.isfinite(eta)
    chosen: list[Choice] = []
    for r, i in sorted(pairs, key=lambda p: (p[0], eta[p[1]], units[p[1]].id)):
        req = plan.requirements[r]
        unit = units[i]
        ahead = eligible[r] & finite & ((eta < eta[i]) | ((eta == eta[i]) & (ids < unit.id)))
        rank = 1 + int(ahead.sum())
        start = "its GPS position (on radio)" if origin[i] == "gps" else "its station"
        reason = (
            f"{req.label} for plan {plan.incident_type}/{plan.venue_category}/L{plan.level}: "
            f"{_ordinal(rank)} soonest eligible unit, ETA {eta[i]:.0f} s from {start}"
        )
        chosen.append(
            Choice(
                unit.id,
                unit.code,
                unit.call_sign,
                unit.station_id,
                unit.vehicle_type,
                req.label,
                float(eta[i]),
                origin[i],
                reason,
            )
        )
    notes = []
    if missing:
        notes.append(
            "the plan cannot be met with the available units in scope: request joint "
            "defence or reinforcement for what is missing"
        )
    left_out = skipped_for(engine, units, skipped)
    notes += [s.describe() for s in left_out]
    return Recommendation(
        plan, lon, lat, tuple(chosen), tuple(missing), int(finite.sum()), tuple(notes), left_out
    )


def recommend_for_incident(
    session: Session,
    engine: TravelTimeEngine,
    incident: Any,
    forces_path: str = "/",
    skipped: Sequence[SkippedFacility] = (),
) -> Recommendation:
    """Units to add to an incident: its plan minus the units already committed, chosen among
    the available units of the stations under ``forces_path``."""
    from firegrid.dispatch.incidents import committed_units
    from firegrid.dispatch.plans import plan_for

    plan = plan_for(session, incident.incident_type, incident.venue_category, incident.level)
    plan = remaining_plan(plan, committed_units(session, incident.id))
    units = available_units(session, forces_path)
    return recommend_units(engine, plan, units, incident.lon, incident.lat, skipped)
