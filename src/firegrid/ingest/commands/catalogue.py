"""Command kinds: what may be asked of a transmitter, and the frame that asks it.

A kind is the lower-case name of its downstream type flag (``read_transmitter_status`` is
type 81, ``check_post`` 91 ...). Its parameters are the fields of the information object,
except what the centre fills in itself: the reserved byte, the clock of a clock sync (the
time of sending) and the check post's timeout in minutes, derived from ``reply_window_s``
(the seconds the control room has to press its button; the wire carries whole minutes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.ingest.adapters.gb26875.codec import (
    ANSWER_TYPE_FOR_READ,
    OBJECT_CLASSES,
    CheckPost,
    Frame,
    InfoObject,
    SyncTransmitterClock,
    TypeFlag,
    check_post,
    clock_sync,
    initialise,
    query,
)
from firegrid.ingest.adapters.gb26875.exchange import DOWNSTREAM_TYPES

#: kind name -> type flag, for every downstream type.
KINDS: Mapping[str, TypeFlag] = MappingProxyType(
    {t.name.lower(): t for t in sorted(DOWNSTREAM_TYPES)}
)
CHECK_POST = "check_post"
POLL = "read_transmitter_status"
CLOCK_SYNC = "sync_transmitter_clock"
#: seconds the control room has to answer a check post, unless the caller says otherwise
DEFAULT_REPLY_WINDOW_S = 180
MAX_REPLY_WINDOW_S = 255 * 60

_INTS = {
    "system_type": 0xFF,
    "system_address": 0xFF,
    "component_address": 0xFFFF_FFFF,
    "record_count": 102,
}


def parameter_names(kind: str) -> tuple[str, ...]:
    """The parameters a caller gives for ``kind``."""
    if kind == CHECK_POST:
        return ("reply_window_s",)
    cls = OBJECT_CLASSES[KINDS[kind]]
    return tuple(name for name in cls.__struct_fields__ if name not in ("reserved", "centre_time"))


def validate(kind: str, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ``parameters`` of ``kind``; returns them normalised (JSON-ready).

    Raises :class:`ValidationFailed` naming every bad field.
    """
    if kind not in KINDS:
        raise ValidationFailed(
            f"unknown command kind {kind!r}",
            {"kind": kind, "kinds": sorted(KINDS)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "kind", "value": kind, "allowed": sorted(KINDS)},
        )
    given = dict(parameters or {})
    names = parameter_names(kind)
    problems: dict[str, str] = {}
    for extra in sorted(set(given) - set(names)):
        problems[extra] = f"not a parameter of {kind} (takes {', '.join(names) or 'none'})"
    out: dict[str, Any] = {}
    for name in names:
        value = given.get(name)
        if name == "reply_window_s":
            value = DEFAULT_REPLY_WINDOW_S if value is None else value
            if not isinstance(value, int) or isinstance(value, bool):
                problems[name] = f"must be whole seconds, got {value!r}"
            elif not 1 <= value <= MAX_REPLY_WINDOW_S:
                problems[name] = f"must be 1..{MAX_REPLY_WINDOW_S} s, got {value}"
            out[name] = value
        elif name == "start_time":
            try:
                parsed = datetime.fromisoformat(str(value))
            except ValueError:
                problems[name] = f"must be an ISO 8601 time with a zone, got {value!r}"
                continue
            if parsed.tzinfo is None:
                problems[name] = f"needs a time zone, got {value!r}"
            out[name] = parsed.isoformat()
        else:
            high = _INTS[name]
            if value is None and name != "record_count":
                problems[name] = "is required"
            elif value is None:
                out[name] = high
            elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
                problems[name] = f"must be an integer in 0..{high}, got {value!r}"
            else:
                out[name] = value
    if problems:
        raise ValidationFailed(
            f"invalid parameters for {kind}",
            {"parameters": problems},
            text=TextCode.VALIDATION_FIELDS,
            params={"fields": sorted(problems)},
        )
    return out


def reply_timeout_min(reply_window_s: int) -> int:
    """The check post's wire timeout: the window in whole minutes, rounded up (1..255)."""
    return max(1, min(255, math.ceil(reply_window_s / 60)))


def build_object(kind: str, parameters: Mapping[str, Any], now: datetime) -> InfoObject:
    """The information object of a validated command."""
    flag = KINDS[kind]
    if flag is TypeFlag.CHECK_POST:
        return CheckPost(reply_timeout_min(int(parameters["reply_window_s"])))
    if flag is TypeFlag.SYNC_TRANSMITTER_CLOCK:
        return SyncTransmitterClock(now)
    values = dict(parameters)
    if "start_time" in values:
        values["start_time"] = datetime.fromisoformat(values["start_time"])
    return OBJECT_CLASSES[flag](**values)


def build_frame(
    kind: str,
    parameters: Mapping[str, Any],
    *,
    serial: int,
    now: datetime,
    centre_address: int,
    device_address: int,
) -> Frame:
    """The frame that sends a validated command: reads as requests (4), 89-91 as controls (1)."""
    flag = KINDS[kind]
    if flag in ANSWER_TYPE_FOR_READ:
        return query(
            [build_object(kind, parameters, now)],
            serial=serial,
            now=now,
            centre_address=centre_address,
            device_address=device_address,
        )
    if flag is TypeFlag.CHECK_POST:
        return check_post(
            serial=serial,
            now=now,
            centre_address=centre_address,
            device_address=device_address,
            reply_timeout_min=reply_timeout_min(int(parameters["reply_window_s"])),
        )
    builder = clock_sync if flag is TypeFlag.SYNC_TRANSMITTER_CLOCK else initialise
    return builder(
        serial=serial, now=now, centre_address=centre_address, device_address=device_address
    )
