"""Replay a file of calls through intake -> recommendation -> dispatch -> unit status moves
-> close, on a simulated clock (``firegrid incidents replay``).

Each record is taken at its own time: intake locates it and opens an incident or merges it
into an open one; the plan's units are recommended among the units available at that moment
and dispatched after the call-processing time; each unit leaves after its turnout time,
arrives after its travel time (the recommended ETA, with traffic noise), and the incident is
brought under control, extinguished and closed after a duration drawn by type; units then
drive home and become available again. Every step goes through the dispatch services and is
written to the database (timeline, status log, assignments), committed in batches.
"""

from __future__ import annotations

import heapq
import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from firegrid.core.db import Database
from firegrid.core.errors import DomainError
from firegrid.core.settings import Settings
from firegrid.dispatch import incidents, intake
from firegrid.dispatch.incident_models import Assignment, Incident
from firegrid.dispatch.models import Vehicle
from firegrid.dispatch.plans import PlanBook
from firegrid.dispatch.recommend import Unit, recommend_units
from firegrid.dispatch.states import AVAILABLE, IncidentStatus, VehicleStatus
from firegrid.dispatch.timeline import BUFFER_KEY, flush_buffer, intervals
from firegrid.geo.public import GeoError
from firegrid.places.public import jurisdiction_index

ACTOR = "system:replay"
FIRE_TYPES = frozenset({"building_fire", "hazmat_fire", "outdoor_fire", "vehicle_fire", "wildland"})
#: minutes on scene after the first arrival: (low, high) by type
ON_SCENE_MIN: dict[str, tuple[float, float]] = {
    "building_fire": (20, 90),
    "hazmat_fire": (40, 180),
    "outdoor_fire": (10, 30),
    "vehicle_fire": (10, 30),
    "wildland": (40, 150),
    "hazmat": (30, 120),
    "rescue": (15, 60),
    "flood": (20, 90),
    "social_assistance": (10, 40),
}


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


@dataclass
class ReplayStats:
    received: int = 0
    created: int = 0
    merged: int = 0
    dispatched: int = 0
    units_dispatched: int = 0
    unmet_plans: int = 0
    closed: int = 0
    already_replayed: int = 0  # calls found in the database from an earlier run: skipped
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    intervals: dict[str, list[float]] = field(default_factory=dict)
    recommend_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        def pct(values: list[float]) -> dict[str, float | None]:
            if not values:
                return {"p50": None, "p90": None, "p99": None, "n": 0}
            arr = np.asarray(values)
            return {
                "p50": round(float(np.percentile(arr, 50)), 1),
                "p90": round(float(np.percentile(arr, 90)), 1),
                "p99": round(float(np.percentile(arr, 99)), 1),
                "n": len(values),
            }

        return {
            "received": self.received,
            "created": self.created,
            "merged": self.merged,
            "dispatched": self.dispatched,
            "units_dispatched": self.units_dispatched,
            "unmet_plans": self.unmet_plans,
            "closed": self.closed,
            "already_replayed": self.already_replayed,
            "errors": self.errors,
            "error_kinds": self.error_kinds,
            "intervals_s": {k: pct(v) for k, v in sorted(self.intervals.items())},
            "recommend_ms": pct(self.recommend_ms),
            "elapsed_s": round(self.elapsed_s, 1),
        }


class IncidentIds:
    """Incident ids allocated ahead, so a new incident needs no flush to get its id.

    PostgreSQL: blocks from the table's sequence (safe with other writers). SQLite: the
    next numbers after the largest id (the replay should be the only writer meanwhile).
    """

    def __init__(self, session: Session, block: int = 1000) -> None:
        self.session = session
        self.block = block
        self.free: deque[int] = deque()
        self.last = 0

    def next(self) -> int:
        if not self.free:
            self._refill()
        self.last = self.free.popleft()
        return self.last

    def _refill(self) -> None:
        if self.session.get_bind().dialect.name == "postgresql":
            sequence = self.session.execute(
                text("SELECT pg_get_serial_sequence('incidents', 'id')")
            ).scalar_one()
            ids = self.session.scalars(
                text("SELECT nextval(:seq) FROM generate_series(1, :n)"),
                {"seq": sequence, "n": self.block},
            ).all()
            self.free.extend(int(i) for i in ids)
            return
        top = max(self.session.scalar(select(func.max(Incident.id))) or 0, self.last)
        self.free.extend(range(top + 1, top + 1 + self.block))


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    action: Callable[[], None] = field(compare=False)


def call_key(record: dict[str, Any]) -> tuple[str, str, int]:
    """A replayed call's identity: source, reference (the 110 number, or the file's
    ``call_id``, or its time and sequence) and the second it was received."""
    ref = record.get("external_ref") or (
        f"replay:{record['call_id']}"
        if record.get("call_id")
        else f"replay:{record['t']}#{record.get('seq', '')}"
    )
    received = datetime.fromisoformat(record["t"])
    return (record.get("source", "call_119"), str(ref)[:64], int(received.timestamp()))


