"""Connected devices of the demo city, bound to venues.

* every key unit: one user information transmission device (GB/T 26875.3), identified by
  its 6-byte source address written as a decimal string;
* a share of three-small venues and rental houses: 1-4 standalone smoke alarms (NB-IoT,
  MQTT or HTTP push through a carrier platform), identified by a 15-digit IMEI;
* sprinkler pressure sensors in some key units and a few small venues, electrical fire
  monitors in some factories and workshops (MQTT, IMEI-like ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from firegrid.demo.categories import FACTORY_LIKE, INDEX, THREE_SMALL
from firegrid.demo.geometry import IntArray
from firegrid.demo.jurisdictions import Tree
from firegrid.demo.names import INSTALL_SPOTS, luhn_check_digits
from firegrid.demo.spec import DemoSpec
from firegrid.demo.venues import RowFn, VenueSet
from firegrid.devices.models import DeviceKind, DeviceProtocol

#: type allocation codes (first 8 IMEI digits) of the simulated NB-IoT modules
_TACS = np.array(
    [86_612_345, 86_700_112, 86_798_003, 86_881_230, 86_920_456, 86_977_801], dtype=np.int64
)
_SERIALS = 1_000_000
_KINDS = list(DeviceKind)
_PROTOCOLS = list(DeviceProtocol)


@dataclass
class DeviceSet:
    venue: IntArray  # index into the venue set
    kind: IntArray  # index into DeviceKind
    protocol: IntArray  # index into DeviceProtocol
    external_id: list[str]
    spot: IntArray  # install spot, -1 for the fire control room

    def __len__(self) -> int:
        return len(self.venue)


def generate_devices(venues: VenueSet, spec: DemoSpec, rng: np.random.Generator) -> DeviceSet:
    cat = venues.category
    small = np.isin(cat, [INDEX[c] for c in (*THREE_SMALL, "rental_housing")])
    factory = np.isin(cat, [INDEX[c] for c in FACTORY_LIKE])
    key = np.flatnonzero(venues.is_key_unit)

    smoke_venues = np.flatnonzero(small & (rng.random(len(venues)) < spec.smoke_alarm_share))
    smoke_per = rng.integers(1, 5, len(smoke_venues))
    sprinkler_key = key[rng.random(len(key)) < spec.sprinkler_key_unit_share]
    sprinkler_key_per = rng.integers(1, 3, len(sprinkler_key))
    sprinkler_small = np.flatnonzero(small & (rng.random(len(venues)) < spec.sprinkler_small_share))
    electrical = np.flatnonzero(factory & (rng.random(len(venues)) < spec.electrical_factory_share))

    groups = [
        (key, np.ones(len(key), dtype=np.int64), DeviceKind.TRANSMITTER),
        (smoke_venues, smoke_per, DeviceKind.SMOKE_ALARM),
        (sprinkler_key, sprinkler_key_per, DeviceKind.SPRINKLER_PRESSURE),
        (
            sprinkler_small,
            np.ones(len(sprinkler_small), dtype=np.int64),
            DeviceKind.SPRINKLER_PRESSURE,
        ),
        (electrical, np.ones(len(electrical), dtype=np.int64), DeviceKind.ELECTRICAL_MONITOR),
    ]
    venue = np.concatenate([np.repeat(v, per) for v, per, _ in groups])
    kind = np.concatenate([np.full(int(per.sum()), _KINDS.index(k)) for _, per, k in groups])
    # a venue's devices together, in venue order; kinds keep their group order
    order = np.lexsort((kind, venue))
    venue, kind = venue[order], kind[order]
    n = len(venue)

    transmitter = kind == _KINDS.index(DeviceKind.TRANSMITTER)
    smoke = kind == _KINDS.index(DeviceKind.SMOKE_ALARM)
    protocol = np.where(
        transmitter,
        _PROTOCOLS.index(DeviceProtocol.GB26875),
        np.where(
            smoke & (rng.random(n) < 0.6),
            _PROTOCOLS.index(DeviceProtocol.HTTP),
            _PROTOCOLS.index(DeviceProtocol.MQTT),
        ),
    ).astype(np.int64)

    external = np.empty(n, dtype=object)
    external[transmitter] = [str(a) for a in _unique_addresses(int(transmitter.sum()), rng)]
    external[~transmitter] = _imeis(int((~transmitter).sum()), rng)
    spot = np.where(transmitter, -1, rng.integers(0, len(INSTALL_SPOTS), n))
    return DeviceSet(venue, kind, protocol, external.tolist(), spot)


def _unique_addresses(n: int, rng: np.random.Generator) -> list[int]:
    """``n`` distinct 48-bit source addresses."""
    values = rng.integers(1, 1 << 48, n, dtype=np.int64)
    while len(np.unique(values)) < n:
        _, first = np.unique(values, return_index=True)
        dup = np.setdiff1d(np.arange(n), first)
        values[dup] = rng.integers(1, 1 << 48, len(dup), dtype=np.int64)
    return [int(v) for v in values]


def _imeis(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct 15-digit IMEIs (TAC, serial, Luhn check digit)."""
    space = len(_TACS) * _SERIALS
    if n > space:
        raise ValueError(f"at most {space} IMEIs can be generated")
    picks = rng.choice(space, size=n, replace=False)
    bodies = _TACS[picks // _SERIALS] * _SERIALS + picks % _SERIALS
    check = luhn_check_digits(bodies, 14)
    return [f"{b:014d}{c}" for b, c in zip(bodies.tolist(), check.tolist(), strict=True)]


def device_rows(tree: Tree, venues: VenueSet, devices: DeviceSet, common: dict[str, Any]) -> RowFn:
    grids = tree.grids

    def rows(start: int, stop: int) -> list[dict[str, Any]]:
        out = []
        for i in range(start, stop):
            v = int(devices.venue[i])
            spot = int(devices.spot[i])
            out.append(
                {
                    "id": i + 1,
                    "code": f"D{i + 1:08d}",
                    "kind": _KINDS[int(devices.kind[i])].value,
                    "protocol": _PROTOCOLS[int(devices.protocol[i])].value,
                    "external_id": devices.external_id[i],
                    "venue_id": int(venues.ids[v]),
                    "install_location": "消防控制室" if spot < 0 else INSTALL_SPOTS[spot],
                    "jurisdiction_path": grids.paths[int(venues.grid[v])],
                    **common,
                }
            )
        return out

    return rows
