"""Seeded, plausible alarm history of the demo city's last year (bulk Core inserts).

A monitoring centre that has run for a year holds a year of decided alarms: the statistics
(false-alarm rate by cause, time to acknowledge and to verify, top offending devices) and
the risk indicators ``fire_alarms_90d`` and ``false_alarm_rate`` read them. THE HISTORY IS
SYNTHETIC; every row's actor says so (``… (seeded history)``).

The generating process (deterministic by seed, relative to ``now``; run after the demo
inspections so that alarms follow the hazard):

* a venue with fire detectors (standalone smoke alarms, alarm-panel transmitters) raises
  fire alarms at the yearly rate ``FIRE_RATE · √detectors · exp(0.25·log1p(open hazards)
  + 0.3·[overdue hazard] + u)``, ``u ~ N(0, 0.5)`` its latent device and upkeep quality;
  the alarm comes from one of its detectors, on a day drawn uniformly over the year;
* it is a real fire with probability ``P_FIRE`` (doubled with an overdue hazard); a false
  alarm's cause is drawn with the weights of :data:`FALSE_CAUSES`; cooking alarms fall at
  meal times, tests and maintenance in working hours, the rest at any hour (China time);
* the operator acknowledges after ``LogNormal(median 20 s)``, starts verifying at once and
  decides by a call to the venue contact (60 %, median 90 s), an on-site check by a grid
  worker (25 %, median 10 min) or at the console (15 %, median 45 s); a fire is confirmed
  and forwarded at that moment and closed two hours later, a false alarm five minutes later;
* every device may also report a fault (``FAULT_RATE`` a year by device kind), which is
  decided a fault when the device clears it after ``LogNormal(median 1 day)`` and closed
  by the maintenance work order a day later.

Every alarm is closed: no timer, feed entry or work order is written, and the forwards of
the fires are marked consumed (the demo city's past incidents are not in the dispatch
context, so ``incident_id`` stays empty). The target tables must be empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, case, func, select

from firegrid.alarms.models import (
    Alarm,
    AlarmEvent,
    AlarmForward,
    AlarmTransition,
    AlarmVerification,
)
from firegrid.alarms.states import AlarmKind, AlarmStatus, FalseReason
from firegrid.core.bulk import advance_id_sequences, insert_chunks, require_empty, table_of
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.devices.public import Device
from firegrid.inspections.public import Hazard, HazardStatus
from firegrid.places.public import Venue

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: (device id, venue id, device kind, external id)
DeviceRow = tuple[int, int, str, str]

YEAR_S = 365 * 86_400.0
HOUR_S = 3_600.0
CHINA_OFFSET_S = 8 * HOUR_S
#: yearly fire alarms of a venue with one detector and no hazard, before its quality
FIRE_RATE = 0.9
#: share of fire alarms that are real fires (doubled at a venue with an overdue hazard)
P_FIRE = 0.015
#: false-alarm causes and their weights (dust and cooking lead, as in practice)
FALSE_CAUSES: dict[FalseReason, float] = {
    FalseReason.COOKING: 0.27,
    FalseReason.DUST: 0.22,
    FalseReason.DEVICE_FAULT: 0.19,
    FalseReason.TEST: 0.10,
    FalseReason.MAINTENANCE: 0.08,
    FalseReason.UNKNOWN: 0.14,
}
#: yearly fault alarms per device, by device kind
FAULT_RATE = {
    "smoke_alarm": 0.15,
    "transmitter": 0.6,
    "sprinkler_pressure": 0.4,
    "electrical_monitor": 0.3,
}
DETECTOR_KINDS = ("smoke_alarm", "transmitter")
#: verification methods: (name, share, median delay s, outcome actor)
METHODS = (
    ("call", 0.60, 90.0, "monitor-centre (seeded history)"),
    ("onsite", 0.25, 600.0, "grid worker (seeded history)"),
    ("operator", 0.15, 45.0, "monitor-centre (seeded history)"),
)
OPERATOR = "monitor-centre (seeded history)"
DEVICE_ACTOR = "device (seeded history)"
MAINTENANCE_ACTOR = "maintenance work order (seeded history)"
TABLES = (Alarm, AlarmEvent, AlarmTransition, AlarmVerification, AlarmForward)
_STREAM = 211


@dataclass(frozen=True)
class _Venue:
    id: int
    name: str
    category: str
    path: str
    lon: float
    lat: float


def _lognormal(rng: np.random.Generator, median_s: float, sigma: float, n: int) -> FloatArray:
    return np.asarray(median_s * np.exp(sigma * rng.standard_normal(n)), dtype=np.float64)


def _hour_of_day(rng: np.random.Generator, causes: list[str]) -> FloatArray:
    """China-time hour of each alarm by its cause (meal times, working hours, any time)."""
    n = len(causes)
    any_hour = rng.uniform(0.0, 24.0, n)
    meal = np.where(rng.random(n) < 0.5, 11.8, 18.2) + rng.normal(0.0, 0.8, n)
    working = rng.uniform(9.0, 17.5, n)
    cause = np.array(causes)
    hour = np.where(cause == "cooking", meal, any_hour)
    hour = np.where(np.isin(cause, ["test", "maintenance"]), working, hour)
    return np.asarray(np.mod(hour, 24.0), dtype=np.float64)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def generate_alarm_history(
    database: Database, seed: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """Write a year of decided and closed alarms of the demo city; return the counts."""
    now = now or utcnow()
    tables = [table_of(model) for model in TABLES]
    with database.engine.begin() as connection:
        require_empty(connection, tables, "the demo alarm history")
        rows = _plan(connection, seed, now)
        for table in tables:
            insert_chunks(connection, table, rows[table.name])
        advance_id_sequences(connection, tables)
    alarms = rows["alarms"]
    fires = [a for a in alarms if a["kind"] == AlarmKind.FIRE.value]
    return {
        "alarms": len(alarms),
        "fire_alarms": len(fires),
        "confirmed_fires": sum(a["false_reason"] == "" for a in fires),
        "false_alarms": sum(a["false_reason"] != "" for a in fires),
        "fault_alarms": len(alarms) - len(fires),
        "transitions": len(rows["alarm_transitions"]),
    }


def _plan(connection: Connection, seed: int, now: datetime) -> dict[str, list[dict[str, Any]]]:
    rng = np.random.default_rng(np.random.SeedSequence([seed, _STREAM]))
    venues = {
        int(r[0]): _Venue(int(r[0]), str(r[1]), str(r[2]), str(r[3]), float(r[4]), float(r[5]))
        for r in connection.execute(
            select(
                Venue.id, Venue.name, Venue.category, Venue.jurisdiction_path, Venue.lon, Venue.lat
            )
            .where(Venue.deleted_at.is_(None))
            .order_by(Venue.id)
        )
    }
    devices = [
        (int(r[0]), int(r[1]), str(r[2]), str(r[3]))
        for r in connection.execute(
            select(Device.id, Device.venue_id, Device.kind, Device.external_id)
            .where(Device.deleted_at.is_(None))
            .order_by(Device.id)
        )
        if int(r[1]) in venues
    ]
    open_hazards: dict[int, tuple[int, bool]] = {}
    for venue_id, count, overdue in connection.execute(
        select(
            Hazard.venue_id,
            func.count(),
            func.sum(case((Hazard.deadline < now, 1), else_=0)),
        )
        .where(Hazard.status == HazardStatus.OPEN.value)
        .group_by(Hazard.venue_id)
    ):
        open_hazards[int(venue_id)] = (int(count), bool(overdue or 0))
    builder = _Builder(now)
    _fire_alarms(rng, builder, venues, devices, open_hazards)
    _fault_alarms(rng, builder, venues, devices)
    return builder.rows


class _Builder:
    """Accumulates rows with ids assigned in order."""

    def __init__(self, now: datetime) -> None:
        self.now_s = now.timestamp()
        self.rows: dict[str, list[dict[str, Any]]] = {t.__tablename__: [] for t in TABLES}

    def next_id(self, table: str) -> int:
        return len(self.rows[table]) + 1

    def alarm(self, venue: _Venue, kind: AlarmKind, opened_s: float, **fields: Any) -> int:
        alarm_id = self.next_id("alarms")
        opened = _at(opened_s)
        row: dict[str, Any] = {
            "id": alarm_id,
            "kind": kind.value,
            "status": AlarmStatus.CLOSED.value,
            "fold_key": f"venue:{venue.id}",
            "venue_id": venue.id,
            "device_id": None,
            "external_id": "",
            "device_kind": "",
            "venue_name": venue.name,
            "venue_category": venue.category,
            "jurisdiction_path": venue.path,
            "lon": venue.lon,
            "lat": venue.lat,
            "priority": 0,
            "first_event_kind": "fire_alarm" if kind is AlarmKind.FIRE else "fault",
            "opened_at": opened,
            "first_received_at": opened + timedelta(seconds=0.4),
            "last_event_at": opened,
            "event_count": 1,
            "component_count": 1,
            "acknowledged_at": None,
            "verifying_at": None,
            "decided_at": None,
            "decided_by": "",
            "false_reason": "",
            "forwarded_at": None,
            "forward_probable": False,
            "closed_at": None,
            "cleared_at": None,
            "escalation_level": "",
            "suppressed": False,
            "rule_hits": [],
            "updated_at": opened,
        }
        row.update(fields)
        self.rows["alarms"].append(row)
        return alarm_id

    def line(self, alarm_id: int, device: DeviceRow, kind: str, at_s: float) -> None:
        device_id, _, device_kind, _ = device
        component = f"{device_id}:1/1/{1 + alarm_id % 64}"
        self.rows["alarm_events"].append(
            {
                "id": self.next_id("alarm_events"),
                "alarm_id": alarm_id,
                "source_key": f"{component}|{kind}",
                "first_event_id": f"history-{alarm_id}",
                "last_event_id": f"history-{alarm_id}",
                "kind": kind,
                "device_id": device_id,
                "device_kind": device_kind,
                "component": component,
                "zone": f"{device_id}/1/1",
                "description": "",
                "count": 1,
                "first_at": _at(at_s),
                "last_at": _at(at_s),
                "received_at": _at(at_s + 0.4),
                "values": {},
            }
        )

    def step(
        self, alarm_id: int, path: list[tuple[str, float, str, str]], reason: str = ""
    ) -> None:
        """Record the transitions ``path`` of (status, at, actor, cause) from ``new``."""
        previous = AlarmStatus.NEW.value
        for status, at_s, actor, cause in path:
            self.rows["alarm_transitions"].append(
                {
                    "id": self.next_id("alarm_transitions"),
                    "alarm_id": alarm_id,
                    "from_status": previous,
                    "to_status": status,
                    "at": _at(at_s),
                    "actor": actor,
                    "cause": cause,
                    "reason": reason if status == AlarmStatus.FALSE_ALARM.value else "",
                }
            )
            previous = status


def _fire_alarms(
    rng: np.random.Generator,
    builder: _Builder,
    venues: dict[int, _Venue],
    devices: list[DeviceRow],
    open_hazards: dict[int, tuple[int, bool]],
) -> None:
    detectors: dict[int, list[DeviceRow]] = {}
    for device in devices:
        if device[2] in DETECTOR_KINDS:
            detectors.setdefault(device[1], []).append(device)
    venue_ids = sorted(detectors)
    if not venue_ids:
        return
    hazards = np.array([open_hazards.get(v, (0, False))[0] for v in venue_ids], dtype=np.float64)
    overdue = np.array([open_hazards.get(v, (0, False))[1] for v in venue_ids], dtype=bool)
    count = np.array([len(detectors[v]) for v in venue_ids], dtype=np.float64)
    quality = rng.normal(0.0, 0.5, len(venue_ids))
    rate = FIRE_RATE * np.sqrt(count) * np.exp(0.25 * np.log1p(hazards) + 0.3 * overdue + quality)
    per_venue = rng.poisson(rate)
    owner = np.repeat(np.arange(len(venue_ids)), per_venue)
    n = int(owner.size)
    is_fire = rng.random(n) < P_FIRE * np.where(overdue[owner], 2.0, 1.0)
    reasons = [r.value for r in FALSE_CAUSES]
    weights = np.array(list(FALSE_CAUSES.values()))
    cause = np.where(
        is_fire, "fire", np.array(reasons)[rng.choice(len(reasons), n, p=weights / weights.sum())]
    ).tolist()
    day = np.floor(rng.uniform(0.0, 365.0, n))
    hour = _hour_of_day(rng, cause)
    midnight_china = np.floor((builder.now_s + CHINA_OFFSET_S) / 86_400.0) * 86_400.0
    opened = midnight_china - CHINA_OFFSET_S - day * 86_400.0 + hour * HOUR_S
    opened = np.where(opened > builder.now_s - 3 * HOUR_S, opened - 86_400.0, opened)
    ack = _lognormal(rng, 20.0, 0.7, n)
    method = rng.choice(len(METHODS), n, p=[m[1] for m in METHODS])
    verify = np.array([METHODS[m][2] for m in method]) * np.exp(0.6 * rng.standard_normal(n))
    pick = rng.random(n)
    order = np.argsort(opened, kind="stable")
    for i in order.tolist():
        venue = venues[venue_ids[owner[i]]]
        device = detectors[venue.id][int(pick[i] * len(detectors[venue.id]))]
        t_open = float(opened[i])
        t_ack = t_open + 0.4 + float(ack[i])
        t_decided = t_ack + float(verify[i])
        fire = bool(is_fire[i])
        t_closed = t_decided + (2 * HOUR_S if fire else 300.0)
        name, _, _, decider = METHODS[int(method[i])]
        reason = "" if fire else cause[i]
        alarm_id = builder.alarm(
            venue,
            AlarmKind.FIRE,
            t_open,
            acknowledged_at=_at(t_ack),
            verifying_at=_at(t_ack),
            decided_at=_at(t_decided),
            decided_by=decider,
            false_reason=reason,
            forwarded_at=_at(t_decided) if fire else None,
            closed_at=_at(t_closed),
            updated_at=_at(t_closed),
        )
        builder.line(alarm_id, device, "fire_alarm", t_open)
        decision = AlarmStatus.CONFIRMED if fire else AlarmStatus.FALSE_ALARM
        builder.step(
            alarm_id,
            [
                (AlarmStatus.ACKNOWLEDGED.value, t_ack, OPERATOR, "acknowledged by the operator"),
                (AlarmStatus.VERIFYING.value, t_ack, OPERATOR, f"verification started: {name}"),
                (decision.value, t_decided, decider, f"{name}: " + (reason or "fire confirmed")),
                (AlarmStatus.CLOSED.value, t_closed, OPERATOR, "closed"),
            ],
            reason,
        )
        builder.rows["alarm_verifications"].append(
            {
                "id": builder.next_id("alarm_verifications"),
                "alarm_id": alarm_id,
                "method": name,
                "outcome": "fire" if fire else "false_alarm",
                "reason": reason,
                "note": "",
                "actor": decider,
                "at": _at(t_decided),
                "decisive": True,
                "task_id": None,
            }
        )
        if fire:
            builder.rows["alarm_forwards"].append(
                {
                    "id": builder.next_id("alarm_forwards"),
                    "alarm_id": alarm_id,
                    "venue_id": venue.id,
                    "lon": venue.lon,
                    "lat": venue.lat,
                    "jurisdiction_path": venue.path,
                    "incident_kind": "building_fire",
                    "venue_category": venue.category,
                    "probable": False,
                    "forwarded_at": _at(t_decided),
                    "consumed_at": _at(t_decided + 5.0),
                    "incident_id": None,
                }
            )


def _fault_alarms(
    rng: np.random.Generator,
    builder: _Builder,
    venues: dict[int, _Venue],
    devices: list[DeviceRow],
) -> None:
    rate = np.array([FAULT_RATE.get(d[2], 0.2) for d in devices], dtype=np.float64)
    per_device = rng.poisson(rate)
    owner = np.repeat(np.arange(len(devices)), per_device)
    n = int(owner.size)
    opened = builder.now_s - 3 * 86_400.0 - rng.uniform(0.0, YEAR_S - 3 * 86_400.0, n)
    cleared = opened + _lognormal(rng, 86_400.0, 0.8, n)
    for i in np.argsort(opened, kind="stable").tolist():
        device = devices[int(owner[i])]
        device_id, venue_id, kind, external_id = device
        venue = venues[venue_id]
        t_open, t_clear = float(opened[i]), float(cleared[i])
        t_closed = t_clear + 86_400.0
        alarm_id = builder.alarm(
            venue,
            AlarmKind.FAULT,
            t_open,
            fold_key=f"device:{device_id}",
            device_id=device_id,
            external_id=external_id,
            device_kind=kind,
            decided_at=_at(t_clear),
            decided_by=DEVICE_ACTOR,
            cleared_at=_at(t_clear),
            closed_at=_at(t_closed),
            updated_at=_at(t_closed),
        )
        builder.line(alarm_id, device, "fault", t_open)
        builder.step(
            alarm_id,
            [
                (AlarmStatus.FAULT.value, t_clear, DEVICE_ACTOR, "fault cleared by the device"),
                (AlarmStatus.CLOSED.value, t_closed, MAINTENANCE_ACTOR, "work order closed"),
            ],
        )
