"""What-if: a year of calls replayed with and without a plan's new stations.

The replay follows ``firegrid incidents replay`` (:mod:`firegrid.dispatch.replay`) step for
step — the same records file, the same merge rules (a call joins the nearest compatible
open incident within the radius and window, a forwarded alarm an open incident of its own
venue), the same response plans, the **same recommendation engine**
(:func:`firegrid.dispatch.recommend.recommend_units`, optimal assignment by road ETA among
the units free at that moment), and the same simulated durations drawn in the same order
from the same seed (call processing U(45, 150) s, turnout U(40, 100) s, travel = ETA ×
U(0.95, 1.2), time on scene by type, return = ETA × 1.1) — but in memory: nothing is
written to the database, so a plan can be simulated twice (before / after) in minutes and
the platform's incident tables stay clean.

"After" adds the plan's sites as stations to the engine (their road trees computed) with a
fleet each (by default the most common fleet of the existing stations, reported). With a
plan adding nothing, "after" is the same run as "before", figure for figure.

Figures (per run): response (call → first unit on scene) median and 90th percentile; the
share of incidents reached within 5 minutes of the dispatch order (GB 51080's 5-minute
rule) and within 5 minutes of the call; effective response force (call → the whole first
assignment on scene, for incidents whose first assignment all arrived); unit utilisation
(time committed: dispatch → back available, over units × span); incidents with no unit
free and incidents whose plan could not be fully met.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from firegrid.core.errors import DomainError, ValidationFailed
from firegrid.core.problems import Found, Problem
from firegrid.core.texts import TextCode
from firegrid.dispatch.duplicates import haversine_m
from firegrid.dispatch.merge_rules import MergeRules
from firegrid.dispatch.plans import Plan, PlanBook
from firegrid.dispatch.recommend import Unit, recommend_units
from firegrid.dispatch.replay import FIRE_TYPES, ON_SCENE_MIN, read_jsonl
from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.public import GeoError
from firegrid.planning.fleet_arrays import FleetArrays

AVAILABLE_STATUS = "available_in_station"
FIVE_MIN_S = 300.0


@dataclass
class _Incident:
    id: int
    incident_type: str
    venue_id: int | None
    lon: float
    lat: float
    received: datetime
    last_call: datetime
    closed: bool = False
    dispatched: datetime | None = None
    turnout: datetime | None = None
    arrived: datetime | None = None
    first_assignment: list[int] = field(default_factory=list)
    arrivals: dict[int, datetime] = field(default_factory=dict)
    held: list[int] = field(default_factory=list)  # vehicles assigned, not released


@dataclass
class _Vehicle:
    unit: Unit
    status: str = AVAILABLE_STATUS
    incident: int | None = None
    eta_s: float = 600.0
    busy_from: datetime | None = None


@dataclass
class RunFigures:
    """One run's figures (``as_dict`` for the report)."""

    received: int = 0
    created: int = 0
    merged: int = 0
    errors: int = 0
    no_unit_free: int = 0
    plan_not_met: int = 0
    units_dispatched: int = 0
    response_s: list[float] = field(default_factory=list)
    dispatch_to_arrival_s: list[float] = field(default_factory=list)
    erf_s: list[float] = field(default_factory=list)
    busy_s: float = 0.0
    units: int = 0
    span_s: float = 0.0
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        def pct(values: list[float], q: float) -> float | None:
            return round(float(np.percentile(values, q)), 1) if values else None

        def share(values: list[float]) -> float | None:
            if not values:
                return None
            return round(float(np.mean(np.asarray(values) <= FIVE_MIN_S)), 6)

        denominator = self.units * self.span_s
        return {
            "calls": self.received,
            "incidents": self.created,
            "merged_calls": self.merged,
            "errors": self.errors,
            "units": self.units,
            "units_dispatched": self.units_dispatched,
            "first_arrival_p50_s": pct(self.response_s, 50),
            "first_arrival_p90_s": pct(self.response_s, 90),
            "reached": len(self.response_s),
            "within_5_min_of_dispatch": share(self.dispatch_to_arrival_s),
            "within_5_min_of_call": share(self.response_s),
            "dispatch_to_arrival_p50_s": pct(self.dispatch_to_arrival_s, 50),
            "dispatch_to_arrival_p90_s": pct(self.dispatch_to_arrival_s, 90),
            "erf_p50_s": pct(self.erf_s, 50),
            "erf_p90_s": pct(self.erf_s, 90),
            "erf_incidents": len(self.erf_s),
            "unit_utilisation": round(self.busy_s / denominator, 6) if denominator else None,
            "no_unit_free": self.no_unit_free,
            "plan_not_met": self.plan_not_met,
            "elapsed_s": round(self.elapsed_s, 2),
        }


