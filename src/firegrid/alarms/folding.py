"""Folding: which alarm an event belongs to (pure functions, no I/O).

- Fire alarms, supervisory and start signals of one venue fold into one venue alarm: a
  panel reporting 40 detectors in alarm is ONE fire alarm with 40 lines of history.
- Faults, offline, low battery and tamper fold per device; a repeated fault of the same
  component is counted on its line, not repeated.
- Context events (reset, feedback, analog values, fault cleared, back online) only join an
  alarm that is already open; they never open one.

An alarm folds an event when it is not closed and either still active (undecided or
confirmed) or its last event lies within the fold window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from firegrid.alarms.states import ACTIVE, AlarmKind, AlarmStatus
from firegrid.ingest.public import DeviceEvent, EventKind

K = EventKind

VENUE_OPENING = {
    K.FIRE_ALARM: AlarmKind.FIRE,
    K.SUPERVISORY: AlarmKind.SUPERVISORY,
    K.START: AlarmKind.SUPERVISORY,
}
VENUE_CONTEXT = frozenset({K.RESET, K.FEEDBACK, K.ANALOG_VALUE})
DEVICE_OPENING = frozenset({K.FAULT, K.OFFLINE, K.LOW_BATTERY, K.TAMPER})
DEVICE_CONTEXT = frozenset({K.FAULT_CLEARED, K.ONLINE})

#: Work-order kind of a fault alarm, by the kind of the event that opened it.
WORK_ORDER_KIND = {
    K.FAULT: "fault",
    K.TAMPER: "fault",
    K.OFFLINE: "offline",
    K.LOW_BATTERY: "low_battery",
}


@dataclass(frozen=True)
class FoldTarget:
    key: str
    kind: AlarmKind
    opens: bool  # may open a new alarm (otherwise joins an open one only)


def venue_key(event: DeviceEvent) -> str:
    if event.venue_id is not None:
        return f"venue:{event.venue_id}"
    return f"ext:{event.protocol}:{event.external_id}"


def device_key(event: DeviceEvent) -> str:
    if event.device_id is not None:
        return f"device:{event.device_id}"
    return f"ext:{event.protocol}:{event.external_id}:dev"


def target_of(event: DeviceEvent) -> FoldTarget | None:
    """Where ``event`` folds, or ``None`` when it never concerns an alarm."""
    kind = event.kind
    opening = VENUE_OPENING.get(kind)
    if opening is not None:
        return FoldTarget(venue_key(event), opening, True)
    if kind in VENUE_CONTEXT:
        return FoldTarget(venue_key(event), AlarmKind.SUPERVISORY, False)
    if kind in DEVICE_OPENING:
        return FoldTarget(device_key(event), AlarmKind.FAULT, True)
    if kind in DEVICE_CONTEXT:
        return FoldTarget(device_key(event), AlarmKind.FAULT, False)
    return None


def zone_of(event: DeviceEvent) -> str:
    """The zone of an event: ``values['zone']`` if the device says, else device + loop."""
    zone = event.values.get("zone")
    if zone not in (None, ""):
        return str(zone)
    c = event.component
    device = event.device_id if event.device_id is not None else event.external_id
    system = "" if c.system_address is None else c.system_address
    loop = "" if c.loop is None else c.loop
    return f"{device}/{system}/{loop}"


def component_of(event: DeviceEvent) -> str:
    device = event.device_id if event.device_id is not None else event.external_id
    return f"{device}:{event.component.key()}"


def source_key(event: DeviceEvent) -> str:
    """One history line per (device, component, kind); per (device, kind) for context
    events (analog values, feedback, reset), whose last value is what matters."""
    if event.kind in VENUE_CONTEXT:
        device = event.device_id if event.device_id is not None else event.external_id
        return f"{device}:*|{event.kind}"[:160]
    return f"{component_of(event)}|{event.kind}"[:160]


def folds(status: str, last_event_at: datetime, occurred_at: datetime, window_s: float) -> bool:
    """Whether an alarm in ``status`` whose last event was at ``last_event_at`` folds."""
    if status == AlarmStatus.CLOSED:
        return False
    if status in ACTIVE:
        return True
    return occurred_at - last_event_at <= timedelta(seconds=window_s)
