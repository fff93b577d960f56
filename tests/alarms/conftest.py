"""Fixtures of the alarms tests: the two-town city, a frozen clock, events and a correlator."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.alarms.directory import DatabaseDirectory
from firegrid.alarms.rules import Policy, default_policy
from firegrid.alarms.service import Correlator
from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.devices.models import Device
from firegrid.ingest.events import Component, DeviceEvent, EventKind
from tests.accounts.city import City, bearer, build_city, make_user, token_for, use_cheap_hasher

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
_ids = itertools.count(1)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


class FrozenClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def event(
    kind: EventKind | str,
    *,
    venue_id: int | None,
    device_id: int | None,
    path: str,
    at: datetime = T0,
    address: int | None = 1,
    loop: int | None = 1,
    values: dict[str, Any] | None = None,
    external_id: str | None = None,
    event_id: str | None = None,
) -> DeviceEvent:
    n = next(_ids)
    return DeviceEvent(
        event_id=event_id or f"test:{n}",
        device_id=device_id,
        external_id=external_id or f"X{device_id}",
        protocol="http",
        venue_id=venue_id,
        jurisdiction_path=path,
        occurred_at=at,
        received_at=at,
        kind=EventKind(kind),
        component=Component(
            system_type=1, system_address=1, component_type=30, component_address=address, loop=loop
        ),
        values=values or {},
    )


@dataclass
class Site:
    """A venue of the test city with its devices (smoke alarm, transmitter, sprinkler)."""

    venue_id: int
    path: str
    smoke: int
    transmitter: int
    sprinkler: int
    grid_id: int

    def ev(self, kind: EventKind | str, device: str = "transmitter", **kw: Any) -> DeviceEvent:
        return event(
            kind, venue_id=self.venue_id, device_id=getattr(self, device), path=self.path, **kw
        )


def add_device(db: Database, city: City, side: str, kind: str, venue_id: int) -> int:
    n = next(_ids)
    with db.session() as session:
        row = Device(
            code=f"AL-{side}-{kind}-{n}",
            kind=kind,
            protocol="http",
            external_id=f"AL{n}",
            venue_id=venue_id,
            jurisdiction_path=city.paths[f"grid:{side}"],
        )
        session.add(row)
        session.flush()
        return row.id


def make_site(db: Database, city: City, side: str = "in") -> Site:
    venue_id = city.id("venue", side)
    return Site(
        venue_id=venue_id,
        path=city.paths[f"grid:{side}"],
        smoke=add_device(db, city, side, "smoke_alarm", venue_id),
        transmitter=add_device(db, city, side, "transmitter", venue_id),
        sprinkler=add_device(db, city, side, "sprinkler_pressure", venue_id),
        grid_id=city.id("grid", side),
    )


@pytest.fixture
def city(db: Database) -> City:
    return build_city(db)


@pytest.fixture
def site(db: Database, city: City) -> Site:
    return make_site(db, city, "in")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def policy() -> Policy:
    return default_policy()


@pytest.fixture
def correlator(clock: FrozenClock, policy: Policy) -> Correlator:
    return Correlator(DatabaseDirectory(), policy=policy, clock=clock)


def feed_events(db: Database, correlator: Correlator, *events: DeviceEvent) -> None:
    with db.session() as session:
        correlator.process(session, list(events))


@pytest.fixture
def app(settings: Settings, db: Database, city: City, clock: FrozenClock) -> FastAPI:
    application = create_app(settings, db)
    application.state.alarms_clock = clock
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@dataclass
class Users:
    operator: dict[str, str]
    outsider: dict[str, str]
    worker: dict[str, str]
    admin: dict[str, str]
    dispatcher: dict[str, str]


@pytest.fixture
def users(db: Database, settings: Settings, city: City) -> Users:
    def header(name: str, role: str, scope: str) -> dict[str, str]:
        return bearer(token_for(db, settings, make_user(db, name, role, scope)))

    return Users(
        operator=header("operator_in", "monitor_operator", city.code("town", "in")),
        outsider=header("operator_out", "monitor_operator", city.code("town", "out")),
        worker=header("worker_in", "grid_worker", city.code("grid", "in")),
        admin=header("admin_city", "admin", city.code("city", "in")),
        dispatcher=header("dispatcher_in", "dispatcher", city.code("town", "in")),
    )
