"""The alarm state machine: states, reasons and the explicit table of allowed transitions.

::

    new ─> acknowledged ─> verifying ─> confirmed (forwarded) ─┐
     │          │              │     ─> false_alarm (reason) ──┼─> closed
     └──────────┴──────────────┴───> ─> fault ────────────────┘

A rule, a timer or a verification may decide an alarm before anyone acknowledged it, so
``new`` and ``acknowledged`` may also go straight to a decision.
"""

from __future__ import annotations

from enum import StrEnum

from firegrid.core.errors import Conflict, ValidationFailed
from firegrid.core.texts import TextCode


class AlarmStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    VERIFYING = "verifying"
    CONFIRMED = "confirmed"
    FALSE_ALARM = "false_alarm"
    FAULT = "fault"
    CLOSED = "closed"


class AlarmKind(StrEnum):
    FIRE = "fire"  # at least one fire alarm (火警) in the folded events
    SUPERVISORY = "supervisory"  # supervisory / start signals only (监管, 启动), e.g. sprinkler
    FAULT = "fault"  # device faults, offline, low battery, tamper (per device)


class FalseReason(StrEnum):
    TEST = "test"
    MAINTENANCE = "maintenance"
    DUST = "dust"
    COOKING = "cooking"
    DEVICE_FAULT = "device_fault"
    UNKNOWN = "unknown"


S = AlarmStatus

ALLOWED_TRANSITIONS: dict[AlarmStatus, frozenset[AlarmStatus]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED, S.VERIFYING, S.CONFIRMED, S.FALSE_ALARM, S.FAULT}),
    S.ACKNOWLEDGED: frozenset({S.VERIFYING, S.CONFIRMED, S.FALSE_ALARM, S.FAULT}),
    S.VERIFYING: frozenset({S.CONFIRMED, S.FALSE_ALARM, S.FAULT}),
    S.CONFIRMED: frozenset({S.CLOSED}),
    S.FALSE_ALARM: frozenset({S.CLOSED}),
    S.FAULT: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

#: States in which an alarm still waits for a decision (timers apply).
UNDECIDED = frozenset({S.NEW, S.ACKNOWLEDGED, S.VERIFYING})
#: States in which the alarm is still being handled (folds new events whatever their age).
ACTIVE = UNDECIDED | {S.CONFIRMED}
#: Decided states.
DECIDED = frozenset({S.CONFIRMED, S.FALSE_ALARM, S.FAULT})


def parse_status(value: str) -> AlarmStatus:
    try:
        return AlarmStatus(value)
    except ValueError:
        raise ValidationFailed(
            f"unknown alarm status {value!r}",
            {"status": value, "allowed": [s.value for s in AlarmStatus]},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "status", "value": value, "allowed": [s.value for s in AlarmStatus]},
        ) from None


def parse_reason(value: str) -> FalseReason:
    try:
        return FalseReason(value)
    except ValueError:
        raise ValidationFailed(
            f"unknown false-alarm reason {value!r}",
            {"reason": value, "allowed": [r.value for r in FalseReason]},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "reason", "value": value, "allowed": [r.value for r in FalseReason]},
        ) from None


def can_transition(current: AlarmStatus, target: AlarmStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def check_transition(alarm_id: int, current: str, target: AlarmStatus) -> AlarmStatus:
    """The current status, if ``target`` may follow it; otherwise :class:`Conflict`."""
    status = AlarmStatus(current)
    if not can_transition(status, target):
        allowed = sorted(s.value for s in ALLOWED_TRANSITIONS[status])
        raise Conflict(
            f"alarm {alarm_id} is {status.value}: it cannot become {target.value}"
            + (f" (allowed: {', '.join(allowed)})" if allowed else " (it is final)"),
            {"alarm_id": alarm_id, "from": status.value, "to": target.value, "allowed": allowed},
            text=TextCode.ALARM_TRANSITION_REFUSED,
            params={"alarm_id": alarm_id, "from": status.value, "to": target.value},
        )
    return status