@dataclass(frozen=True)
class PreparedCalls:
    """Per call of a replay, what does not depend on the run: its time, whether it can be
    taken (inside the city and on the road network, else it counts as an error, as in
    ``firegrid incidents replay``), its road node and access leg. Made once, shared by the
    "before" and "after" runs."""

    when: list[datetime]
    ok: npt.NDArray[np.bool_]
    node: npt.NDArray[np.int64]
    leg_s: list[float]


def prepare_calls(
    engine: TravelTimeEngine,
    records: Sequence[dict[str, Any]],
    locate: Callable[[float, float], object] | None = None,
) -> PreparedCalls:
    """Parse, locate and snap every call once (snapping all at once)."""
    when: list[datetime] = []
    for n, record in enumerate(records, 1):
        t = datetime.fromisoformat(record["t"])
        if t.tzinfo is None:
            raise ValidationFailed(
                f"record {n}: time {record['t']!r} has no time zone",
                text=TextCode.VALIDATION_TIMEZONE_NAIVE,
                params={"field": f"records[{n}].t"},
            )
        when.append(t)
    lon = np.asarray([float(r["lon"]) for r in records], dtype=np.float64)
    lat = np.asarray([float(r["lat"]) for r in records], dtype=np.float64)
    ok = np.ones(len(records), dtype=np.bool_)
    if locate is not None:
        for k in range(len(records)):
            try:
                locate(float(lon[k]), float(lat[k]))
            except (DomainError, GeoError):
                ok[k] = False
    if len(records):
        snapped = engine.snap(lon, lat, strict=False)
        node = np.asarray(snapped.node, dtype=np.int64)
        leg = np.asarray(snapped.leg_time_s, dtype=np.float64)
    else:
        node, leg = np.zeros(0, dtype=np.int64), np.zeros(0)
    ok &= node >= 0
    return PreparedCalls(when, ok, node, [float(v) for v in leg])


#: a scheduled action: (when, sequence number, action) — a plain tuple, compared by time
#: then by the unique sequence number (never by the action), cheaper than a dataclass
_Event = tuple[datetime, int, Callable[[], None]]


