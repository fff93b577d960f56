"""JSON device messages → :class:`DeviceEvent`, driven by ``vendor_mappings.yaml`` (pure).

Topic layout (MQTT)::

    firegrid/devices/{vendor}/{external_id}/events

``vendor`` names an entry of ``vendor_mappings.yaml`` (``firegrid`` is the native schema);
``external_id`` is the device's id in the registry (``Device(protocol="mqtt")``).

Native payload (vendor ``firegrid``; one object, a list, or ``{"events": [...]}``)::

    {
      "id": "msg-000123",                       # the device's message id (dedupe), optional
      "device": "860000000000001",              # external id (the topic wins for MQTT)
      "time": "2026-11-25T10:30:05+08:00",      # when it happened at the device
      "kind": "fire_alarm",                     # a DeviceEvent kind (see EventKind)
      "component": {"description": "3F east corridor", "loop": 1, "point": 12},
      "values": {"battery": 87, "rssi": -71}
    }

A message without ``id`` is identified by its device, time, kind and content, so a
republished copy still deduplicates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Found, Problem, first_of
from firegrid.core.texts import TextCode
from firegrid.devices.public import DeviceRef
from firegrid.ingest.events import Component, DeviceEvent, EventKind, make_event_id

TOPIC_PREFIX = "firegrid/devices"
SUBSCRIPTION = f"{TOPIC_PREFIX}/+/+/events"
_MISSING = object()
_COMPONENT_FIELDS = {
    "system_type",
    "system_address",
    "component_type",
    "component_address",
    "loop",
    "point",
    "description",
}


@dataclass(frozen=True)
class VendorMapping:
    """One vendor's field paths and kind table."""

    name: str
    message_id: str | None = None
    external_id: str | None = None
    occurred_at_path: str | None = None
    occurred_at_format: str = "iso8601"
    naive_tz: str = "Asia/Shanghai"
    kind_path: str | None = None
    kind_map: dict[str, str] = field(default_factory=dict)
    kind_default: str = "other"
    component: dict[str, str] = field(default_factory=dict)
    values_path: str | None = None
    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> VendorMapping:
        problems: list[Found] = []
        occurred = data.get("occurred_at") or {}
        if isinstance(occurred, str):
            occurred = {"path": occurred}
        kind = data.get("kind") or {}
        if isinstance(kind, str):
            kind = {"path": kind}
        kind_map = {str(k): str(v) for k, v in (kind.get("map") or {}).items()}
        valid = sorted(k.value for k in EventKind)
        problems += [
            Found(
                f"kind.map.{k}",
                Problem.ENUM,
                f"kind map value {v!r} is not a kind",
                {"expected": valid},
            )
            for k, v in kind_map.items()
            if v not in valid
        ]
        default = str(kind.get("default", "other"))
        if default not in valid:
            message = f"kind default {default!r} is not a kind"
            problems.append(Found("kind.default", Problem.ENUM, message, {"expected": valid}))
        fmt = str(occurred.get("format", "iso8601"))
        formats = ("iso8601", "epoch_s", "epoch_ms")
        if fmt not in formats:
            message = f"occurred_at format {fmt!r} is not iso8601, epoch_s or epoch_ms"
            problems.append(
                Found("occurred_at.format", Problem.ENUM, message, {"expected": formats})
            )
        component = {str(k): str(v) for k, v in (data.get("component") or {}).items()}
        problems += [
            Found(f"component.{k}", Problem.UNKNOWN_KEY, f"component field {k!r} is unknown")
            for k in component
            if k not in _COMPONENT_FIELDS
        ]
        values = data.get("values") or {}
        values_path = values.get("path") if set(values) == {"path"} else None
        if problems:
            raise ValidationFailed(
                f"vendor mapping {name!r} is invalid",
                [p.message for p in problems],
                text=TextCode.DOCUMENT_INVALID,
                params={
                    "kind": "vendor_mapping",
                    **first_of(problems),
                    "field": f"{name}.{problems[0].field}",
                },
            )
        return cls(
            name=name,
            message_id=data.get("message_id"),
            external_id=data.get("external_id"),
            occurred_at_path=occurred.get("path"),
            occurred_at_format=fmt,
            naive_tz=str(data.get("naive_tz", "Asia/Shanghai")),
            kind_path=kind.get("path"),
            kind_map=kind_map,
            kind_default=default,
            component=component,
            values_path=values_path,
            values={} if values_path else {str(k): str(v) for k, v in values.items()},
        )


@lru_cache(maxsize=4)
def load_mappings(text: str | None = None) -> dict[str, VendorMapping]:
    """The vendor mappings (the packaged YAML, or ``text``)."""
    if text is None:
        text = (files("firegrid.ingest") / "vendor_mappings.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return {
        name: VendorMapping.from_dict(name, body or {})
        for name, body in (data.get("vendors") or {}).items()
    }


def mapping_for(vendor: str) -> VendorMapping:
    mappings = load_mappings()
    if vendor not in mappings:
        raise ValidationFailed(
            f"no payload mapping for vendor {vendor!r}",
            {"vendors": sorted(mappings)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "vendor", "value": vendor, "allowed": sorted(mappings)},
        )
    return mappings[vendor]


_TOPIC_FORMAT = f"{TOPIC_PREFIX}/{{vendor}}/{{external_id}}/events"


def _bad_topic(topic: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        message,
        {"topic": topic},
        text=TextCode.VALIDATION_FORMAT,
        params={"field": "topic", "value": topic, "expected": _TOPIC_FORMAT},
    )


