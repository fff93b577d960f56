"""A three-town test city with a generated road network, stations, vehicles, venues,
standard addresses and users at city, town and village level.

Towns West, Middle and East sit side by side (West and East do not touch); each has a north
and a south village with one grid each. West has a special station (command, hazmat).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from shapely.geometry import box

from firegrid.accounts.principal import Principal
from firegrid.core.db import Database
from firegrid.dispatch.models import Station, Vehicle
from firegrid.geo.generate import generate_city_network
from firegrid.geo.network import RoadNetwork
from firegrid.geo.store import save_network
from firegrid.places.models import Building, Jurisdiction, StandardAddress, Venue

CITY = "800000"
TOWNS = {
    "west": ("800000001", 113.0, "西镇"),
    "middle": ("800000002", 113.1, "中镇"),
    "east": ("800000003", 113.2, "东镇"),
}
Y0, YM, Y1 = 23.0, 23.05, 23.1
ROAD = "人民路"

FLEET = {
    "special": ["pumper", "pumper", "tanker", "ladder", "rescue", "hazmat", "command", "foam"],
    "standard": ["pumper", "pumper", "tanker", "ladder", "rescue"],
    "small": ["pumper", "tanker"],
    "micro": ["pumper"],
}
CAPS = {
    "pumper": ["water", "pump"],
    "tanker": ["water", "pump", "water_supply"],
    "ladder": ["aerial", "water"],
    "rescue": ["rescue"],
    "hazmat": ["hazmat", "rescue"],
    "command": ["command"],
    "foam": ["foam", "water", "pump"],
}
#: (town, village side, station type, x fraction in town, y fraction in village)
STATIONS = [
    ("west", "n", "special", 0.5, 0.5),
    ("west", "s", "standard", 0.3, 0.4),
    ("west", "s", "micro", 0.8, 0.7),
    ("middle", "n", "standard", 0.4, 0.6),
    ("middle", "s", "small", 0.6, 0.3),
    ("middle", "n", "micro", 0.9, 0.2),
    ("east", "n", "standard", 0.5, 0.5),
    ("east", "s", "small", 0.2, 0.5),
    ("east", "s", "micro", 0.7, 0.8),
]


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@cache
def network() -> RoadNetwork:
    return generate_city_network(box(113.0, 23.0, 113.3, 23.1), seed=11, target_nodes=3000)


@dataclass
class DCity:
    database: Database
    paths: dict[str, str] = field(default_factory=dict)  # "town:west", "village:west:n", ...
    codes: dict[str, str] = field(default_factory=dict)
    stations: dict[int, dict[str, Any]] = field(default_factory=dict)
    vehicles: dict[int, dict[str, Any]] = field(default_factory=dict)
    venues: dict[str, int] = field(default_factory=dict)

    def principal(self, role: str, key: str) -> Principal:
        path = self.paths[key]
        return Principal(f"user:{key}", key.replace(":", "_"), role, path, self.codes[key])


def _jurisdiction(
    session: Any,
    code: str,
    level: str,
    parent: Jurisdiction | None,
    boundary: dict[str, Any],
    name: str,
) -> Jurisdiction:
    ring = boundary["coordinates"][0]
    row = Jurisdiction(
        code=code,
        level=level,
        parent_id=parent.id if parent else None,
        path=f"{parent.path if parent else '/'}{code}/",
        name_zh=name,
        name_en=name,
        center_lon=(ring[0][0] + ring[2][0]) / 2,
        center_lat=(ring[0][1] + ring[2][1]) / 2,
        boundary=boundary,
    )
    session.add(row)
    session.flush()
    return row


def build_dispatch_city(database: Database) -> DCity:
    city = DCity(database)
    net = network()
    save_network(database, net, source="test city")
    counter = itertools.count(1)
    with database.session() as session:
        root = _jurisdiction(session, CITY, "city", None, square(113.0, Y0, 113.3, Y1), "测试市")
        city.paths["city"], city.codes["city"] = root.path, root.code
        grids: dict[str, Jurisdiction] = {}
        for town_key, (code, x0, name) in TOWNS.items():
            town = _jurisdiction(session, code, "town", root, square(x0, Y0, x0 + 0.1, Y1), name)
            city.paths[f"town:{town_key}"], city.codes[f"town:{town_key}"] = town.path, code
            for side, (ya, yb) in (("n", (YM, Y1)), ("s", (Y0, YM))):
                vcode = f"{code}00{1 if side == 'n' else 2}"
                vname = f"{name[0]}{'北' if side == 'n' else '南'}村"
                village = _jurisdiction(
                    session, vcode, "village", town, square(x0, ya, x0 + 0.1, yb), vname
                )
                grid = _jurisdiction(
                    session,
                    f"{vcode}01",
                    "grid",
                    village,
                    square(x0, ya, x0 + 0.1, yb),
                    f"{vname}网格",
                )
                key = f"{town_key}:{side}"
                city.paths[f"village:{key}"], city.codes[f"village:{key}"] = village.path, vcode
                city.paths[f"grid:{key}"] = grid.path
                grids[key] = grid
        for n, (town_key, side, stype, fx, fy) in enumerate(STATIONS):
            x0 = TOWNS[town_key][1]
            ya, yb = (YM, Y1) if side == "n" else (Y0, YM)
            lon, lat = x0 + 0.1 * fx, ya + (yb - ya) * fy
            # stand on the nearest road node, 40 m off it (the engine adds the leg)
            d = (net.node_lon - lon) ** 2 + (net.node_lat - lat) ** 2
            node = int(np.argmin(d))
            lon, lat = float(net.node_lon[node]) + 0.0004, float(net.node_lat[node])
            lon = min(max(lon, x0 + 0.0001), x0 + 0.0999)
            grid = grids[f"{town_key}:{side}"]
            if not (ya < lat < yb):
                lat = min(max(lat, ya + 0.0001), yb - 0.0001)
            station = Station(
                code=f"S{n + 1:02d}",
                name=f"{TOWNS[town_key][2]}{stype}站{n + 1}",
                station_type=stype,
                force_kind="state" if stype != "micro" else "volunteer",
                lon=lon,
                lat=lat,
                jurisdiction_path=grid.path,
                jurisdiction_id=grid.id,
            )
            session.add(station)
            session.flush()
            city.stations[station.id] = {
                "code": station.code,
                "town": town_key,
                "path": grid.path,
                "lon": lon,
                "lat": lat,
            }
            for vtype in FLEET[stype]:
                k = next(counter)
                vehicle = Vehicle(
                    code=f"V{k:03d}",
                    station_id=station.id,
                    vehicle_type=vtype,
                    call_sign=f"{station.code}-{vtype}-{k}",
                    crew=4,
                    capabilities=CAPS[vtype],
                    jurisdiction_path=grid.path,
                )
                session.add(vehicle)
                session.flush()
                city.vehicles[vehicle.id] = {
                    "code": vehicle.code,
                    "type": vtype,
                    "station_id": station.id,
                    "town": town_key,
                }
        # venues with buildings, and standard addresses on 人民路 in each town
        for town_key, (_code, x0, name) in TOWNS.items():
            grid = grids[f"{town_key}:n"]
            lon, lat = x0 + 0.05, 23.075
            venue = Venue(
                code=f"VEN-{town_key}",
                name=f"{name}高层大厦",
                address=f"{name}{ROAD}8号",
                jurisdiction_id=grid.id,
                jurisdiction_path=grid.path,
                category="high_rise_office",
                is_key_unit=True,
                floors=28,
                lon=lon,
                lat=lat,
                contact_phone="13800000000",
            )
            session.add(venue)
            session.flush()
            city.venues[town_key] = venue.id
            session.add(
                Building(
                    venue_id=venue.id,
                    name="A栋",
                    floors_above=28,
                    floors_below=2,
                    height_m=98.0,
                    structure="frame",
                    lon=lon,
                    lat=lat,
                )
            )
            village_name = f"{name[0]}北村"
            for number in (8, 12, 20):
                session.add(
                    StandardAddress(
                        code=f"ADDR-{town_key}-{number}",
                        town=name,
                        village=village_name,
                        road=ROAD,
                        number=str(number),
                        full_text=f"{name}{village_name}{ROAD}{number}号",
                        lon=lon + 0.001 * (number - 8) / 4,
                        lat=lat,
                        jurisdiction_path=grid.path,
                    )
                )
    return city
