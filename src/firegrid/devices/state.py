"""Live device state: online/offline, current alarms and faults, last seen, battery, signal.

State is kept in memory (heartbeats arrive every minute from up to millions of devices and
are never rows) and flushed to ``device_state`` every few seconds, one row per device that
changed; a device's ``last_seen`` alone is rewritten at most once a minute. On start it
is reloaded from that table, so it survives a restart.

Only devices heard from are tracked (and get a ``device_state`` row): a registered device
that never reported is "not commissioned", never offline (the rule, with its install-date
grace, is :mod:`firegrid.devices.commissioning`). A device that has been seen and then
stays silent longer than ``offline_grace_s`` is marked offline and
:meth:`DeviceStateTracker.check_offline` returns an ``offline``
:class:`~firegrid.ingest.events.DeviceEvent` for it (the ingest service appends it to the
event log); the next message from it produces an ``online`` event.

Per-component rules (``component.key()`` identifies the point):

- ``fire_alarm`` / ``supervisory`` → an alarm on that component;
- ``fault``, ``power``, ``low_battery``, ``tamper`` → a fault on that component;
- ``fault_cleared`` (a normal status report) → that component's alarm and fault are cleared;
- ``reset`` → every alarm and fault of the device is cleared (the panel was reset).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.devices.state_models import DeviceStateRow
from firegrid.ingest.public import Component, DeviceEvent, EventKind, make_event_id

ALARM_KINDS = frozenset({EventKind.FIRE_ALARM, EventKind.SUPERVISORY})
FAULT_KINDS = frozenset({EventKind.FAULT, EventKind.POWER, EventKind.LOW_BATTERY, EventKind.TAMPER})


class DeviceRef(msgspec.Struct, frozen=True):
    """What the ingest side knows of a registered device (from the registry cache).

    A frozen struct rather than a frozen dataclass: the registry builds 21,000 of them at
    every start, and a dataclass's frozen ``__init__`` costs ten times as much.
    """

    device_id: int
    external_id: str
    protocol: str
    venue_id: int | None
    jurisdiction_path: str


@dataclass
class DeviceStatus:
    """The in-memory state of one device."""

    device_id: int
    venue_id: int | None
    external_id: str = ""
    protocol: str = ""
    jurisdiction_path: str = ""
    online: bool = False
    last_seen: datetime | None = None
    changed_at: datetime | None = None
    alarms: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    battery_pct: float | None = None
    signal_dbm: float | None = None
    last_kind: str = ""
    #: the registry entry the facts above were last taken from (unchanged: nothing to copy)
    ref: DeviceRef | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "venue_id": self.venue_id,
            "online": self.online,
            "last_seen": self.last_seen,
            "changed_at": self.changed_at,
            "alarms": dict(self.alarms),
            "faults": dict(self.faults),
            "battery_pct": self.battery_pct,
            "signal_dbm": self.signal_dbm,
            "last_kind": self.last_kind,
        }


_READINGS = frozenset({"battery_pct", "battery", "signal_dbm", "signal", "rssi"})
_TRACKED_KINDS = ALARM_KINDS | FAULT_KINDS | {EventKind.FAULT_CLEARED, EventKind.RESET}


def _number(values: dict[str, Any], *names: str) -> float | None:
    for name in names:
        value = values.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _apply_readings(status: DeviceStatus, values: dict[str, Any]) -> None:
    battery = _number(values, "battery_pct", "battery")
    signal = _number(values, "signal_dbm", "signal", "rssi")
    if battery is not None:
        status.battery_pct = battery
    if signal is not None:
        status.signal_dbm = signal


# read as module constants on the hot path (an enum member lookup goes through the class)
_FAULT_CLEARED = EventKind.FAULT_CLEARED
_ONLINE = EventKind.ONLINE
_OFFLINE = EventKind.OFFLINE
_COMPONENT_KEYS: dict[Component, str] = {}


def _component_key(component: Component) -> str:
    """``component.key()``, memoised (a panel reports the same points again and again)."""
    key = _COMPONENT_KEYS.get(component)
    if key is None:
        if len(_COMPONENT_KEYS) >= 65536:
            _COMPONENT_KEYS.clear()
        key = _COMPONENT_KEYS[component] = component.key()
    return key


class DeviceStateTracker:
    """Device state in memory, with periodic flush and offline detection."""

    def __init__(
        self,
        *,
        offline_grace_s: float = 600.0,
        persist_seen_every_s: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.offline_grace = timedelta(seconds=offline_grace_s)
        self.persist_seen_every = timedelta(seconds=persist_seen_every_s)
        self.clock = clock
        self._devices: dict[int, DeviceStatus] = {}
        self._dirty: set[int] = set()
        self._persisted_seen: dict[int, datetime] = {}

    # -- reading ------------------------------------------------------------------------------

    def get(self, device_id: int) -> DeviceStatus | None:
        return self._devices.get(device_id)

    def __len__(self) -> int:
        return len(self._devices)

    def venue(self, venue_id: int) -> dict[str, Any]:
        """Current alarms and faults of every device of a venue."""
        devices = [s for s in self._devices.values() if s.venue_id == venue_id]
        return {
            "venue_id": venue_id,
            "devices": len(devices),
            "online": sum(1 for s in devices if s.online),
            "alarms": {s.device_id: dict(s.alarms) for s in devices if s.alarms},
            "faults": {s.device_id: dict(s.faults) for s in devices if s.faults},
        }

    def venues_in_alarm(self) -> dict[int, int]:
        """Venue id → number of components in alarm."""
        counts: dict[int, int] = defaultdict(int)
        for status in self._devices.values():
            if status.alarms and status.venue_id is not None:
                counts[status.venue_id] += len(status.alarms)
        return dict(counts)

    # -- updating -----------------------------------------------------------------------------

    def _status(self, ref: DeviceRef) -> DeviceStatus:
        status = self._devices.get(ref.device_id)
        if status is None:
            status = DeviceStatus(ref.device_id, ref.venue_id)
            self._devices[ref.device_id] = status
        elif status.ref is ref:  # the registry's entry is shared: the usual case per frame
            return status
        status.ref = ref
        status.venue_id = ref.venue_id
        status.external_id = ref.external_id
        status.protocol = ref.protocol
        status.jurisdiction_path = ref.jurisdiction_path
        return status

    def bind(self, refs: Iterable[DeviceRef]) -> None:
        """Attach registry facts (external id, protocol, path) to reloaded devices."""
        for ref in refs:
            if ref.device_id in self._devices:
                self._status(ref)

    def seen(
        self, ref: DeviceRef, at: datetime, values: dict[str, Any] | None = None
    ) -> DeviceEvent | None:
        """Record that ``ref`` was heard from at ``at`` (a heartbeat or any message).

        Returns an ``online`` event when the device had been offline (or never seen), for
        the caller to append to the event log.
        """
        status = self._status(ref)
        came_online = not status.online
        if status.last_seen is None or at > status.last_seen:
            status.last_seen = at
        if values and not _READINGS.isdisjoint(values):
            _apply_readings(status, values)
            self._dirty.add(ref.device_id)
        # a plain heartbeat is written at most every ``persist_seen_every`` per device
        persisted = self._persisted_seen.get(ref.device_id)
        if persisted is None or at - persisted >= self.persist_seen_every:
            self._dirty.add(ref.device_id)
        if not came_online:
            return None
        self._dirty.add(ref.device_id)
        status.online = True
        status.changed_at = at
        return self._transition_event(status, EventKind.ONLINE, at)

    def observe(self, event: DeviceEvent) -> None:
        """Apply a stored event to the device's alarms and faults."""
        if event.device_id is None:
            return
        status = self._devices.get(event.device_id)
        if status is None:
            status = DeviceStatus(event.device_id, event.venue_id)
            self._devices[event.device_id] = status
        values = event.values
        if values and not _READINGS.isdisjoint(values):
            _apply_readings(status, values)
        kind = event.kind
        if kind in _TRACKED_KINDS:
            key = _component_key(event.component)
            if kind in ALARM_KINDS or kind in FAULT_KINDS:
                entry = {
                    "kind": str(kind),
                    "at": event.occurred_at.isoformat(),
                    "description": event.component.description,
                }
                (status.alarms if kind in ALARM_KINDS else status.faults)[key] = entry
            elif kind == _FAULT_CLEARED:
                status.alarms.pop(key, None)
                status.faults.pop(key, None)
            else:  # reset
                status.alarms.clear()
                status.faults.clear()
            status.changed_at = event.received_at
        if kind is not _ONLINE and kind is not _OFFLINE:
            status.last_kind = str(kind)
        self._dirty.add(event.device_id)

    def replay(self, event: DeviceEvent) -> None:
        """Apply a logged event on start (after a crash): alarms and faults as
        :meth:`observe`, plus the online/offline transitions and the time last heard."""
        self.observe(event)
        status = self._devices.get(event.device_id) if event.device_id is not None else None
        if status is None:
            return
        if event.kind is EventKind.ONLINE or event.kind is EventKind.OFFLINE:
            status.online = event.kind is EventKind.ONLINE
            status.changed_at = event.occurred_at
        elif status.last_seen is None or event.received_at > status.last_seen:
            status.last_seen = event.received_at

    def offline_candidates(self, now: datetime) -> list[int]:
        """Devices online in memory whose last message is older than the grace period."""
        cutoff = now - self.offline_grace  # one subtraction, not one per device
        return [
            s.device_id
            for s in self._devices.values()
            if s.online and s.last_seen is not None and s.last_seen < cutoff
        ]

    def merge_stored(self, stored: Mapping[int, StoredSeen]) -> None:
        """Take fresher facts another ingest process wrote to ``device_state``.

        Processes sharing a port (SO_REUSEPORT) each load every device's state, but only
        the one holding a device's connection hears its heartbeats. A later ``last_seen``
        written by that process keeps this one from calling the device offline, and an
        offline mark written after this process's last change is adopted, so the offline
        event is not stored twice.
        """
        for device_id, (online, last_seen, changed_at) in stored.items():
            status = self._devices.get(device_id)
            if status is None:
                continue
            if last_seen is not None and (status.last_seen is None or last_seen > status.last_seen):
                status.last_seen = last_seen
                self._persisted_seen[device_id] = last_seen  # already stored: not dirty
            if (
                not online
                and changed_at is not None
                and (status.changed_at is None or changed_at >= status.changed_at)
            ):
                status.online = False
                status.changed_at = changed_at

    def check_offline(
        self, now: datetime | None = None, candidates: Iterable[int] | None = None
    ) -> list[DeviceEvent]:
        """Mark devices silent for longer than the grace period offline; return the events.

        ``candidates`` (what :meth:`offline_candidates` returned) limits the check to those
        devices, so a pass over a city's devices is not walked twice; a device that went
        silent in between is caught by the next check."""
        now = now or self.clock()
        events = []
        devices = self._devices
        statuses: Iterable[DeviceStatus] = (
            devices.values()
            if candidates is None
            else [status for i in candidates if (status := devices.get(i)) is not None]
        )
        cutoff = now - self.offline_grace
        for status in statuses:
            last_seen = status.last_seen
            if status.online and last_seen is not None and last_seen < cutoff:
                status.online = False
                status.changed_at = now
                self._dirty.add(status.device_id)
                events.append(self._transition_event(status, EventKind.OFFLINE, now))
        return events

    def _transition_event(self, status: DeviceStatus, kind: EventKind, at: datetime) -> DeviceEvent:
        last_seen = status.last_seen.isoformat() if status.last_seen else ""
        return DeviceEvent(
            event_id=make_event_id("state", str(status.device_id), kind, at.isoformat()),
            device_id=status.device_id,
            external_id=status.external_id,
            protocol=status.protocol or "state",
            venue_id=status.venue_id,
            jurisdiction_path=status.jurisdiction_path,
            occurred_at=at,
            received_at=self.clock(),
            kind=kind,
            values={"last_seen": last_seen, "grace_s": self.offline_grace.total_seconds()},
        )

    # -- persistence --------------------------------------------------------------------------

    def load(self, db: Database) -> int:
        """Reload state from ``device_state``; returns the number of devices."""
        table = DeviceStateRow.__table__
        columns = [
            table.c[name]
            for name in (
                "device_id",
                "venue_id",
                "online",
                "last_seen",
                "changed_at",
                "alarms",
                "faults",
                "battery_pct",
                "signal_dbm",
                "last_kind",
            )
        ]
        # plain rows, not ORM objects: a third of the time for the demo city's 21,000
        devices = self._devices
        count = 0
        with db.engine.connect() as connection:
            for row in connection.execute(select(*columns)):
                device_id, venue_id, online, last_seen, changed_at, alarms, faults = row[:7]
                devices[device_id] = DeviceStatus(
                    device_id=device_id,
                    venue_id=venue_id,
                    online=online,
                    last_seen=last_seen,
                    changed_at=changed_at,
                    alarms=dict(alarms or {}),
                    faults=dict(faults or {}),
                    battery_pct=row[7],
                    signal_dbm=row[8],
                    last_kind=row[9],
                )
                count += 1
        return count

    def take_dirty(self) -> list[dict[str, Any]]:
        """Rows of the devices changed since the last flush (and forget they were dirty)."""
        rows = [self._row(self._devices[i]) for i in self._dirty if i in self._devices]
        self._dirty.clear()
        for row in rows:
            if row["last_seen"] is not None:
                self._persisted_seen[row["device_id"]] = row["last_seen"]
        return rows

    @staticmethod
    def _row(status: DeviceStatus) -> dict[str, Any]:
        return {
            "device_id": status.device_id,
            "venue_id": status.venue_id,
            "online": status.online,
            "last_seen": status.last_seen,
            "changed_at": status.changed_at,
            "alarms": dict(status.alarms),
            "faults": dict(status.faults),
            "battery_pct": status.battery_pct,
            "signal_dbm": status.signal_dbm,
            "last_kind": status.last_kind,
        }

    def flush(self, db: Database) -> int:
        """Write changed devices to ``device_state``; returns how many rows were written."""
        rows = self.take_dirty()
        write_state_rows(db, rows)
        return len(rows)

    def mark_dirty(self, device_ids: Iterable[int]) -> None:
        """Flush these devices again next time (after a failed flush)."""
        self._dirty.update(device_ids)