class Simulation:
    """One in-memory replay of calls on an engine with a set of units."""

    def __init__(
        self,
        engine: TravelTimeEngine,
        units: Sequence[Unit],
        book: PlanBook,
        rules: MergeRules,
        *,
        locate: Callable[[float, float], object] | None = None,
        seed: int = 0,
    ) -> None:
        self.engine = engine
        self.book = book
        self.rules = rules
        self.locate = locate
        self.rng = np.random.default_rng(seed)
        self.vehicles = {u.id: _Vehicle(u) for u in units}
        self.available = set(self.vehicles)
        arrays = FleetArrays(engine, units)
        self.fleet = arrays if arrays.applies() else None
        self.fleet_position = arrays.position
        self.free = np.ones(len(arrays.ids), dtype=np.bool_)
        self.events: list[_Event] = []
        self.seq = itertools.count()
        self.now: datetime | None = None
        self.open: dict[int, _Incident] = {}
        self.ids = itertools.count(1)
        self.figures = RunFigures(units=len(units))
        self.first_call: datetime | None = None

    # ------------------------------------------------------------- clock
    def at(self, when: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self.events, (when, next(self.seq), action))

    def advance(self, until: datetime | None) -> None:
        while self.events and (until is None or self.events[0][0] <= until):
            at, _, action = heapq.heappop(self.events)
            self.now = at
            action()

    # ------------------------------------------------------------- calls
    def run(
        self,
        records: Sequence[dict[str, Any]],
        progress: Callable[[int], None] | None = None,
        prepared: PreparedCalls | None = None,
    ) -> RunFigures:
        """Replay ``records``; ``prepared`` (from :func:`prepare_calls` on the same records)
        shares the per-call work — time, locating, snapping — between runs."""
        started = time.perf_counter()
        if prepared is None:
            prepared = prepare_calls(self.engine, records, self.locate)
        for n, record in enumerate(records, 1):
            when = prepared.when[n - 1]
            self.first_call = self.first_call or when
            self.advance(when)
            self.now = when
            self.figures.received += 1
            if not prepared.ok[n - 1]:
                self.figures.errors += 1
                continue
            lon, lat = float(record["lon"]), float(record["lat"])
            self.take(record, when, lon, lat, int(prepared.node[n - 1]), prepared.leg_s[n - 1])
            if progress is not None and n % 1000 == 0:
                progress(n)
        self.advance(None)
        end = self.now or self.first_call
        if self.first_call is not None and end is not None:
            self.figures.span_s = (end - self.first_call).total_seconds()
        self.figures.elapsed_s = time.perf_counter() - started
        return self.figures

    def _duplicate(self, record: dict[str, Any], when: datetime, lon: float, lat: float) -> Any:
        source = record.get("source", "call_119")
        if source == "alarm":
            venue = record.get("venue_id")
            if venue is None:
                return None
            window = self.rules.alarm.same_venue_window
            found = [
                inc
                for inc in self.open.values()
                if inc.venue_id == venue and (window is None or abs(when - inc.last_call) <= window)
            ]
            found.sort(key=lambda i: (-i.last_call.timestamp(), i.id))
            return found[0] if found else None
        rule = self.rules.call
        best: tuple[float, int, _Incident] | None = None
        for inc in self.open.values():
            if abs(when - inc.last_call) > rule.window:
                continue
            if not rule.compatible(record["incident_type"], inc.incident_type):
                continue
            d = haversine_m(lon, lat, inc.lon, inc.lat)
            if d <= rule.radius_m and (best is None or (d, inc.id) < best[:2]):
                best = (d, inc.id, inc)
        return None if best is None else best[2]

    def take(
        self,
        record: dict[str, Any],
        when: datetime,
        lon: float,
        lat: float,
        node: int = -1,
        leg_s: float = 0.0,
    ) -> None:
        found = self._duplicate(record, when, lon, lat)
        if found is not None:
            found.last_call = max(found.last_call, when)
            self.figures.merged += 1
            return
        incident = _Incident(
            next(self.ids),
            record["incident_type"],
            record.get("venue_id"),
            lon,
            lat,
            when,
            when,
        )
        self.open[incident.id] = incident
        self.figures.created += 1
        self.dispatch(incident, record, when, node, leg_s)

    def recommend(self, plan: Plan, incident: _Incident, node: int, leg_s: float) -> Any:
        """Dispatch's recommendation among the units free now: on the fleet's arrays
        (:mod:`.fleet_arrays`, the same answer) when they apply and the call is snapped."""
        if self.fleet is not None and node >= 0:
            return self.fleet.recommend(plan, node, leg_s, self.free)
        available = [self.vehicles[i].unit for i in sorted(self.available)]
        return recommend_units(self.engine, plan, available, incident.lon, incident.lat)

    def dispatch(
        self,
        incident: _Incident,
        record: dict[str, Any],
        when: datetime,
        node: int = -1,
        leg_s: float = 0.0,
    ) -> None:
        plan = self.book.match(
            incident.incident_type, record.get("venue_category", ""), int(record.get("level", 1))
        )
        rec = self.recommend(plan, incident, node, leg_s)
        if rec.missing:
            self.figures.plan_not_met += 1
        if not rec.chosen:
            self.figures.no_unit_free += 1
            self.at(when + timedelta(minutes=15), lambda: self.close(incident))
            return
        t_dispatch = when + timedelta(seconds=float(self.rng.uniform(45, 150)))
        incident.dispatched = incident.dispatched or t_dispatch
        self.available.difference_update(rec.vehicle_ids)
        for vid in rec.vehicle_ids:
            self.free[self.fleet_position[vid]] = False
        self.figures.units_dispatched += len(rec.chosen)
        for choice in rec.chosen:
            vehicle = self.vehicles[choice.vehicle_id]
            vehicle.status, vehicle.incident = "dispatched", incident.id
            vehicle.eta_s, vehicle.busy_from = choice.eta_s, t_dispatch
            incident.held.append(choice.vehicle_id)
            incident.first_assignment.append(choice.vehicle_id)
            turnout = float(self.rng.uniform(40, 100))
            travel = choice.eta_s * float(self.rng.uniform(0.95, 1.2))
            leave = t_dispatch + timedelta(seconds=turnout)
            arrive = leave + timedelta(seconds=travel)
            self.at(leave, self._mover(incident, vehicle, "en_route"))
            self.at(arrive, self._mover(incident, vehicle, "on_scene"))

    def _mover(self, incident: _Incident, vehicle: _Vehicle, status: str) -> Callable[[], None]:
        def move() -> None:
            if vehicle.incident != incident.id or incident.closed:
                return
            assert self.now is not None
            vehicle.status = status
            if status == "en_route":
                incident.turnout = incident.turnout or self.now
                return
            incident.arrivals[vehicle.unit.id] = self.now
            if incident.arrived is None:
                incident.arrived = self.now
                self._plan_incident(incident, self.now)

        return move

    def _plan_incident(self, incident: _Incident, arrived: datetime) -> None:
        low, high = ON_SCENE_MIN[incident.incident_type]
        duration = timedelta(minutes=float(self.rng.uniform(low, high)))
        if incident.incident_type in FIRE_TYPES:  # the replay's status steps (same order)
            self.at(arrived + duration * 0.5, lambda: None)
            self.at(arrived + duration * 0.85, lambda: None)
        self.at(arrived + duration, lambda: self.close(incident))

    def close(self, incident: _Incident) -> None:
        assert self.now is not None
        now = self.now
        incident.closed = True
        self.open.pop(incident.id, None)
        if incident.arrived is not None:
            self.figures.response_s.append((incident.arrived - incident.received).total_seconds())
            if incident.dispatched is not None:
                self.figures.dispatch_to_arrival_s.append(
                    (incident.arrived - incident.dispatched).total_seconds()
                )
            if all(v in incident.arrivals for v in incident.first_assignment):
                last = max(incident.arrivals[v] for v in incident.first_assignment)
                self.figures.erf_s.append((last - incident.received).total_seconds())
        for vid in incident.held:
            vehicle = self.vehicles[vid]
            if vehicle.incident != incident.id:
                continue
            vehicle.incident = None
            if vehicle.status == "dispatched":  # sent home before it left
                self._free(vehicle, now)
                continue
            vehicle.status = "returning"
            back = timedelta(seconds=vehicle.eta_s * 1.1)
            self.at(now + back, self._home(vehicle))
        incident.held = []

    def _home(self, vehicle: _Vehicle) -> Callable[[], None]:
        def home() -> None:
            if vehicle.status == "returning":
                assert self.now is not None
                self._free(vehicle, self.now)

        return home

    def _free(self, vehicle: _Vehicle, now: datetime) -> None:
        vehicle.status = AVAILABLE_STATUS
        if vehicle.busy_from is not None:
            self.figures.busy_s += (now - vehicle.busy_from).total_seconds()
            vehicle.busy_from = None
        self.available.add(vehicle.unit.id)
        self.free[self.fleet_position[vehicle.unit.id]] = True


