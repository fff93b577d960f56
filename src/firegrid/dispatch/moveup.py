"""Move-up (补位) advice: when a station's units are all out, its district may no longer be
reached within 5 minutes; which available unit should move to which empty station to
restore the most of that coverage?

The computation is exact for one move and runs on the geo engine's station trees: a road
node is covered when a station holding at least one unit in station reaches it within
``threshold_s``; an empty station's gain is the number of uncovered nodes it would cover;
the donor is the nearest station that keeps a unit of the kind after giving one. Several
moves are chosen one after the other (greedy), each on the coverage the previous left.
Road nodes stand for demand (every node weighs the same).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from firegrid.dispatch.recommend import Unit
from firegrid.dispatch.states import VehicleStatus

WITHIN_S = 300.0
#: kinds of unit that restore first-due cover, in order of preference
MOVE_TYPES = ("pumper", "tanker", "foam")


@dataclass(frozen=True)
class Move:
    vehicle_id: int
    from_station: int
    to_station: int
    travel_s: float
    nodes_restored: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "vehicle_id": self.vehicle_id,
            "from_station_id": self.from_station,
            "to_station_id": self.to_station,
            "travel_s": round(self.travel_s, 1),
            "nodes_restored": self.nodes_restored,
        }


@dataclass(frozen=True)
class MoveUpPlan:
    empty_stations: list[int]
    nodes: int
    covered_before: int
    covered_after: int
    moves: list[Move]


def plan_move_up(
    station_ids: Sequence[int],
    times_s: npt.NDArray[np.floating[Any]],
    station_nodes: npt.NDArray[np.integer[Any]],
    movable: Mapping[int, Sequence[int]],
    staffed_ids: Collection[int],
    *,
    threshold_s: float = WITHIN_S,
    max_moves: int = 3,
    demand: npt.NDArray[np.bool_] | None = None,
) -> MoveUpPlan:
    """Moves restoring coverage. ``times_s[s, v]``: station row ``s`` to node ``v``;
    ``station_nodes[s]``: the node of station row ``s``; ``movable[station id]``: its units
    in station that could move (in preference order; a donor keeps one of them);
    ``staffed_ids``: stations with any unit in station; ``demand``: nodes that count (all
    by default)."""
    reach = np.asarray(times_s) <= threshold_s
    if demand is not None:
        reach = reach & demand[None, :]
    units = {sid: list(movable.get(sid, ())) for sid in station_ids}
    staffed = np.array([sid in staffed_ids for sid in station_ids], dtype=bool)
    covered = reach[staffed].any(axis=0) if staffed.any() else np.zeros(reach.shape[1], bool)
    before = int(covered.sum())
    empty = [sid for sid, has in zip(station_ids, staffed, strict=True) if not has]
    row_of = {sid: r for r, sid in enumerate(station_ids)}
    moves: list[Move] = []
    for _ in range(max_moves):
        best: tuple[int, float, int, int, int] | None = None  # (-gain, travel, to, from, unit)
        for target in empty:
            gain = int((reach[row_of[target]] & ~covered).sum())
            if gain == 0:
                continue
            for donor in station_ids:
                if len(units[donor]) < 2:  # a donor keeps at least one unit at home
                    continue
                travel = float(times_s[row_of[donor], station_nodes[row_of[target]]])
                if not np.isfinite(travel):
                    continue
                key = (-gain, travel, target, donor, units[donor][0])
                if best is None or key < best:
                    best = key
        if best is None:
            break
        neg_gain, travel, target, donor, vehicle = best
        moves.append(Move(vehicle, donor, target, travel, -neg_gain))
        units[donor].remove(vehicle)
        units[target].append(vehicle)
        empty.remove(target)
        covered |= reach[row_of[target]]
    return MoveUpPlan(
        sorted(sid for sid, has in zip(station_ids, staffed, strict=True) if not has),
        int(reach.shape[1]),
        before,
        int(covered.sum()),
        moves,
    )


def movable_units(
    units: Sequence[Unit], station_ids: Sequence[int]
) -> tuple[dict[int, list[int]], set[int]]:
    """Units in station that may move, by station (preferred types first), and the
    stations holding any unit in station."""
    rank = {t: i for i, t in enumerate(MOVE_TYPES)}
    known = set(station_ids)
    by_station: dict[int, list[tuple[int, int]]] = {sid: [] for sid in station_ids}
    staffed: set[int] = set()
    for unit in units:
        if unit.status != VehicleStatus.AVAILABLE_IN_STATION or unit.station_id not in known:
            continue
        staffed.add(unit.station_id)
        if unit.vehicle_type in rank:
            by_station[unit.station_id].append((rank[unit.vehicle_type], unit.id))
    return {sid: [vid for _r, vid in sorted(found)] for sid, found in by_station.items()}, staffed
