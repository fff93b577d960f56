"""The one normalised device message: :class:`DeviceEvent`.

Every adapter (GB/T 26875.3 over TCP, MQTT, HTTP push) translates what a device sends into
``DeviceEvent`` values; everything downstream (event log, device state, alarms) only sees
these. ``event_id`` is stable for the same device message, so a retransmission after a lost
confirm produces the same id and the event log drops the duplicate.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import msgspec

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode


class EventKind(StrEnum):
    """What happened at the device."""

    FIRE_ALARM = "fire_alarm"
    SUPERVISORY = "supervisory"
    FAULT = "fault"
    FAULT_CLEARED = "fault_cleared"
    RESET = "reset"
    POWER = "power"
    HEARTBEAT = "heartbeat"
    ANALOG_VALUE = "analog_value"
    LOW_BATTERY = "low_battery"
    TAMPER = "tamper"
    OFFLINE = "offline"
    ONLINE = "online"
    START = "start"
    FEEDBACK = "feedback"
    SHIELDED = "shielded"
    OPERATION = "operation"
    OTHER = "other"


#: Kinds that are never stored as rows: they only update device state in memory.
STATE_ONLY_KINDS = frozenset({EventKind.HEARTBEAT})


class Component(msgspec.Struct, frozen=True, omit_defaults=True):
    """Where on the device's installation the event happened (all optional)."""

    system_type: int | None = None
    system_address: int | None = None
    component_type: int | None = None
    component_address: int | None = None
    loop: int | None = None
    point: int | None = None
    description: str = ""

    def key(self) -> str:
        """A short stable key for per-component state (``sys/addr/type/comp``)."""
        # one f-string, no generator: the correlator asks for it several times per event
        system_type, system_address = self.system_type, self.system_address
        component_type, component_address = self.component_type, self.component_address
        return (
            f"{'' if system_type is None else system_type}/"
            f"{'' if system_address is None else system_address}/"
            f"{'' if component_type is None else component_type}/"
            f"{'' if component_address is None else component_address}"
        )


class DeviceEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A device message normalised to one shape, whatever the protocol."""

    event_id: str
    device_id: int | None
    external_id: str
    protocol: str
    venue_id: int | None
    jurisdiction_path: str
    occurred_at: datetime
    received_at: datetime
    kind: EventKind
    component: Component = Component()
    values: dict[str, Any] = msgspec.field(default_factory=dict)
    raw_ref: str = ""

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.received_at.tzinfo is None:
            raise ValidationFailed(
                "DeviceEvent times must be timezone-aware",
                {"event_id": self.event_id},
                text=TextCode.VALIDATION_TIMEZONE_NAIVE,
                params={"field": "occurred_at"},
            )


def make_event_id(protocol: str, external_id: str, *parts: object) -> str:
    """A stable id: the same device message always hashes to the same id.

    ``parts`` are whatever identifies the message at its source (a message id, the device
    time, the object's bytes…); never the receive time.
    """
    tail = b"".join(
        b"\x1f" + (part if isinstance(part, bytes) else str(part).encode()) for part in parts
    )
    return event_id_from_tail(protocol, external_id, tail)


def event_id_from_tail(protocol: str, external_id: str, tail: bytes) -> str:
    """``make_event_id(protocol, external_id, *parts)`` given the parts already joined as
    ``tail`` (each part preceded by ``\x1f``): the hot path of adapters that pack the parts
    themselves. The hash state of ``protocol`` and ``external_id`` is kept per device."""
    digest = _device_digest(protocol, external_id).copy()
    digest.update(tail)
    return f"{protocol}:{digest.hexdigest()}"


@functools.lru_cache(maxsize=200_000)
def _device_digest(protocol: str, external_id: str) -> Any:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{protocol}\x1f{external_id}".encode())
    return digest


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(DeviceEvent)


def encode_event(event: DeviceEvent) -> bytes:
    """JSON bytes of an event (the JetStream payload and the API shape)."""
    return _ENCODER.encode(event)


def decode_event(data: bytes) -> DeviceEvent:
    """Inverse of :func:`encode_event`."""
    return _DECODER.decode(data)


def event_to_dict(event: DeviceEvent) -> dict[str, Any]:
    """A JSON-ready dict (times as ISO 8601 strings)."""
    result: dict[str, Any] = msgspec.to_builtins(event)
    return result


def as_utc(value: datetime) -> datetime:
    """``value`` converted to UTC (it must already be aware)."""
    if value.tzinfo is None:
        raise ValidationFailed(
            f"naive datetime {value!r}: timestamps must be timezone-aware",
            text=TextCode.VALIDATION_TIMEZONE_NAIVE,
            params={"field": "time"},
        )
    return value.astimezone(UTC)