STATE_CHUNK_ENTRIES = 5000


def state_row_chunks(
    rows: list[dict[str, Any]], max_entries: int = STATE_CHUNK_ENTRIES
) -> Iterator[list[dict[str, Any]]]:
    """Consecutive runs of ``rows`` weighing at most ``max_entries`` each (a row weighs one
    plus its alarm and fault entries; a heavier row goes alone)."""
    chunk: list[dict[str, Any]] = []
    weight = 0
    for row in rows:
        row_weight = 1 + len(row["alarms"]) + len(row["faults"])
        if chunk and weight + row_weight > max_entries:
            yield chunk
            chunk, weight = [], 0
        chunk.append(row)
        weight += row_weight
    if chunk:
        yield chunk


#: (online, last_seen, changed_at) of a stored ``device_state`` row
StoredSeen = tuple[bool, datetime | None, datetime | None]


def read_stored_seen(db: Database, device_ids: Sequence[int]) -> dict[int, StoredSeen]:
    """``device_state``'s online flag, last seen and last change of ``device_ids``."""
    found: dict[int, StoredSeen] = {}
    with db.session() as session:
        for start in range(0, len(device_ids), 1000):
            for device_id, online, last_seen, changed_at in session.execute(
                select(
                    DeviceStateRow.device_id,
                    DeviceStateRow.online,
                    DeviceStateRow.last_seen,
                    DeviceStateRow.changed_at,
                ).where(DeviceStateRow.device_id.in_(device_ids[start : start + 1000]))
            ):
                found[int(device_id)] = (bool(online), last_seen, changed_at)
    return found


def write_state_rows(db: Database, rows: list[dict[str, Any]]) -> None:
    """Upsert ``device_state`` rows (one statement per chunk).

    ``last_seen`` never moves back: a process replaying the log after a crash, or one that
    heard a device earlier than the process now holding its connection, keeps the later
    time already stored.
    """
    if not rows:
        return
    columns = [c for c in rows[0] if c != "device_id"]
    with db.engine.begin() as connection:
        for start in range(0, len(rows), 2000):
            chunk = rows[start : start + 2000]
            if connection.dialect.name == "postgresql":
                stmt: Any = pg_insert(DeviceStateRow)
            else:
                stmt = sqlite_insert(DeviceStateRow)
            values = {name: getattr(stmt.excluded, name) for name in columns}
            if "last_seen" in values:
                stored = DeviceStateRow.__table__.c.last_seen
                values["last_seen"] = case(
                    (stored.is_(None), stmt.excluded.last_seen),
                    (stmt.excluded.last_seen > stored, stmt.excluded.last_seen),
                    else_=stored,
                )
            stmt = stmt.on_conflict_do_update(index_elements=["device_id"], set_=values)
            connection.execute(stmt, chunk)
