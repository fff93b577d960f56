"""What the monitoring centre reads of other contexts: venues, devices, grid workers.

Read-only lookups, cached per process (venues and devices change rarely; the cache is
bounded and can be cleared). The correlator only depends on :class:`Directory`, so
``firegrid alarms rules test`` can run against an empty directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.devices.public import Device
from firegrid.places.public import GridWorker, Venue


@dataclass(frozen=True)
class VenueInfo:
    id: int
    name: str
    category: str
    tags: frozenset[str]
    lon: float
    lat: float
    jurisdiction_path: str
    jurisdiction_id: int
    contact_name: str = ""
    contact_phone: str = ""


@dataclass(frozen=True)
class DeviceInfo:
    id: int
    kind: str
    venue_id: int


class Directory(Protocol):
    def venues(self, session: Session, ids: Iterable[int]) -> dict[int, VenueInfo]: ...

    def devices(self, session: Session, ids: Iterable[int]) -> dict[int, DeviceInfo]: ...


@dataclass
class StaticDirectory:
    """A directory held in memory (rules test, unit tests)."""

    venue_map: dict[int, VenueInfo] = field(default_factory=dict)
    device_map: dict[int, DeviceInfo] = field(default_factory=dict)

    def venues(self, session: Session, ids: Iterable[int]) -> dict[int, VenueInfo]:
        return {i: self.venue_map[i] for i in ids if i in self.venue_map}

    def devices(self, session: Session, ids: Iterable[int]) -> dict[int, DeviceInfo]:
        return {i: self.device_map[i] for i in ids if i in self.device_map}


class DatabaseDirectory:
    """Venues and devices from the platform database, cached (bounded)."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self._venues: dict[int, VenueInfo] = {}
        self._devices: dict[int, DeviceInfo] = {}

    def clear(self) -> None:
        self._venues.clear()
        self._devices.clear()

    def venues(self, session: Session, ids: Iterable[int]) -> dict[int, VenueInfo]:
        wanted = set(ids)
        missing = [i for i in wanted if i not in self._venues]
        if missing:
            if len(self._venues) > self.max_entries:
                self._venues.clear()
            for start in range(0, len(missing), 500):
                for row in session.execute(
                    select(
                        Venue.id,
                        Venue.name,
                        Venue.category,
                        Venue.tags,
                        Venue.lon,
                        Venue.lat,
                        Venue.jurisdiction_path,
                        Venue.jurisdiction_id,
                        Venue.contact_name,
                        Venue.contact_phone,
                    ).where(Venue.id.in_(missing[start : start + 500]))
                ).all():
                    self._venues[row[0]] = VenueInfo(
                        row[0],
                        row[1],
                        row[2],
                        frozenset(row[3] or ()),
                        row[4],
                        row[5],
                        row[6],
                        row[7],
                        row[8],
                        row[9],
                    )
        return {i: self._venues[i] for i in wanted if i in self._venues}

    def devices(self, session: Session, ids: Iterable[int]) -> dict[int, DeviceInfo]:
        wanted = set(ids)
        missing = [i for i in wanted if i not in self._devices]
        if missing:
            if len(self._devices) > self.max_entries:
                self._devices.clear()
            for start in range(0, len(missing), 500):
                for row in session.execute(
                    select(Device.id, Device.kind, Device.venue_id).where(
                        Device.id.in_(missing[start : start + 500])
                    )
                ).all():
                    self._devices[row[0]] = DeviceInfo(row[0], row[1], row[2])
        return {i: self._devices[i] for i in wanted if i in self._devices}


@dataclass(frozen=True)
class Assignee:
    kind: str  # venue_manager | grid_worker
    id: int | None
    name: str


