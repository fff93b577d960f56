"""Fire-appliance speeds per road class, as data.

The table gives the free-flow speed a loaded fire engine holds on each road class (lower
than a car: mass, braking, junctions taken with caution). A posted ``maxspeed`` replaces the
class speed where present, capped by ``max_speed_kph``. ``peak_factor`` (0 < f <= 1) scales
every speed for peak-hour congestion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from firegrid.geo.errors import GeoError
from firegrid.geo.network import RoadClass

FloatArray = npt.NDArray[np.float64]

DEFAULT_SPEED_KPH: Mapping[RoadClass, float] = MappingProxyType(
    {
        RoadClass.MOTORWAY: 80.0,
        RoadClass.TRUNK: 65.0,
        RoadClass.PRIMARY: 50.0,
        RoadClass.SECONDARY: 45.0,
        RoadClass.TERTIARY: 40.0,
        RoadClass.UNCLASSIFIED: 30.0,
        RoadClass.RESIDENTIAL: 25.0,
        RoadClass.SERVICE: 15.0,
        RoadClass.LIVING_STREET: 10.0,
        RoadClass.MOTORWAY_LINK: 45.0,
        RoadClass.TRUNK_LINK: 40.0,
        RoadClass.PRIMARY_LINK: 35.0,
        RoadClass.SECONDARY_LINK: 30.0,
        RoadClass.TERTIARY_LINK: 30.0,
    }
)


@dataclass(frozen=True)
class SpeedTable:
    """Speed of a fire engine per road class, with a peak-hour factor.

    Parameters
    ----------
    speed_kph
        Free-flow speed per road class, km/h.
    peak_factor
        Multiplier applied to every speed (1.0 off-peak, e.g. 0.6 at peak hour).
    max_speed_kph
        Upper bound for a posted ``maxspeed`` (heavy appliances are governed).
    """

    speed_kph: Mapping[RoadClass, float] = field(default_factory=lambda: DEFAULT_SPEED_KPH)
    peak_factor: float = 1.0
    max_speed_kph: float = 90.0

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 < self.peak_factor <= 1.0:
            problems.append(f"peak_factor must be in (0, 1], got {self.peak_factor!r}")
        if not self.max_speed_kph > 0.0:
            problems.append(f"max_speed_kph must be positive, got {self.max_speed_kph!r}")
        missing = [c.name for c in RoadClass if c not in self.speed_kph]
        if missing:
            problems.append(f"speed_kph has no speed for {', '.join(missing)}")
        bad = [f"{RoadClass(c).name}={v!r}" for c, v in self.speed_kph.items() if not v > 0.0]
        if bad:
            problems.append(f"speeds must be positive: {', '.join(bad)}")
        if problems:
            raise GeoError("invalid speed table: " + "; ".join(problems))

    def at_peak(self, peak_factor: float) -> SpeedTable:
        """Return the same table with another peak factor."""
        return replace(self, peak_factor=peak_factor)

    def lookup(self) -> FloatArray:
        """Class speeds as an array indexed by ``RoadClass`` value (before the peak factor)."""
        table = np.zeros(max(RoadClass) + 1, dtype=np.float64)
        for road_class, speed in self.speed_kph.items():
            table[int(road_class)] = speed
        return table

    def speeds_kph(
        self,
        road_class: npt.ArrayLike,
        maxspeed_kph: npt.ArrayLike | None = None,
    ) -> FloatArray:
        """Effective speed per edge: posted limit (NaN = none) or class speed, times peak factor."""
        classes = np.asarray(road_class, dtype=np.intp)
        speed = self.lookup()[classes]
        if maxspeed_kph is not None:
            posted = np.asarray(maxspeed_kph, dtype=np.float64)
            use = np.isfinite(posted) & (posted > 0)
            speed = np.where(use, np.minimum(posted, self.max_speed_kph), speed)
        return np.asarray(speed * self.peak_factor, dtype=np.float64)