def parse_topic(topic: str) -> tuple[str, str]:
    """``firegrid/devices/{vendor}/{external_id}/events`` → ``(vendor, external_id)``."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != TOPIC_PREFIX or parts[4] != "events":
        raise _bad_topic(topic, f"topic {topic!r} is not {_TOPIC_FORMAT}")
    if not parts[2] or not parts[3]:
        raise _bad_topic(topic, f"topic {topic!r} has an empty segment")
    return parts[2], parts[3]


def get_path(data: Any, path: str) -> Any:
    """``a.b.0.c`` inside nested dicts/lists; ``_MISSING`` when absent."""
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


@dataclass(frozen=True)
class VendorMessage:
    """A decoded message, before it is bound to a registered device."""

    external_id: str | None
    message_id: str | None
    occurred_at: datetime | None
    kind: EventKind
    component: Component
    values: dict[str, Any]
    raw: dict[str, Any]


def split_payload(payload: bytes) -> list[dict[str, Any]]:
    """The JSON objects of a payload: one object, a list, or ``{"events": [...]}``."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValidationFailed(
            f"payload is not JSON: {err}", text=TextCode.VALIDATION_JSON_INVALID, params={}
        ) from err
    if isinstance(data, dict) and isinstance(data.get("events"), list):
        data = data["events"]
    items = data if isinstance(data, list) else [data]
    bad = [i for i, item in enumerate(items) if not isinstance(item, dict)]
    if bad:
        raise ValidationFailed(
            "every message must be a JSON object",
            {"indexes": bad},
            text=TextCode.INGEST_NOT_OBJECTS,
            params={"indexes": bad},
        )
    return items


def _time(value: Any, mapping: VendorMapping) -> datetime:
    if mapping.occurred_at_format == "iso8601":
        if not isinstance(value, str):
            raise ValueError(f"expected an ISO 8601 string, got {value!r}")
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(mapping.naive_tz))
        return parsed
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected an epoch number, got {value!r}")
    seconds = float(value) / (1000 if mapping.occurred_at_format == "epoch_ms" else 1)
    return datetime.fromtimestamp(seconds, UTC)


def decode_message(item: dict[str, Any], mapping: VendorMapping) -> VendorMessage:
    """Apply ``mapping`` to one JSON object; every bad field is reported at once."""
    problems: dict[str, str] = {}

    def text(path: str | None) -> str | None:
        if path is None:
            return None
        value = get_path(item, path)
        return None if value is _MISSING or value is None else str(value)

    occurred_at = None
    if mapping.occurred_at_path:
        raw_time = get_path(item, mapping.occurred_at_path)
        if raw_time is not _MISSING and raw_time is not None:
            try:
                occurred_at = _time(raw_time, mapping)
            except (ValueError, OverflowError, OSError) as err:
                problems[mapping.occurred_at_path] = str(err)
    kind_value = text(mapping.kind_path)
    kind = EventKind(mapping.kind_map.get(kind_value or "", mapping.kind_default))
    component_fields: dict[str, Any] = {}
    for name, path in mapping.component.items():
        value = get_path(item, path)
        if value is _MISSING or value is None:
            continue
        if name == "description":
            component_fields[name] = str(value)[:200]
        elif isinstance(value, int) and not isinstance(value, bool):
            component_fields[name] = value
        elif isinstance(value, str) and value.isdigit():
            component_fields[name] = int(value)
        else:
            problems[path] = f"{name} must be an integer, got {value!r}"
    values: dict[str, Any] = {}
    if mapping.values_path:
        found = get_path(item, mapping.values_path)
        if isinstance(found, dict):
            values = dict(found)
        elif found is not _MISSING and found is not None:
            problems[mapping.values_path] = "values must be an object"
    for name, path in mapping.values.items():
        value = get_path(item, path)
        if value is not _MISSING:
            values[name] = value
    if kind_value is not None and kind_value not in mapping.kind_map:
        values.setdefault("vendor_kind", kind_value)
    if problems:
        raise ValidationFailed(
            f"message does not fit the {mapping.name!r} mapping",
            problems,
            text=TextCode.VALIDATION_FIELDS,
            params={"fields": sorted(problems)},
        )
    return VendorMessage(
        external_id=text(mapping.external_id),
        message_id=text(mapping.message_id),
        occurred_at=occurred_at,
        kind=kind,
        component=Component(**component_fields),
        values=values,
        raw=item,
    )


def to_event(
    message: VendorMessage, ref: DeviceRef, protocol: str, received_at: datetime
) -> DeviceEvent:
    """Bind a decoded message to its registered device."""
    occurred_at = message.occurred_at or received_at
    if message.message_id is not None:
        event_id = make_event_id(protocol, ref.external_id, "id", message.message_id)
    else:
        canonical = json.dumps(message.raw, sort_keys=True, separators=(",", ":"), default=str)
        event_id = make_event_id(protocol, ref.external_id, "content", canonical)
    raw = json.dumps(message.raw, ensure_ascii=False, separators=(",", ":"), default=str)
    return DeviceEvent(
        event_id=event_id,
        device_id=ref.device_id,
        external_id=ref.external_id,
        protocol=protocol,
        venue_id=ref.venue_id,
        jurisdiction_path=ref.jurisdiction_path,
        occurred_at=occurred_at,
        received_at=received_at,
        kind=message.kind,
        component=message.component,
        values=message.values,
        raw_ref=raw[:4000],
    )


def summary(message: VendorMessage) -> dict[str, Any]:
    """What quarantine shows of a message."""
    return {
        "message_id": message.message_id,
        "kind": str(message.kind),
        "occurred_at": message.occurred_at.isoformat() if message.occurred_at else None,
        "description": message.component.description,
    }
