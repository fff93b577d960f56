r"""GB/T 26875.3 upload frames as normalised :class:`DeviceEvent`\ s — pure (no I/O).

The listener (``server.py``) and the replay of quarantined messages (``ingest/replay.py``)
both turn a decoded frame into events here, so a replayed message becomes exactly the
events the live connection would have made.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from firegrid.devices.public import DeviceRef
from firegrid.ingest.events import (
    STATE_ONLY_KINDS,
    Component,
    DeviceEvent,
    EventKind,
    event_id_from_tail,
    make_event_id,
)
from firegrid.ingest.replay import StoredMessage

from .codec import (
    AnalogValue,
    ApplicationData,
    ComponentStatus,
    ComponentStatusFlag,
    Frame,
    InfoObject,
    InvalidTimeTag,
    RawApplicationData,
    SystemConfiguration,
    SystemOperation,
    SystemOperationFlag,
    SystemStatus,
    SystemStatusFlag,
    TransmitterConfiguration,
    TransmitterOperation,
    TransmitterStatus,
    TransmitterStatusFlag,
)
from .fields import TEXT_ENCODING

PROTOCOL = "gb26875"

# Status bit → kind, in priority order (the first bit set names the event; all bits are kept
# in ``values["flags"]``). No significant bit set: the point reports normal → fault_cleared.
_SYSTEM_KINDS: tuple[tuple[int, EventKind], ...] = (
    (SystemStatusFlag.FIRE_ALARM, EventKind.FIRE_ALARM),
    (SystemStatusFlag.SUPERVISORY, EventKind.SUPERVISORY),
    (SystemStatusFlag.FAULT | SystemStatusFlag.BUS_FAULT, EventKind.FAULT),
    (SystemStatusFlag.MAIN_POWER_FAULT | SystemStatusFlag.BACKUP_POWER_FAULT, EventKind.POWER),
    (SystemStatusFlag.DISABLED, EventKind.SHIELDED),
    (SystemStatusFlag.STARTED, EventKind.START),
    (SystemStatusFlag.FEEDBACK, EventKind.FEEDBACK),
    (SystemStatusFlag.RESET, EventKind.RESET),
)
_COMPONENT_KINDS: tuple[tuple[int, EventKind], ...] = (
    (ComponentStatusFlag.FIRE_ALARM, EventKind.FIRE_ALARM),
    (ComponentStatusFlag.SUPERVISORY, EventKind.SUPERVISORY),
    (ComponentStatusFlag.FAULT, EventKind.FAULT),
    (ComponentStatusFlag.POWER_FAULT, EventKind.POWER),
    (ComponentStatusFlag.DISABLED, EventKind.SHIELDED),
    (ComponentStatusFlag.STARTED, EventKind.START),
    (ComponentStatusFlag.FEEDBACK, EventKind.FEEDBACK),
)
_TRANSMITTER_KINDS: tuple[tuple[int, EventKind], ...] = (
    (TransmitterStatusFlag.FIRE_ALARM, EventKind.FIRE_ALARM),
    (
        TransmitterStatusFlag.FAULT
        | TransmitterStatusFlag.CENTRE_CHANNEL_FAULT
        | TransmitterStatusFlag.PANEL_LINK_FAULT,
        EventKind.FAULT,
    ),
    (
        TransmitterStatusFlag.MAIN_POWER_FAULT | TransmitterStatusFlag.BACKUP_POWER_FAULT,
        EventKind.POWER,
    ),
)


def _kind_for(
    status: int, table: tuple[tuple[int, EventKind], ...], default: EventKind
) -> EventKind:
    value = int(status)  # plain int arithmetic: IntFlag's & builds enum members
    for bits, kind in table:
        if value & bits:
            return kind
    return default


_SYSTEM_KINDS = tuple((int(bits), kind) for bits, kind in _SYSTEM_KINDS)
_COMPONENT_KINDS = tuple((int(bits), kind) for bits, kind in _COMPONENT_KINDS)
_TRANSMITTER_KINDS = tuple((int(bits), kind) for bits, kind in _TRANSMITTER_KINDS)


def _operation_kind(operations: int) -> EventKind:
    if operations & SystemOperationFlag.RESET:
        return EventKind.RESET
    if operations & SystemOperationFlag.MANUAL_ALARM:
        return EventKind.FIRE_ALARM
    # an operator's check-post reply is an operation too: a stored row, and the downlink
    # records it as the answer to the check post
    return EventKind.OPERATION


_FLAG_NAMES: dict[tuple[type, int], list[str]] = {}


def _flag_names(value: Any) -> list[str]:
    """Names of the bits set in an ``IntFlag`` value (cached: status words repeat)."""
    key = (type(value), int(value))
    names = _FLAG_NAMES.get(key)
    if names is None:
        names = [m.name or "" for m in type(value) if m.value & key[1]]
        if len(_FLAG_NAMES) < 65536:
            _FLAG_NAMES[key] = names
    return list(names)


_POINTS: dict[tuple[int, int, int, int, str], Component] = {}


def _point(obj: ComponentStatus | AnalogValue, description: str = "") -> Component:
    """The component of an object addressed to one point (loop = low 16 bits, point =
    high 16 bits of the component address). Components are frozen: one is shared by every
    report of the same point (memoised)."""
    key = (
        obj.system_type,
        obj.system_address,
        obj.component_type,
        obj.component_address,
        description,
    )
    component = _POINTS.get(key)
    if component is None:
        if len(_POINTS) >= 65536:
            _POINTS.clear()
        component = _POINTS[key] = Component(
            system_type=obj.system_type,
            system_address=obj.system_address,
            component_type=obj.component_type,
            component_address=obj.component_address,
            loop=obj.component_address & 0xFFFF,
            point=obj.component_address >> 16,
            description=description,
        )
    return component


_ANALOG_VALUES: dict[tuple[int, int], dict[str, Any]] = {}


def _analog_values(obj: AnalogValue) -> dict[str, Any]:
    """The values of an analog reading (a fresh dict; the computation is memoised per
    analog type and raw value)."""
    key = (obj.analog_type, obj.raw_value)
    values = _ANALOG_VALUES.get(key)
    if values is None:
        quantity = obj.quantity
        values = {
            "analog_type": obj.analog_type,
            "raw": obj.raw_value,
            "value": obj.value_in_unit,
            "unit": quantity.unit if quantity else None,
            "quantity": quantity.name if quantity else None,
            "within_range": obj.within_range,
        }
        if len(_ANALOG_VALUES) >= 65536:
            _ANALOG_VALUES.clear()
        _ANALOG_VALUES[key] = values
    return dict(values)


_StatusFacts = tuple[EventKind, int, list[str]]


def _status_facts(
    status: Any,
    cache: dict[tuple[type, int], _StatusFacts],
    table: tuple[tuple[int, EventKind], ...],
    default: EventKind,
) -> _StatusFacts:
    """Kind, integer and flag names of a status word, memoised per (type, value): status
    words repeat, and ``int()``, hashing or ``&`` of an ``IntFlag`` each cost more than a
    dictionary hit (its ``_value_`` is a plain attribute)."""
    try:
        value = status._value_
    except AttributeError:  # a plain int (an object built by hand)
        value = int(status)
    key = (type(status), value)
    facts = cache.get(key)
    if facts is None:
        facts = (_kind_for(value, table, default), value, _flag_names(status))
        if len(cache) >= 4096:
            cache.clear()
        cache[key] = facts
    return facts


_COMPONENT_FACTS: dict[tuple[type, int], _StatusFacts] = {}
_TRANSMITTER_FACTS: dict[tuple[type, int], _StatusFacts] = {}


def _classify_component_status(obj: Any) -> tuple[EventKind, Component, dict[str, Any]]:
    component = _point(obj, obj.description)
    kind, value, names = _status_facts(
        obj.status, _COMPONENT_FACTS, _COMPONENT_KINDS, _FAULT_CLEARED
    )
    return kind, component, {"status": value, "flags": list(names)}


def _classify_transmitter_status(obj: Any) -> tuple[EventKind, Component, dict[str, Any]]:
    kind, value, names = _status_facts(
        obj.status, _TRANSMITTER_FACTS, _TRANSMITTER_KINDS, _HEARTBEAT
    )
    return kind, _NO_COMPONENT, {"status": value, "flags": list(names)}


def _classify_analog_value(obj: Any) -> tuple[EventKind, Component, dict[str, Any]]:
    return _ANALOG_VALUE, _point(obj), _analog_values(obj)


_FAULT_CLEARED = EventKind.FAULT_CLEARED
_HEARTBEAT = EventKind.HEARTBEAT
_ANALOG_VALUE = EventKind.ANALOG_VALUE
_NO_COMPONENT = Component()
#: the hot object types, dispatched on their exact class (``isinstance`` on a msgspec
#: class costs as much as the rest of the classification)
_CLASSIFIERS: dict[type, Callable[[Any], tuple[EventKind, Component, dict[str, Any]]]] = {
    ComponentStatus: _classify_component_status,
    TransmitterStatus: _classify_transmitter_status,
    AnalogValue: _classify_analog_value,
}


def classify(obj: InfoObject) -> tuple[EventKind, Component, dict[str, Any]]:
    """The kind, component and values of one information object."""
    fast = _CLASSIFIERS.get(type(obj))
    if fast is not None:
        return fast(obj)
    if isinstance(obj, ComponentStatus):
        component = _point(obj, obj.description)
        kind = _kind_for(obj.status, _COMPONENT_KINDS, EventKind.FAULT_CLEARED)
        return kind, component, {"status": int(obj.status), "flags": _flag_names(obj.status)}
    if isinstance(obj, SystemStatus):
        component = Component(system_type=obj.system_type, system_address=obj.system_address)
        kind = _kind_for(obj.status, _SYSTEM_KINDS, EventKind.FAULT_CLEARED)
        return kind, component, {"status": int(obj.status), "flags": _flag_names(obj.status)}
    if isinstance(obj, TransmitterStatus):
        kind = _kind_for(obj.status, _TRANSMITTER_KINDS, EventKind.HEARTBEAT)
        return kind, Component(), {"status": int(obj.status), "flags": _flag_names(obj.status)}
    if isinstance(obj, AnalogValue):
        return EventKind.ANALOG_VALUE, _point(obj), _analog_values(obj)
    if isinstance(obj, SystemOperation):
        component = Component(system_type=obj.system_type, system_address=obj.system_address)
        values: dict[str, Any] = {
            "operations": int(obj.operations),
            "flags": _flag_names(obj.operations),
            "operator": obj.operator_number,
        }
        return _operation_kind(obj.operations), component, values
    if isinstance(obj, TransmitterOperation):
        values = {
            "operations": int(obj.operations),
            "flags": _flag_names(obj.operations),
            "operator": obj.operator_number,
        }
        return _operation_kind(obj.operations), Component(), values
    body = msgspec.to_builtins(obj)
    if isinstance(obj, SystemConfiguration | TransmitterConfiguration):
        # the text ends at the first NUL; the exact bytes of the field stay in the event
        body.pop("wire_text", None)
        body["text_hex"] = (obj.wire_text or obj.text.encode(TEXT_ENCODING)).hex()
    component = Component(
        system_type=body.get("system_type"),
        system_address=body.get("system_address"),
        component_type=body.get("component_type"),
        component_address=body.get("component_address"),
        description=str(body.get("description", "")),
    )
    return EventKind.OTHER, component, {"type": type(obj).__name__, **body}


_TIME_FIELDS: dict[type, tuple[str, ...]] = {}


def _object_time(obj: InfoObject, frame: Frame) -> Any:
    cls = type(obj)
    names = _TIME_FIELDS.get(cls)
    if names is None:
        fields = cls.__struct_fields__
        names = _TIME_FIELDS[cls] = tuple(n for n in ("occurred_at", "sampled_at") if n in fields)
    for name in names:
        value = getattr(obj, name)
        if value is not None:
            return value
    return frame.sent_at


def _aware(value: Any, fallback: datetime) -> tuple[datetime, str | None]:
    if isinstance(value, datetime):
        return value, None
    if isinstance(value, InvalidTimeTag):
        return fallback, value.raw.hex()
    return fallback, None


def frame_events(
    frame: Frame, ref: DeviceRef, received_at: datetime, raw_hex: str
) -> list[DeviceEvent]:
    """The :class:`DeviceEvent` of every object of an upload frame (one per object)."""
    external_id = ref.external_id
    adu = frame.adu
    events: list[DeviceEvent] = []

    def make(
        event_id: str, kind: EventKind, at: Any, component: Component, values: dict[str, Any]
    ) -> DeviceEvent:
        occurred_at, bad_time = _aware(at, received_at)
        if bad_time is not None:
            values = {**values, "invalid_time_tag": bad_time}
        return DeviceEvent(
            event_id=event_id,
            device_id=ref.device_id,
            external_id=external_id,
            protocol=PROTOCOL,
            venue_id=ref.venue_id,
            jurisdiction_path=ref.jurisdiction_path,
            occurred_at=occurred_at,
            received_at=received_at,
            kind=kind,
            component=component,
            values=values,
            raw_ref=raw_hex,
        )

    if adu is None:  # empty ADU on send data: seen in the wild as a keep-alive
        sent = frame.sent_at
        event_id = make_event_id(PROTOCOL, external_id, "empty", _time_key(sent))
        return [make(event_id, EventKind.HEARTBEAT, sent, Component(), {})]
    if type(adu) is not ApplicationData and isinstance(adu, RawApplicationData):
        event_id = make_event_id(PROTOCOL, external_id, "raw", _time_key(frame.sent_at), adu.raw)
        values = {"type_flag": adu.type_flag, "adu_hex": adu.raw.hex(), "note": adu.note}
        return [make(event_id, EventKind.OTHER, frame.sent_at, Component(), values)]
    assert type(adu) is ApplicationData or isinstance(adu, ApplicationData)
    type_flag = int(adu.type_flag)
    for index, obj in enumerate(adu.objects):
        kind, component, values = classify(obj)
        at = _object_time(obj, frame)
        if kind in STATE_ONLY_KINDS:  # never logged: no id to derive (a third of the frames)
            events.append(make(_NOT_LOGGED, kind, at, component, values))
            continue
        # make_event_id(PROTOCOL, external_id, type_flag, index, _time_key(at), json of obj)
        tail = b"\x1f%d\x1f%d\x1f%s\x1f%s" % (
            type_flag,
            index,
            _time_key_bytes(at),
            _OBJECT_JSON.encode(obj),
        )
        event_id = event_id_from_tail(PROTOCOL, external_id, tail)
        events.append(make(event_id, kind, at, component, values))
    return events


_OBJECT_JSON = msgspec.json.Encoder()
#: the event id of a heartbeat (``STATE_ONLY_KINDS``: it updates device state and is never
#: appended to the log, so nothing dedupes by its id)
_NOT_LOGGED = f"{PROTOCOL}:state-only"
_TIME_KEYS: dict[tuple[Any, Any], bytes] = {}


def _time_key_bytes(value: Any) -> bytes:
    """``_time_key(value).encode()``, memoised (objects of a second share their time tag).
    Keyed with the time zone too: equal instants in two zones have different ISO texts."""
    memo = (value, getattr(value, "tzinfo", None))
    key = _TIME_KEYS.get(memo)
    if key is None:
        if len(_TIME_KEYS) >= 4096:
            _TIME_KEYS.clear()
        key = _TIME_KEYS[memo] = _time_key(value).encode()
    return key


def _time_key(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, InvalidTimeTag):
        return value.raw.hex()
    return str(value)


def frame_summary(frame: Frame) -> dict[str, Any]:
    """A short JSON summary of a frame for quarantine and errors."""
    adu = frame.adu
    summary: dict[str, Any] = {
        "serial": frame.serial,
        "command": int(frame.command),
        "source": frame.source,
        "destination": frame.destination,
        "sent_at": _time_key(frame.sent_at),
    }
    if isinstance(adu, ApplicationData):
        summary["type_flag"] = int(adu.type_flag)
        summary["objects"] = len(adu.objects)
        summary["kinds"] = sorted({str(classify(o)[0]) for o in adu.objects})
    elif isinstance(adu, RawApplicationData):
        summary["type_flag"] = adu.type_flag
        summary["note"] = adu.note
    return summary


def replay_events(message: StoredMessage, protocol: str, ref: DeviceRef) -> list[DeviceEvent]:
    """The events a quarantined message would have made (adapter registry: replay)."""
    from firegrid.ingest.adapters.gb26875.codec import Command, StreamDecoder

    try:
        raw = bytes.fromhex(message.raw_hex)
    except ValueError as exc:
        raise ValueError(f"quarantined message {message.id}: raw bytes are not hex") from exc
    decoder = StreamDecoder()
    items = [*decoder.feed(raw), *decoder.close()]
    events: list[DeviceEvent] = []
    for item in items:
        frame = item.frame
        if frame is None or frame.command not in (Command.SEND_DATA, Command.ANSWER):
            continue
        events.extend(frame_events(frame, ref, message.received_at, message.raw_hex))
    if not events and not items:
        raise ValueError(f"quarantined message {message.id}: no frame in the raw bytes")
    return events