class AssigneeCache:
    """Who gets a venue's work: its venue manager, else its grid's worker (cached, TTL)."""

    def __init__(self, ttl_s: float = 60.0) -> None:
        self.ttl_s = ttl_s
        self._cache: dict[tuple[int | None, int | None], tuple[float, Assignee]] = {}

    def lookup(
        self, session: Session, keys: Iterable[tuple[int | None, int | None]]
    ) -> dict[tuple[int | None, int | None], Assignee]:
        """Assignees for (venue id, grid id) pairs, with two queries for the missing ones."""
        import time

        from firegrid.accounts.models import User, UserVenue

        now = time.monotonic()
        wanted = set(keys)
        found = {k: v[1] for k in wanted if (v := self._cache.get(k)) is not None and v[0] > now}
        missing = [k for k in wanted if k not in found]
        if missing:
            venue_ids = sorted({v for v, _ in missing if v is not None})
            grid_ids = sorted({g for _, g in missing if g is not None})
            managers: dict[int, tuple[int, str]] = {}
            for start in range(0, len(venue_ids), 500):
                for venue_id, user_id, username in session.execute(
                    select(UserVenue.venue_id, User.id, User.username)
                    .join(User, UserVenue.user_id == User.id)
                    .where(
                        UserVenue.venue_id.in_(venue_ids[start : start + 500]),
                        User.role == "venue_manager",
                        User.disabled.is_(False),
                        User.deleted_at.is_(None),
                    )
                    .order_by(User.id.desc())
                ).all():
                    managers[int(venue_id)] = (int(user_id), str(username))
            workers: dict[int, tuple[int, str]] = {}
            for start in range(0, len(grid_ids), 500):
                for grid_id, worker_id, name in session.execute(
                    select(GridWorker.grid_id, GridWorker.id, GridWorker.name)
                    .where(
                        GridWorker.grid_id.in_(grid_ids[start : start + 500]),
                        GridWorker.active.is_(True),
                        GridWorker.deleted_at.is_(None),
                    )
                    .order_by(GridWorker.id.desc())
                ).all():
                    workers[int(grid_id)] = (int(worker_id), str(name))
            if len(self._cache) > 200_000:
                self._cache.clear()
            for key in missing:
                manager = managers.get(key[0]) if key[0] is not None else None
                worker = workers.get(key[1]) if key[1] is not None else None
                if manager is not None:
                    assignee = Assignee("venue_manager", manager[0], manager[1])
                elif worker is not None:
                    assignee = Assignee("grid_worker", worker[0], worker[1])
                else:
                    assignee = Assignee("grid_worker", None, "")
                found[key] = assignee
                self._cache[key] = (now + self.ttl_s, assignee)
        return found


def grid_worker_for(session: Session, jurisdiction_id: int) -> GridWorker | None:
    """The active grid worker of a grid (the lowest id when there are several)."""
    return session.scalars(
        select(GridWorker)
        .where(
            GridWorker.grid_id == jurisdiction_id,
            GridWorker.active.is_(True),
            GridWorker.deleted_at.is_(None),
        )
        .order_by(GridWorker.id)
        .limit(1)
    ).first()


def venue_manager_for(session: Session, venue_id: int) -> tuple[int, str] | None:
    """(user id, username) of a venue manager linked to the venue, if any."""
    from firegrid.accounts.models import User, UserVenue

    row = session.execute(
        select(User.id, User.username)
        .join(UserVenue, UserVenue.user_id == User.id)
        .where(
            UserVenue.venue_id == venue_id,
            User.role == "venue_manager",
            User.disabled.is_(False),
            User.deleted_at.is_(None),
        )
        .order_by(User.id)
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), str(row[1]))


def venue_dossier(session: Session, venue_id: int) -> dict[str, Any]:
    """Venue, buildings, devices and their states: what an operator verifying needs."""
    from firegrid.devices.commissioning import classify, default_grace
    from firegrid.devices.public import DeviceStateRow
    from firegrid.places.public import Building

    venue = session.get(Venue, venue_id)
    if venue is None:
        return {}
    buildings = session.scalars(
        select(Building).where(Building.venue_id == venue_id, Building.deleted_at.is_(None))
    ).all()
    devices = session.scalars(
        select(Device).where(Device.venue_id == venue_id, Device.deleted_at.is_(None))
    ).all()
    states = {
        row.device_id: row
        for row in session.scalars(
            select(DeviceStateRow).where(DeviceStateRow.venue_id == venue_id)
        ).all()
    }

    now, grace = utcnow(), default_grace()

    def state(device_id: int) -> dict[str, Any] | None:
        row = states.get(device_id)
        if row is None:
            return None
        return {
            "online": row.online,
            "last_seen": row.last_seen.isoformat() if row.last_seen else None,
            "alarms": row.alarms,
            "faults": row.faults,
            "battery_pct": row.battery_pct,
            "last_kind": row.last_kind,
        }

    return {
        "venue": {
            "id": venue.id,
            "code": venue.code,
            "name": venue.name,
            "address": venue.address,
            "category": venue.category,
            "lon": venue.lon,
            "lat": venue.lat,
            "floors": venue.floors,
            "floor_area_m2": venue.floor_area_m2,
            "occupancy": venue.occupancy,
            "night_occupancy": venue.night_occupancy,
            "construction_class": venue.construction_class,
            "contact_name": venue.contact_name,
            "contact_phone": venue.contact_phone,
            "tags": list(venue.tags or []),
            "jurisdiction_path": venue.jurisdiction_path,
        },
        "buildings": [b.summary() for b in buildings],
        "devices": [
            {
                "id": d.id,
                "code": d.code,
                "kind": d.kind,
                "install_location": d.install_location,
                "state": state(d.id),
                "health": classify(
                    reported=d.id in states,
                    online=d.id in states and states[d.id].online,
                    installed_at=d.installed_at,
                    now=now,
                    grace=grace,
                ).value,
            }
            for d in devices
        ],
    }
