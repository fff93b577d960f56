"""Which frame from a transmitter answers which request of the centre (pure, no I/O).

The centre starts an exchange with its own serial number (note §1.4): a query (command 4,
types 61-68 and 81-88) is answered by command 5 with the **same serial** and the upload type
``ANSWER_TYPE_FOR_READ`` names; a control (command 1, or 4 for types 89-91) is confirmed (3)
or denied (6) with the same serial. :class:`Exchanges` keeps the open requests per device and
says what an incoming frame means for them. The operator's answer to a check post (type 24
with ``CHECK_POST_REPLY``) carries the device's own serial, so it is matched by device, not
here.

Serial numbers: one counter per connection, starting at 0 on a fresh connection
(:class:`SerialCounter`); a number still open is skipped.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from .flags import ANSWER_TYPE_FOR_READ, Command, TransmitterOperationFlag, TypeFlag
from .objects import ApplicationData, TransmitterOperation

#: Type flags the centre sends (note §4, downstream table) and those a transmitter sends.
DOWNSTREAM_TYPES = frozenset(t for t in TypeFlag if t >= TypeFlag.READ_SYSTEM_STATUS)
UPSTREAM_TYPES = frozenset(t for t in TypeFlag if t < TypeFlag.READ_SYSTEM_STATUS)


def direction_of(type_flag: int) -> str | None:
    """``"up"`` or ``"down"`` for a known type flag, None for reserved/user-defined ones."""
    if type_flag in DOWNSTREAM_TYPES:
        return "down"
    if type_flag in UPSTREAM_TYPES:
        return "up"
    return None


class Outcome(enum.StrEnum):
    """What a device frame means for the request it answers."""

    ANSWERED = "answered"  # command 5 with the expected type
    CONFIRMED = "confirmed"  # command 3
    DENIED = "denied"  # command 6
    WRONG_TYPE = "wrong_type"  # command 5 with the request's serial but another type


@dataclass(frozen=True, slots=True)
class Request:
    """An open request: its serial, type flag, command byte and the caller's ``token``."""

    serial: int
    type_flag: TypeFlag
    command: Command
    token: Any

    @property
    def answer_type(self) -> TypeFlag | None:
        """The upload type of the answer (None: a control, confirmed rather than answered)."""
        return ANSWER_TYPE_FOR_READ.get(self.type_flag)


@dataclass(frozen=True, slots=True)
class Match:
    request: Request
    outcome: Outcome


class Exchanges:
    """Open requests keyed by ``(device, serial)``; ``device`` is any hashable key."""

    def __init__(self) -> None:
        self._open: dict[tuple[Hashable, int], Request] = {}

    def __len__(self) -> int:
        return len(self._open)

    def is_open(self, device: Hashable, serial: int) -> bool:
        return (device, serial) in self._open

    def open(self, device: Hashable, request: Request) -> None:
        key = (device, request.serial)
        if key in self._open:
            raise ValueError(f"serial {request.serial} is already open for {device!r}")
        self._open[key] = request

    def close(self, device: Hashable, serial: int) -> Request | None:
        return self._open.pop((device, serial), None)

    def match(self, device: Hashable, command: int, serial: int, adu: Any) -> Match | None:
        """What the frame ``(command, serial, adu)`` from ``device`` means; a match that
        ends the exchange closes it. Frames that answer nothing give None."""
        request = self._open.get((device, serial))
        if request is None:
            return None
        if command == Command.ANSWER:
            expected = request.answer_type
            got = adu.type_flag if isinstance(adu, ApplicationData) else None
            if expected is None or got != expected:
                return Match(request, Outcome.WRONG_TYPE)
            outcome = Outcome.ANSWERED
        elif command == Command.CONFIRM:
            outcome = Outcome.CONFIRMED
        elif command == Command.DENY:
            outcome = Outcome.DENIED
        else:
            return None
        del self._open[(device, serial)]
        return Match(request, outcome)


def check_post_replies(adu: Any) -> list[TransmitterOperation]:
    """The operator's check-post answers (type 24 with ``CHECK_POST_REPLY``) in an ADU."""
    if not isinstance(adu, ApplicationData) or adu.type_flag != TypeFlag.TRANSMITTER_OPERATION:
        return []
    bit = int(TransmitterOperationFlag.CHECK_POST_REPLY)
    return [
        obj
        for obj in adu.objects
        if isinstance(obj, TransmitterOperation) and int(obj.operations) & bit
    ]


class SerialCounter:
    """The centre's serial numbers on one connection: 0, 1, 2 ... wrapping at 65535."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next = 0

    def take(self, is_open: Any = None) -> int:
        """The next number; ``is_open(serial)`` skips numbers still in use."""
        for _ in range(0x10000):
            serial = self._next
            self._next = (serial + 1) & 0xFFFF
            if is_open is None or not is_open(serial):
                return serial
        raise RuntimeError("all 65536 serial numbers are open")
