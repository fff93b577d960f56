"""The what-if's hot path: dispatch's recommendation on numpy arrays of the whole fleet.

:func:`firegrid.dispatch.recommend.recommend_units` is the engine the what-if replays
through; called 60,000 times per run on 476 units, its per-unit Python comprehensions
(eligibility, ids, ETAs) were most of the replay's time. :class:`FleetArrays` holds what
does not change during a replay — unit ids, each unit's row in the station trees, and one
eligibility mask per requirement (built once, then cached) — and :meth:`FleetArrays.recommend`
answers with the **same** assignment: the same ETAs (station tree column + access leg),
the slots filled by dispatch's own :func:`firegrid.dispatch.public.assign_slots`, and the
chosen units in the same order (requirement, ETA, id), so the random draws of the replay
follow in the same order. ``tests/planning/test_fleet_arrays.py`` checks the
answer against ``recommend_units`` on many fleets and points.

Only units starting from their station are handled (what a replay has: every unit
``available_in_station``); :meth:`FleetArrays.applies` says so, and the what-if falls back
to ``recommend_units`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firegrid.dispatch.public import Plan, Requirement, Unit, assign_slots
from firegrid.geo.public import TravelTimeEngine, UnknownFacility

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

STATIONS = "stations"
ON_RADIO = "available_on_radio"


@dataclass(frozen=True)
class Picked:
    """A chosen unit: what the replay needs of dispatch's ``Choice``."""

    vehicle_id: int
    eta_s: float


@dataclass(frozen=True)
class Answer:
    """What the replay needs of dispatch's ``Recommendation``."""

    chosen: tuple[Picked, ...]
    missing: bool

    @property
    def vehicle_ids(self) -> list[int]:
        return [c.vehicle_id for c in self.chosen]


class FleetArrays:
    """The fleet of a replay as arrays, in ascending vehicle id (the order the replay
    passes its available units to ``recommend_units``)."""

    def __init__(self, engine: TravelTimeEngine, units: Sequence[Unit]) -> None:
        ordered = sorted(units, key=lambda u: u.id)
        self.units = ordered
        self.ids: IntArray = np.asarray([u.id for u in ordered], dtype=np.int64)
        self.position = {u.id: k for k, u in enumerate(ordered)}
        self.types = [u.vehicle_type for u in ordered]
        self.capabilities = [u.capabilities for u in ordered]
        self._masks: dict[tuple[str, str], BoolArray] = {}
        try:
            fs = engine.facilities(STATIONS)
        except UnknownFacility:
            fs = None
        self.station_times = None if fs is None else fs.times_s
        self.rows: IntArray = np.asarray(
            [-1 if fs is None else fs.index_of.get(u.station_id, -1) for u in ordered],
            dtype=np.int64,
        )
        self.known: BoolArray = self.rows >= 0

    def applies(self) -> bool:
        """Whether every unit is timed from its station: none is on the radio with a GPS
        fix (``recommend_units`` would search from that fix)."""
        return not any(
            u.status == ON_RADIO and u.lon is not None and u.lat is not None for u in self.units
        )

    def mask(self, req: Requirement) -> BoolArray:
        """Which units may fill ``req`` (built once per requirement)."""
        key = (req.kind, req.value)
        found = self._masks.get(key)
        if found is None:
            if req.kind == "vehicle_type":
                found = np.asarray([t == req.value for t in self.types], dtype=np.bool_)
            else:
                found = np.asarray([req.value in c for c in self.capabilities], dtype=np.bool_)
            self._masks[key] = found
        return found

    def etas(self, node: int, leg_s: float, available: BoolArray) -> FloatArray:
        """ETA of every unit to the node (``inf`` for units not available or not timed)."""
        eta = np.full(len(self.ids), np.inf)
        if self.station_times is not None:
            ok = self.known & available
            eta[ok] = self.station_times[self.rows[ok], node].astype(np.float64) + leg_s
        return eta

    def recommend(self, plan: Plan, node: int, leg_s: float, available: BoolArray) -> Answer:
        """The units ``recommend_units`` would choose among the ``available`` ones."""
        requirements = plan.requirements
        eta = self.etas(node, leg_s, available)
        eligible = [self.mask(req) for req in requirements]
        pairs = assign_slots(requirements, eligible, eta, self.ids)
        filled_all = len(pairs) == sum(req.count for req in requirements)
        ordered = sorted(pairs, key=lambda p: (p[0], eta[p[1]], int(self.ids[p[1]])))
        chosen = tuple(Picked(int(self.ids[i]), float(eta[i])) for _, i in ordered)
        return Answer(chosen, not filled_all)
