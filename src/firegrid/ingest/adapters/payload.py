"""Bounded parsing of JSON device payloads: MQTT messages and HTTP push batches (pure).

A payload is one JSON object, a list of objects, or ``{"events": [...]}``; each object is
mapped by the vendor's mapping (:func:`~.mqtt.codec.decode_message`). Parsing never raises:
every failure becomes a :class:`Rejection` naming what is wrong, and a batch is split: the
valid events are returned for storage and only the invalid ones are rejected.

Limits (:class:`PayloadLimits`) bound the work one payload can cause: its size, how deeply
its JSON nests (a deep payload made the parser raise ``RecursionError``, which stalled MQTT
ingest) and how many events it carries.

Rejection codes: ``too_large``, ``not_json``, ``too_deep``, ``too_many_events``,
``not_an_object``, ``bad_fields``, ``no_device_id``, ``bad_event``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from firegrid.core.errors import ValidationFailed

from .mqtt.codec import VendorMapping, VendorMessage, decode_message


@dataclass(frozen=True)
class PayloadLimits:
    """How much one payload may ask of the parser."""

    max_bytes: int
    max_depth: int = 16
    max_events: int = 1000


#: one MQTT message (Mosquitto's own limit is far larger)
MQTT_LIMITS = PayloadLimits(max_bytes=256 * 1024, max_events=500)
#: one HTTP push batch
HTTP_LIMITS = PayloadLimits(max_bytes=4 * 1024 * 1024, max_events=5000)

#: bytes of a rejected payload or event kept in ``ingest_errors``
RAW_KEPT_BYTES = 4096


@dataclass(frozen=True)
class Rejection:
    """Why a payload (``index`` None) or one of its events (``index``) was not stored."""

    index: int | None
    code: str
    message: str
    details: Any = None
    raw: bytes = b""

    def describe(self) -> dict[str, Any]:
        """The JSON form given back to an HTTP pusher."""
        return {
            "index": self.index,
            "code": self.code,
            "message": self.message,
            "details": self.details,
        }


@dataclass
class ParsedBatch:
    """The events that may be stored (with their index in the payload) and the rejections."""

    accepted: list[tuple[int, VendorMessage]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def messages(self) -> list[VendorMessage]:
        return [message for _, message in self.accepted]

    @classmethod
    def refused(cls, code: str, message: str, payload: bytes, details: Any = None) -> ParsedBatch:
        """The whole payload is rejected."""
        return cls([], [Rejection(None, code, message, details, payload[:RAW_KEPT_BYTES])])


def parse_batch(
    payload: bytes, mapping: VendorMapping, limits: PayloadLimits, *, device_given: bool
) -> ParsedBatch:
    """Split ``payload`` into valid events and rejections; never raises.

    ``device_given``: the device is named outside the payload (the MQTT topic), so an event
    without a device id is still valid.
    """
    try:
        return _parse(payload, mapping, limits, device_given)
    except Exception as exc:  # noqa: BLE001 - a bug or an exotic input: reject, never stall
        return ParsedBatch.refused(
            "bad_event", f"payload could not be parsed ({type(exc).__name__})", payload
        )


def _parse(
    payload: bytes, mapping: VendorMapping, limits: PayloadLimits, device_given: bool
) -> ParsedBatch:
    if len(payload) > limits.max_bytes:
        return ParsedBatch.refused(
            "too_large",
            f"payload is {len(payload)} bytes, at most {limits.max_bytes} are accepted",
            payload,
            {"max_bytes": limits.max_bytes},
        )
    try:
        data = json.loads(payload)
    except RecursionError:
        return _too_deep(payload, limits)
    except (ValueError, MemoryError) as err:  # JSONDecodeError, UnicodeDecodeError, int digits
        return ParsedBatch.refused("not_json", f"payload is not JSON: {err}", payload)
    if _deeper_than(data, limits.max_depth):
        return _too_deep(payload, limits)
    if isinstance(data, dict) and isinstance(data.get("events"), list):
        data = data["events"]
    items: list[Any] = data if isinstance(data, list) else [data]
    if len(items) > limits.max_events:
        return ParsedBatch.refused(
            "too_many_events",
            f"payload carries {len(items)} events, at most {limits.max_events} are accepted",
            payload,
            {"max_events": limits.max_events},
        )
    batch = ParsedBatch()
    for index, item in enumerate(items):
        rejection = None
        if not isinstance(item, dict):
            rejection = Rejection(
                index, "not_an_object", f"event {index} is {type(item).__name__}, not an object"
            )
        else:
            try:
                message = decode_message(item, mapping)
            except ValidationFailed as exc:
                rejection = Rejection(index, "bad_fields", exc.message, exc.details)
            except Exception as exc:  # noqa: BLE001 - one bad event must not sink the batch
                rejection = Rejection(
                    index, "bad_event", f"event {index} could not be read ({type(exc).__name__})"
                )
            else:
                if device_given or message.external_id:
                    batch.accepted.append((index, message))
                    continue
                rejection = Rejection(
                    index, "no_device_id", f"event {index} names no device", mapping.external_id
                )
        batch.rejected.append(_with_raw(rejection, item))
    return batch


def _too_deep(payload: bytes, limits: PayloadLimits) -> ParsedBatch:
    return ParsedBatch.refused(
        "too_deep",
        f"payload nests deeper than {limits.max_depth} levels",
        payload,
        {"max_depth": limits.max_depth},
    )


def _deeper_than(data: Any, max_depth: int) -> bool:
    """Whether containers nest more than ``max_depth`` levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)] if isinstance(data, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def _with_raw(rejection: Rejection, item: Any) -> Rejection:
    try:
        raw = json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode()
    except Exception:  # noqa: BLE001 - the item came from JSON: not expected
        raw = repr(item).encode()
    return Rejection(
        rejection.index, rejection.code, rejection.message, rejection.details, raw[:RAW_KEPT_BYTES]
    )
