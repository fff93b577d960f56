"""Fixtures of the preplans tests: the dispatch tests' three-town city with a road network,
plus hydrants around the east venue, a registered device there and an open alarm."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.alarms.models import Alarm
from firegrid.api.app import create_app
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.devices.models import Device
from firegrid.dispatch.models import Hydrant
from firegrid.places.models import Venue
from tests.accounts.city import bearer, make_user, token_for, use_cheap_hasher
from tests.dispatch.city import DCity, build_dispatch_city, network

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


@dataclass
class PCity:
    dcity: DCity
    device_id: int
    alarm_id: int
    hydrant_ids: list[int]

    @property
    def venues(self) -> dict[str, int]:
        return self.dcity.venues


def _add_hydrants(session: Any, venue: Venue) -> list[int]:
    """Hydrants on road nodes at increasing straight-line distances from the venue."""
    net = network()
    cos = np.cos(np.radians(venue.lat))
    d = np.hypot((net.node_lon - venue.lon) * 111_320 * cos, (net.node_lat - venue.lat) * 110_574)
    ids = []
    for n, target in enumerate((20.0, 60.0, 110.0, 140.0, 250.0, 400.0)):
        node = int(np.argmin(np.abs(d - target)))
        h = Hydrant(
            code=f"H-{n}",
            lon=float(net.node_lon[node]),
            lat=float(net.node_lat[node]),
            jurisdiction_id=1,
            jurisdiction_path=venue.jurisdiction_path,
        )
        session.add(h)
        session.flush()
        ids.append(h.id)
    return ids


@pytest.fixture
def pcity(db: Database) -> PCity:
    dcity = build_dispatch_city(db)
    now = utcnow()
    with db.session() as session:
        venue = session.get(Venue, dcity.venues["east"])
        assert venue is not None
        # stand the venue 10 m off its nearest road node (the generated roads are sparse)
        net = network()
        node = int(np.argmin((net.node_lon - venue.lon) ** 2 + (net.node_lat - venue.lat) ** 2))
        venue.lon, venue.lat = float(net.node_lon[node]) + 0.0001, float(net.node_lat[node])
        hydrants = _add_hydrants(session, venue)
        device = Device(
            code="DEV-EAST-1",
            kind="user_transmission",
            protocol="gb26875",
            external_id="EAST0001",
            venue_id=venue.id,
            install_location="消防控制室",
            jurisdiction_path=venue.jurisdiction_path,
        )
        session.add(device)
        session.flush()
        alarm = Alarm(
            kind="fire",
            status="new",
            fold_key=f"d{device.id}",
            venue_id=venue.id,
            device_id=device.id,
            device_kind="smoke_detector",
            jurisdiction_path=venue.jurisdiction_path,
            opened_at=now,
            first_received_at=now,
            last_event_at=now,
        )
        session.add(alarm)
        session.flush()
        return PCity(dcity, device.id, alarm.id, hydrants)


@pytest.fixture
def app(settings: Settings, db: Database, pcity: PCity) -> FastAPI:
    return create_app(settings, db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def headers(
    db: Database,
    settings: Settings,
    pcity: PCity,
    role: str,
    key: str,
    venue_ids: tuple[int, ...] = (),
) -> dict[str, str]:
    name = f"{role}_{key.replace(':', '_')}_{len(venue_ids)}"
    uid = make_user(db, name, role, pcity.dcity.codes[key], venue_ids=venue_ids)
    return bearer(token_for(db, settings, uid))


def document(pcity: PCity, **extra: Any) -> dict[str, Any]:
    """A plan document for the east venue (Chinese text, a drawn staging area)."""
    lon, lat = 113.25, 23.075
    return {
        "summary": "28层办公楼，地下两层车库",
        "buildings": [
            {
                "name": "A栋",
                "use": "办公",
                "construction": "框架",
                "height_m": 98,
                "floors_above": 28,
                "floors_below": 2,
                "occupancy_day": 1200,
                "occupancy_night": 40,
                "floors": [{"level": -2, "use": "车库"}],
            }
        ],
        "fire_protection": {
            "control_room": {"location": "一层东侧", "phone": "0769-12345678"},
            "standpipes": [{"name": "1#立管", "location": "东楼梯", "inlet_location": "北门外"}],
            "sprinkler_zones": [{"name": "地下车库", "covers": "B1-B2", "valve_location": "B1"}],
            "alarm_panels": [{"name": "主机", "location": "控制室", "device_id": pcity.device_id}],
        },
        "hazmats": [
            {
                "name": "柴油",
                "un_number": "UN1202",
                "quantity": 2,
                "unit": "t",
                "location": "B2发电机房",
                "hazard_class": "3",
            }
        ],
        "utilities": [{"utility": "electricity", "location": "B1配电室"}],
        "contacts": [{"name": "王经理", "role": "消防安全管理人", "phone": "13800000001"}],
        "special_hazards": ["地下车库排烟不足"],
        "tactics": "登高车停北侧广场",
        "map_features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon + 0.0005, lat + 0.0005]},
                "properties": {"kind": "staging_area", "label": "集结区"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon - 0.0003, lat]},
                "properties": {"kind": "aerial_position", "label": "登高面"},
            },
        ],
        **extra,
    }