def taken_calls(session: Session) -> set[tuple[str, str, int]]:
    """Keys of the calls already in the database that carry a reference."""
    from firegrid.dispatch.incident_models import IncidentCall

    rows = session.execute(
        select(IncidentCall.source, IncidentCall.external_ref, IncidentCall.received_at).where(
            IncidentCall.external_ref != ""
        )
    )
    return {(source, ref, int(at.timestamp())) for source, ref, at in rows}


class Replay:
    """One replay run: the database session, the engine, the unit board and the clock."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        seed: int = 0,
        batch: int = 500,
        flush_every: int = 100,
    ) -> None:
        from firegrid.geo.service import geo_context

        self.database = database
        self.engine = geo_context(database, settings).engine
        self.rng = np.random.default_rng(seed)
        self.batch = batch
        self.stats = ReplayStats()
        self.events: list[_Event] = []
        self.seq = itertools.count()
        self._now = datetime.now().astimezone()
        self.assignments: dict[int, list[Assignment]] = {}
        self.session: Session = database.sessions()
        self.session.info[BUFFER_KEY] = {}  # timeline and status log rows go in batches
        self.ids = IncidentIds(self.session)
        self.flush_every = flush_every
        self.index = jurisdiction_index(self.session)
        self.book = PlanBook.load(self.session)
        self.taken = taken_calls(self.session)
        self.session.commit()
        self._load_vehicles()

    def _load_vehicles(self) -> None:
        self.vehicles: dict[int, Vehicle] = {
            v.id: v
            for v in self.session.scalars(select(Vehicle).where(Vehicle.deleted_at.is_(None)))
        }
        self.available = {i for i, v in self.vehicles.items() if v.status in AVAILABLE}
        self.units = {
            v.id: Unit(
                v.id,
                v.code,
                v.call_sign,
                v.station_id,
                v.vehicle_type,
                frozenset(v.capabilities or ()),
                VehicleStatus.AVAILABLE_IN_STATION.value,
                v.jurisdiction_path,
            )
            for v in self.vehicles.values()
        }

    # ---------------------------------------------------------------- clock
    def at(self, when: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self.events, _Event(when, next(self.seq), action))

    def advance(self, until: datetime | None) -> None:
        while self.events and (until is None or self.events[0].at <= until):
            event = heapq.heappop(self.events)
            self._now = event.at
            event.action()

    def _error(self, err: Exception) -> None:
        self.stats.errors += 1
        name = type(err).__name__
        self.stats.error_kinds[name] = self.stats.error_kinds.get(name, 0) + 1

    # ---------------------------------------------------------------- records
    def run(
        self, records: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None
    ) -> ReplayStats:
        started = time.perf_counter()
        for n, record in enumerate(records, 1):
            when = datetime.fromisoformat(record["t"])
            with self.session.no_autoflush:  # writes go out every flush_every records
                self.advance(when)
            self._now = when
            self.stats.received += 1
            key = call_key(record)
            if key in self.taken:  # replayed before: the same call is not taken twice
                self.stats.already_replayed += 1
                continue
            self.taken.add(key)
            try:  # refuse what intake would refuse before writing anything
                self.index.locate(float(record["lon"]), float(record["lat"]), "call")
                self.engine.snap(float(record["lon"]), float(record["lat"]))
            except (DomainError, GeoError) as err:
                self._error(err)
                continue
            with self.session.no_autoflush:
                self.take(record, when)
            if n % self.flush_every == 0:
                self.session.flush()
            if n % self.batch == 0:
                self.commit()
                if progress is not None:
                    progress(n)
        with self.session.no_autoflush:
            self.advance(None)
        self.commit()
        self.session.close()
        self.stats.elapsed_s = time.perf_counter() - started
        return self.stats

    def commit(self) -> None:
        flush_buffer(self.session)
        self.session.commit()
        for obj in list(self.session.identity_map.values()):
            if (
                isinstance(obj, Vehicle)
                or (isinstance(obj, Incident) and obj.status != IncidentStatus.CLOSED)
                or (isinstance(obj, Assignment) and obj.released_at is None)
            ):
                continue  # still in play: keep it in the session
            self.session.expunge(obj)

    def take(self, record: dict[str, Any], when: datetime) -> None:
        data = intake.CallData(
            source=record.get("source", "call_119"),
            caller_number=record.get("caller_number", ""),
            address_text=record.get("address", ""),
            lon=record["lon"],
            lat=record["lat"],
            incident_type=record["incident_type"],
            venue_category=record.get("venue_category", ""),
            venue_id=record.get("venue_id"),
            description=record.get("description", ""),
            external_ref=call_key(record)[1],
            received_at=when,
        )
        call = intake.receive_call(self.session, ACTOR, data, index=self.index)
        result = intake.create_or_merge(
            self.session,
            ACTOR,
            call,
            incident_type=record["incident_type"],
            level=int(record.get("level", 1)),
            incident_id=self.ids.next(),
            venue_category=data.venue_category,
            venue_id=data.venue_id,
        )
        if result.merged:
            self.stats.merged += 1
            return
        assert result.incident is not None
        self.stats.created += 1
        self.dispatch(result.incident, when)

    def dispatch(self, incident: Incident, when: datetime) -> None:
        plan = self.book.match(incident.incident_type, incident.venue_category, incident.level)
        available = [self.units[i] for i in sorted(self.available)]
        t0 = time.perf_counter()
        rec = recommend_units(self.engine, plan, available, incident.lon, incident.lat)
        self.stats.recommend_ms.append((time.perf_counter() - t0) * 1000)
        if rec.missing:
            self.stats.unmet_plans += 1
        if not rec.chosen:
            self.at(when + timedelta(minutes=15), lambda: self.close(incident, "no unit"))
            return
        t_dispatch = when + timedelta(seconds=float(self.rng.uniform(45, 150)))
        result = incidents.dispatch_units(
            self.session,
            ACTOR,
            incident,
            rec.vehicle_ids,
            forces_path="/",
            at=t_dispatch,
            etas={c.vehicle_id: c.eta_s for c in rec.chosen},
            reasons={c.vehicle_id: c.reason for c in rec.chosen},
            vehicles=self.vehicles,
            cause="recommended units",
        )
        self.assignments[incident.id] = list(result.assignments)
        self.available.difference_update(rec.vehicle_ids)
        self.stats.dispatched += 1
        self.stats.units_dispatched += len(rec.chosen)
        for assignment, choice in zip(result.assignments, rec.chosen, strict=True):
            vehicle = self.vehicles[choice.vehicle_id]
            turnout = float(self.rng.uniform(40, 100))
            travel = choice.eta_s * float(self.rng.uniform(0.95, 1.2))
            leave = t_dispatch + timedelta(seconds=turnout)
            arrive = leave + timedelta(seconds=travel)
            self.at(leave, self._mover(incident, assignment, vehicle, VehicleStatus.EN_ROUTE))
            self.at(arrive, self._mover(incident, assignment, vehicle, VehicleStatus.ON_SCENE))

    def _mover(
        self, incident: Incident, assignment: Assignment, vehicle: Vehicle, status: VehicleStatus
    ) -> Callable[[], None]:
        def move() -> None:
            if assignment.released_at is not None or vehicle.incident_id != incident.id:
                return  # the incident closed before the unit got there
            first_arrival = incident.arrived_at is None and status is VehicleStatus.ON_SCENE
            when = self._now
            incidents.set_vehicle_status(
                self.session,
                ACTOR,
                vehicle,
                status,
                at=when,
                assignment=assignment,
                incident=incident,
            )
            if first_arrival:
                self._plan_incident(incident, when)

        return move

    def _plan_incident(self, incident: Incident, arrived: datetime) -> None:
        low, high = ON_SCENE_MIN[incident.incident_type]
        duration = timedelta(minutes=float(self.rng.uniform(low, high)))
        if incident.incident_type in FIRE_TYPES:
            self.at(arrived + duration * 0.5, lambda: self._status(incident, "under_control"))
            self.at(arrived + duration * 0.85, lambda: self._status(incident, "extinguished"))
        self.at(arrived + duration, lambda: self.close(incident, "handled"))

    def _status(self, incident: Incident, status: str) -> None:
        incidents.set_incident_status(self.session, ACTOR, incident, status, at=self._now)

    def close(self, incident: Incident, cause: str) -> None:
        now = self._now
        held = self.assignments.pop(incident.id, [])
        open_units = [(a, self.vehicles[a.vehicle_id]) for a in held]
        incidents.set_incident_status(
            self.session, ACTOR, incident, "closed", at=now, cause=cause, open_units=open_units
        )
        self.stats.closed += 1
        for key, value in intervals(incident).items():
            if value is not None:
                self.stats.intervals.setdefault(key, []).append(value)
        for assignment, vehicle in open_units:
            if vehicle.status in AVAILABLE:  # sent home before it left
                self.available.add(vehicle.id)
            if vehicle.status != VehicleStatus.RETURNING or vehicle.incident_id is not None:
                continue
            back = timedelta(seconds=(assignment.eta_s or 600.0) * 1.1)
            self.at(now + back, self._home(vehicle))

    def _home(self, vehicle: Vehicle) -> Callable[[], None]:
        def home() -> None:
            if vehicle.status == VehicleStatus.RETURNING:
                incidents.set_vehicle_status(
                    self.session,
                    ACTOR,
                    vehicle,
                    VehicleStatus.AVAILABLE_IN_STATION,
                    at=self._now,
                    cause="back in station",
                )
                self.available.add(vehicle.id)

        return home


def replay_file(
    database: Database,
    settings: Settings,
    path: Path,
    *,
    seed: int = 0,
    batch: int = 500,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Replay the records of ``path`` (JSON lines from ``generate``); returns the counts and
    interval percentiles."""
    run = Replay(database, settings, seed=seed, batch=batch)
    records: Iterable[dict[str, Any]] = read_jsonl(path)
    if limit is not None:
        records = itertools.islice(records, limit)
    return run.run(records, progress).as_dict()
