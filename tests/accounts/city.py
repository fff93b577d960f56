"""A two-town city built with the places models directly, plus users and tokens for tests.

Town ``IN`` (code 990000001) is inside the scope of the scoped principals; town ``OUT``
(990000002) is outside it. Every object of the outside town carries a marker (its code
contains ``990000002`` or starts with ``OUT-``) so a test can check that nothing outside
the caller's scope appears in a response.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher

from firegrid.accounts.models import User
from firegrid.accounts.passwords import set_hasher
from firegrid.accounts.principal import system_principal
from firegrid.accounts.service import create_user
from firegrid.accounts.sessions import start_token_session
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.devices.models import Device
from firegrid.dispatch.models import Hydrant, LogisticsPoint, Station, Vehicle
from firegrid.places.models import GridWorker, Jurisdiction, Venue

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

CITY = "990000"
TOWNS = {"in": "990000001", "out": "990000002"}
OUTSIDE_MARKERS = ("990000002", "OUT-", "outside_")
PASSWORD = "correct-horse-42"
SIDE_PREFIX = {"in": "IN", "out": "OUT"}
# West half (in) and east half (out) of a 0.2° square around Dongguan's longitude.
CENTRE = {"in": (113.05, 23.1), "out": (113.15, 23.1)}

_counter = itertools.count(1)


def use_cheap_hasher() -> None:
    set_hasher(CHEAP_HASHER)


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
    }


def _boundary(side: str) -> dict[str, Any]:
    return square(113.0, 23.0, 113.1, 23.2) if side == "in" else square(113.1, 23.0, 113.2, 23.2)


@dataclass
class City:
    """Ids and codes of the objects of each side (``in`` / ``out``)."""

    database: Database
    ids: dict[str, int] = field(default_factory=dict)  # "venue:in" -> id
    codes: dict[str, str] = field(default_factory=dict)  # "venue:in" -> code
    paths: dict[str, str] = field(default_factory=dict)  # "grid:in" -> path

    def id(self, kind: str, side: str) -> int:
        return self.ids[f"{kind}:{side}"]

    def code(self, kind: str, side: str) -> str:
        return self.codes[f"{kind}:{side}"]


def _jurisdiction(
    session: Any, code: str, level: str, parent: Jurisdiction | None, side: str, name: str
) -> Jurisdiction:
    path = f"{parent.path if parent else '/'}{code}/"
    lon, lat = CENTRE.get(side, (113.1, 23.1))
    row = Jurisdiction(
        code=code,
        level=level,
        parent_id=parent.id if parent else None,
        path=path,
        name_zh=name,
        name_en=name,
        center_lon=lon,
        center_lat=lat,
        boundary=_boundary(side) if side in CENTRE else square(113.0, 23.0, 113.2, 23.2),
    )
    session.add(row)
    session.flush()
    return row


def add_grid(session: Any, city: City, side: str) -> Jurisdiction:
    """A fresh grid in the village of ``side`` (for tests that delete one)."""
    village = session.get(Jurisdiction, city.id("village", side))
    n = next(_counter)
    return _jurisdiction(session, f"{village.code}{n + 50:02d}", "grid", village, side, f"g{n}")


def add_object(session: Any, city: City, kind: str, side: str) -> Any:
    """A fresh object of ``kind`` in the grid of ``side``; returns the row (flushed)."""
    n = next(_counter)
    prefix = SIDE_PREFIX[side]
    grid_id = city.id("grid", side)
    path = city.paths[f"grid:{side}"]
    lon, lat = CENTRE[side]
    row: Any
    if kind == "grid":
        return add_grid(session, city, side)
    if kind == "venue":
        row = Venue(
            code=f"{prefix}-V{n}",
            name=f"{prefix}-venue {n}",
            lon=lon,
            lat=lat,
            jurisdiction_path=path,
            jurisdiction_id=grid_id,
            category="factory",
        )
    elif kind == "station":
        row = Station(
            code=f"{prefix}-S{n}",
            name=f"{prefix}-station {n}",
            station_type="standard",
            force_kind="state",
            lon=lon,
            lat=lat,
            jurisdiction_path=path,
            jurisdiction_id=grid_id,
        )
    elif kind == "hydrant":
        row = Hydrant(
            code=f"{prefix}-H{n}", lon=lon, lat=lat, jurisdiction_path=path, jurisdiction_id=grid_id
        )
    elif kind == "logistics_point":
        row = LogisticsPoint(
            code=f"{prefix}-L{n}",
            name=f"{prefix}-logistics {n}",
            lon=lon,
            lat=lat,
            jurisdiction_path=path,
            jurisdiction_id=grid_id,
        )
    elif kind == "vehicle":
        row = Vehicle(
            code=f"{prefix}-T{n}",
            station_id=city.id("station", side),
            vehicle_type="pumper",
            call_sign=f"{prefix}-call {n}",
            jurisdiction_path=path,
        )
    elif kind == "device":
        row = Device(
            code=f"{prefix}-D{n}",
            kind="smoke_alarm",
            protocol="http",
            external_id=f"{prefix}-X{n}",
            venue_id=city.id("venue", side),
            jurisdiction_path=path,
        )
    elif kind == "grid_worker":
        row = GridWorker(
            code=f"{prefix}-W{n}",
            name=f"{prefix}-worker {n}",
            phone="13800000000",
            grid_id=grid_id,
            jurisdiction_path=path,
        )
    elif kind == "user":
        user, _ = create_user(
            session,
            system_principal("test"),
            username=f"{'inside' if side == 'in' else 'outside'}_user{n}",
            role="dispatcher",
            scope_code=city.code("town", side),
            password=PASSWORD,
        )
        return user
    elif kind == "apikey":
        from firegrid.accounts.service import create_api_key

        return create_api_key(
            session,
            system_principal("test"),
            name=f"{prefix}-key {n}",
            role="integration",
            scope_code=city.code("town", side),
            routes=["/api/v1/devices"],
        ).key
    else:
        raise KeyError(kind)
    session.add(row)
    session.flush()
    return row


FIXED_KINDS = (
    "venue",
    "station",
    "hydrant",
    "logistics_point",
    "vehicle",
    "device",
    "grid_worker",
    "user",
    "apikey",
)


def build_city(database: Database) -> City:
    """The city, its two towns with a village and a grid each, and one of every object."""
    city = City(database)
    with database.session() as session:
        root = _jurisdiction(session, CITY, "city", None, "city", "Testcity")
        city.ids["city:in"] = root.id
        city.codes["city:in"] = CITY
        for side, town_code in TOWNS.items():
            name = "Westin" if side == "in" else "Eastout"
            town = _jurisdiction(session, town_code, "town", root, side, f"{name} town")
            village = _jurisdiction(session, f"{town_code}001", "village", town, side, f"{name} v")
            grid = _jurisdiction(session, f"{town_code}00101", "grid", village, side, f"{name} g")
            for kind, row in (("town", town), ("village", village), ("grid", grid)):
                city.ids[f"{kind}:{side}"] = row.id
                city.codes[f"{kind}:{side}"] = row.code
                city.paths[f"{kind}:{side}"] = row.path
            city.ids[f"jurisdiction:{side}"] = town.id
            for kind in FIXED_KINDS:
                row = add_object(session, city, kind, side)
                city.ids[f"{kind}:{side}"] = row.id
                city.codes[f"{kind}:{side}"] = getattr(row, "code", None) or getattr(
                    row, "username", getattr(row, "name", "")
                )
    return city


def make_user(
    database: Database,
    username: str,
    role: str,
    scope_code: str,
    *,
    password: str = PASSWORD,
    venue_ids: tuple[int, ...] = (),
) -> int:
    with database.session() as session:
        user, _ = create_user(
            session,
            system_principal("test"),
            username=username,
            role=role,
            scope_code=scope_code,
            password=password,
            venue_ids=venue_ids,
        )
        return user.id


def token_for(database: Database, settings: Settings, user_id: int) -> str:
    """A fresh session and access token for ``user_id`` (no password hashing)."""
    with database.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        return start_token_session(session, settings, user).access_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