# ----------------------------------------------------------------- plan → units


def modal_fleet(fleet: dict[int, list[tuple[str, list[str]]]]) -> list[tuple[str, list[str]]]:
    """The most common fleet among the stations (ties: the larger, then the first)."""
    if not fleet:
        raise ValidationFailed(
            "no station has vehicles: a new station's fleet is unknown",
            text=TextCode.PLANNING_NO_FLEET,
            params={},
        )
    keys = Counter(tuple(sorted((t, tuple(sorted(c))) for t, c in v)) for v in fleet.values())
    best = max(keys.items(), key=lambda kv: (kv[1], len(kv[0])))[0]
    return [(t, list(c)) for t, c in best]


def planned_units(
    sites: Sequence[tuple[float, float]],
    template: Sequence[tuple[str, Sequence[str]]],
    first_station_id: int,
    first_vehicle_id: int,
) -> tuple[list[tuple[int, float, float]], list[Unit]]:
    """Stations ``(id, lon, lat)`` and their units for a plan's sites."""
    stations: list[tuple[int, float, float]] = []
    units: list[Unit] = []
    vid = first_vehicle_id
    for k, (lon, lat) in enumerate(sites):
        sid = first_station_id + k
        stations.append((sid, lon, lat))
        for vehicle_type, caps in template:
            units.append(
                Unit(
                    vid,
                    f"PLAN-V{vid}",
                    f"PLAN{k + 1}-{vehicle_type}",
                    sid,
                    vehicle_type,
                    frozenset(caps),
                    AVAILABLE_STATUS,
                    "/",
                )
            )
            vid += 1
    return stations, units


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{figure: {"before", "after", "change"}}`` for the figures both runs have."""
    keys = [
        "first_arrival_p50_s",
        "first_arrival_p90_s",
        "within_5_min_of_dispatch",
        "within_5_min_of_call",
        "erf_p50_s",
        "erf_p90_s",
        "unit_utilisation",
        "no_unit_free",
        "plan_not_met",
    ]
    out = {}
    for key in keys:
        b, a = before.get(key), after.get(key)
        change = None if a is None or b is None else round(float(a) - float(b), 6)
        out[key] = {"before": b, "after": a, "change": change}
    return out


def _bad_line(path: Path, line: int, found: Found) -> ValidationFailed:
    return ValidationFailed(
        f"calls file line {line}: {found.message}",
        {"line": line},
        text=TextCode.FILE_LINE_INVALID,
        params={"file": str(path), "line": line, "problem": found.problem, **found.params},
    )


def read_calls(path: Path) -> list[dict[str, Any]]:
    """The calls of a JSON-lines file (``firegrid incidents generate``), checked."""
    if not path.is_file():
        raise ValidationFailed(
            f"calls file {str(path)!r} not found",
            {"file": str(path)},
            text=TextCode.FILE_NOT_FOUND,
            params={"file": str(path)},
        )
    records = []
    required = ("t", "lon", "lat", "incident_type")
    try:
        for n, record in enumerate(read_jsonl(path), 1):
            missing = [k for k in required if k not in record]
            if missing:
                message = f"missing {', '.join(missing)}"
                raise _bad_line(
                    path, n, Found("", Problem.FIELDS_MISSING, message, {"fields": missing})
                )
            if record["incident_type"] not in ON_SCENE_MIN:
                kind = str(record["incident_type"])
                message = f"unknown incident type {kind!r}"
                raise _bad_line(
                    path,
                    n,
                    Found("", Problem.UNKNOWN_INCIDENT_TYPE, message, {"incident_type": kind}),
                )
            records.append(record)
    except ValueError as err:
        if isinstance(err, ValidationFailed):
            raise
        raise ValidationFailed(
            f"calls file is not JSON lines: {err}", text=TextCode.VALIDATION_JSON_INVALID, params={}
        ) from None
    if not records:
        raise ValidationFailed(
            "the calls file holds no call",
            text=TextCode.VALIDATION_EMPTY,
            params={"field": "calls"},
        )
    return records
