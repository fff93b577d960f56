"""The size of the synthetic demo city, with Dongguan's published figures as defaults.

Dongguan (东莞市): 33 towns, streets and parks; 593 villages and communities; 2,952 base
grids; 9,066 grid workers on duty (2017 CPPCC proposal and its official replies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.dispatch.models import StationType

DONGGUAN_TOWNS = 33

DEFAULT_STATIONS: dict[str, int] = {
    StationType.SPECIAL.value: 4,
    StationType.STANDARD.value: 30,
    StationType.SECONDARY.value: 30,
    StationType.SMALL.value: 16,
    StationType.MICRO.value: 20,
}


@dataclass(frozen=True)
class DemoSpec:
    """How many of everything the demo city gets.

    ``venues``, ``hydrants`` and the device shares scale with :meth:`scaled`; the
    jurisdiction tree and the fire stations keep Dongguan's size at every scale.
    """

    towns: int = DONGGUAN_TOWNS
    villages: int = 593
    grids: int = 2_952
    grid_workers: int = 9_066
    venues: int = 50_000
    hydrants: int = 25_000
    stations: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_STATIONS))
    population: int = 10_500_000
    #: share of three-small venues and rental houses with standalone smoke alarms
    smoke_alarm_share: float = 0.20
    #: share of key units with sprinkler pressure sensors
    sprinkler_key_unit_share: float = 0.40
    #: share of three-small venues and rental houses with a simple sprinkler sensor
    sprinkler_small_share: float = 0.03
    #: share of factories and workshops with electrical fire monitoring
    electrical_factory_share: float = 0.25
    #: extra room-level standard addresses per rental house / residential building
    rooms_per_rental: int = 2
    rooms_per_residential: int = 4
    #: Lloyd relaxation rounds used to make village and grid cells regular
    relax_iterations: int = 2
    #: size of the generated road network that hydrants stand along
    road_nodes: int = 250_000
    #: creation time written on every row (fixed, so a build is byte-identical)
    as_of: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    scale: float = 1.0

    def __post_init__(self) -> None:
        problems: dict[str, str] = {}
        if not 1 <= self.towns <= DONGGUAN_TOWNS:
            problems["towns"] = f"must be between 1 and {DONGGUAN_TOWNS}"
        if self.villages < self.towns:
            problems["villages"] = "must be at least the number of towns"
        if self.grids < self.villages:
            problems["grids"] = "must be at least the number of villages"
        if self.grid_workers < self.grids:
            problems["grid_workers"] = "every grid needs a worker: at least the number of grids"
        if self.venues < 1:
            problems["venues"] = "must be positive"
        if self.road_nodes < 100:
            problems["road_nodes"] = "the road network needs at least 100 nodes"
        if self.hydrants < 0:
            problems["hydrants"] = "must not be negative"
        if any(n < 0 for n in self.stations.values()) or sum(self.stations.values()) < 1:
            problems["stations"] = "needs at least one station and no negative counts"
        unknown = set(self.stations) - {t.value for t in StationType}
        if unknown:
            problems["stations"] = f"unknown station types {sorted(unknown)}"
        for name in (
            "smoke_alarm_share",
            "sprinkler_key_unit_share",
            "sprinkler_small_share",
            "electrical_factory_share",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems[name] = "must be a share between 0 and 1"
        if self.as_of.tzinfo is None:
            problems["as_of"] = "must be timezone-aware"
        if problems:
            raise ValidationFailed(
                "invalid demo city spec",
                problems,
                text=TextCode.VALIDATION_FIELDS,
                params={"fields": sorted(problems)},
            )

    @classmethod
    def dongguan(cls) -> DemoSpec:
        """Dongguan's published sizes (the default)."""
        return cls()

    @classmethod
    def tiny(cls) -> DemoSpec:
        """A small city for tests: builds in about a second."""
        return cls(
            towns=3,
            villages=9,
            grids=27,
            grid_workers=60,
            venues=600,
            hydrants=300,
            stations={
                StationType.SPECIAL.value: 1,
                StationType.STANDARD.value: 1,
                StationType.SECONDARY.value: 1,
                StationType.SMALL.value: 1,
                StationType.MICRO.value: 2,
            },
            population=120_000,
            road_nodes=3_000,
        )

    def scaled(self, scale: float) -> DemoSpec:
        """The same city with ``scale`` times the venues, hydrants (and so devices)."""
        if not math.isfinite(scale) or scale <= 0:
            raise ValidationFailed(
                "scale must be a positive number",
                {"scale": scale},
                text=TextCode.VALIDATION_RANGE,
                params={"field": "scale", "min": 0, "max": None},
            )
        return replace(
            self,
            venues=max(1, round(self.venues * scale)),
            hydrants=round(self.hydrants * scale),
            scale=self.scale * scale,
        )

    @property
    def station_count(self) -> int:
        return sum(self.stations.values())
