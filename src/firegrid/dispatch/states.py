"""Status machines of incidents and vehicles: enums with explicit allowed transitions.

A transition not in the table is refused with :class:`InvalidTransition` (409). Every
change is recorded elsewhere with its time, actor and cause (:mod:`.timeline`).
"""

from __future__ import annotations

from enum import StrEnum

from firegrid.core.errors import Conflict
from firegrid.core.texts import TextCode


class InvalidTransition(Conflict):
    code = "invalid_transition"


class VehicleStatus(StrEnum):
    """车辆状态."""

    AVAILABLE_IN_STATION = "available_in_station"  # 在位
    AVAILABLE_ON_RADIO = "available_on_radio"  # 在途可调 (out of station, free)
    DISPATCHED = "dispatched"  # 出动 (order received)
    EN_ROUTE = "en_route"  # 途中
    ON_SCENE = "on_scene"  # 到场
    RETURNING = "returning"  # 返回
    OUT_OF_SERVICE = "out_of_service"  # 停用 / 维修


_V = VehicleStatus

VEHICLE_TRANSITIONS: dict[VehicleStatus, frozenset[VehicleStatus]] = {
    _V.AVAILABLE_IN_STATION: frozenset({_V.DISPATCHED, _V.AVAILABLE_ON_RADIO, _V.OUT_OF_SERVICE}),
    _V.AVAILABLE_ON_RADIO: frozenset({_V.DISPATCHED, _V.AVAILABLE_IN_STATION, _V.OUT_OF_SERVICE}),
    _V.DISPATCHED: frozenset({_V.EN_ROUTE, _V.AVAILABLE_IN_STATION, _V.AVAILABLE_ON_RADIO}),
    _V.EN_ROUTE: frozenset({_V.ON_SCENE, _V.AVAILABLE_ON_RADIO, _V.RETURNING}),
    _V.ON_SCENE: frozenset({_V.RETURNING, _V.AVAILABLE_ON_RADIO}),
    _V.RETURNING: frozenset({_V.AVAILABLE_IN_STATION, _V.AVAILABLE_ON_RADIO, _V.OUT_OF_SERVICE}),
    _V.OUT_OF_SERVICE: frozenset({_V.AVAILABLE_IN_STATION}),
}

#: statuses in which a unit may be recommended and dispatched
AVAILABLE = frozenset({_V.AVAILABLE_IN_STATION, _V.AVAILABLE_ON_RADIO})
#: statuses of a unit committed to an incident
COMMITTED = frozenset({_V.DISPATCHED, _V.EN_ROUTE, _V.ON_SCENE})


class IncidentStatus(StrEnum):
    """警情状态."""

    CREATED = "created"  # 立案, no unit sent yet
    DISPATCHED = "dispatched"  # 已调派
    ON_SCENE = "on_scene"  # 力量到场
    UNDER_CONTROL = "under_control"  # 控制
    EXTINGUISHED = "extinguished"  # 扑灭 / 处置完毕
    CLOSED = "closed"  # 结案


_I = IncidentStatus

INCIDENT_TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    _I.CREATED: frozenset({_I.DISPATCHED, _I.CLOSED}),
    _I.DISPATCHED: frozenset({_I.ON_SCENE, _I.CLOSED}),
    _I.ON_SCENE: frozenset({_I.UNDER_CONTROL, _I.EXTINGUISHED, _I.CLOSED}),
    _I.UNDER_CONTROL: frozenset({_I.EXTINGUISHED, _I.CLOSED}),
    _I.EXTINGUISHED: frozenset({_I.CLOSED}),
    _I.CLOSED: frozenset(),
}

OPEN_INCIDENT = frozenset(set(IncidentStatus) - {IncidentStatus.CLOSED})


def check_vehicle_transition(current: str, target: str, vehicle: object = "") -> VehicleStatus:
    """The target status if the move is allowed; :class:`InvalidTransition` otherwise."""
    try:
        old, new = VehicleStatus(current), VehicleStatus(target)
    except ValueError:
        raise InvalidTransition(
            f"unknown vehicle status {target!r}",
            {"allowed": [s.value for s in VehicleStatus]},
            text=TextCode.UNIT_STATUS_UNKNOWN,
            params={"status": target},
        ) from None
    if new not in VEHICLE_TRANSITIONS[old]:
        raise InvalidTransition(
            f"vehicle {vehicle} cannot go from {old} to {new}",
            {"from": old.value, "to": new.value, "allowed": sorted(VEHICLE_TRANSITIONS[old])},
            text=TextCode.UNIT_TRANSITION_REFUSED,
            params={"unit": str(vehicle), "from": old.value, "to": new.value},
        )
    return new


def check_incident_transition(current: str, target: str, incident: object = "") -> IncidentStatus:
    """The target status if the move is allowed; :class:`InvalidTransition` otherwise."""
    try:
        old, new = IncidentStatus(current), IncidentStatus(target)
    except ValueError:
        raise InvalidTransition(
            f"unknown incident status {target!r}",
            {"allowed": [s.value for s in IncidentStatus]},
            text=TextCode.INCIDENT_STATUS_UNKNOWN,
            params={"status": target},
        ) from None
    if new not in INCIDENT_TRANSITIONS[old]:
        raise InvalidTransition(
            f"incident {incident} cannot go from {old} to {new}",
            {"from": old.value, "to": new.value, "allowed": sorted(INCIDENT_TRANSITIONS[old])},
            text=TextCode.INCIDENT_TRANSITION_REFUSED,
            params={"incident": str(incident), "from": old.value, "to": new.value},
        )
    return new
