"""How a simulated transmitter answers the centre's downstream commands.

- a read (command 4, types 61-68 and 81-88): command 5 with the same serial and the matching
  upload type (``ANSWER_TYPE_FOR_READ``), one plausible object;
- initialise (89), clock sync (90): confirm (3) (a clock sync also sets the simulated clock);
- check post (91): confirm at once; then a simulated operator presses the button after
  ``operator_delay_s`` (type-24 upload with ``CHECK_POST_REPLY``), or, with probability
  ``1 - operator_answer_ratio``, nobody is in the control room and nothing comes back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from firegrid.core.clock import CHINA_TZ, utcnow
from firegrid.ingest.adapters.gb26875.codec import (
    AnalogValue,
    ApplicationData,
    Command,
    ComponentConfiguration,
    ComponentStatus,
    ComponentStatusFlag,
    Frame,
    InfoObject,
    SyncTransmitterClock,
    SystemClock,
    SystemConfiguration,
    SystemOperation,
    SystemOperationFlag,
    SystemSoftwareVersion,
    SystemStatus,
    SystemStatusFlag,
    TransmitterClock,
    TransmitterConfiguration,
    TransmitterOperation,
    TransmitterOperationFlag,
    TransmitterSoftwareVersion,
    TransmitterStatus,
    TransmitterStatusFlag,
    TypeFlag,
    encode_frame,
)


def _addr(obj: Any) -> tuple[int, int]:
    return getattr(obj, "system_type", 1), getattr(obj, "system_address", 1)


def answer_object(request: InfoObject, now: datetime) -> InfoObject:
    """A plausible answer to one read object (the simulator's installation is all normal)."""
    flag = request.TYPE_FLAG
    st, sa = _addr(request)
    component = getattr(request, "component_address", 1)
    answers: dict[TypeFlag, Any] = {
        TypeFlag.READ_SYSTEM_STATUS: lambda: SystemStatus(st, sa, SystemStatusFlag.NORMAL, now),
        TypeFlag.READ_COMPONENT_STATUS: lambda: ComponentStatus(
            st, sa, 42, component, ComponentStatusFlag.NORMAL, f"点位{component % 1000}", now
        ),
        TypeFlag.READ_COMPONENT_ANALOG_VALUES: lambda: AnalogValue(
            st, sa, 91, component, 4, 5, now
        ),
        TypeFlag.READ_SYSTEM_OPERATIONS: lambda: SystemOperation(
            st, sa, SystemOperationFlag.SELF_TEST, 1, now
        ),
        TypeFlag.READ_SYSTEM_SOFTWARE_VERSION: lambda: SystemSoftwareVersion(st, sa, 2, 1),
        TypeFlag.READ_SYSTEM_CONFIGURATION: lambda: SystemConfiguration(st, sa, "模拟火灾报警系统"),
        TypeFlag.READ_COMPONENT_CONFIGURATION: lambda: ComponentConfiguration(
            st, sa, 42, component, f"点位{component % 1000}"
        ),
        TypeFlag.READ_SYSTEM_CLOCK: lambda: SystemClock(st, sa, now),
        TypeFlag.READ_TRANSMITTER_STATUS: lambda: TransmitterStatus(
            TransmitterStatusFlag.NORMAL, now
        ),
        TypeFlag.READ_TRANSMITTER_OPERATIONS: lambda: TransmitterOperation(
            TransmitterOperationFlag.SELF_TEST, 1, now
        ),
        TypeFlag.READ_TRANSMITTER_SOFTWARE_VERSION: lambda: TransmitterSoftwareVersion(1, 3),
        TypeFlag.READ_TRANSMITTER_CONFIGURATION: lambda: TransmitterConfiguration(
            "firegrid simulator"
        ),
        TypeFlag.READ_TRANSMITTER_CLOCK: lambda: TransmitterClock(now),
    }
    made: InfoObject = answers[flag]()
    return made


@dataclass
class DownlinkResponder:
    """The transmitter side of downstream exchanges for one simulated device."""

    address: int
    operator_answer_ratio: float = 0.9
    operator_delay_s: float = 1.0
    operator_number: int = 1
    rng: random.Random = field(default_factory=random.Random)
    clock_offset: timedelta = timedelta(0)
    handled: dict[str, int] = field(default_factory=dict)

    def now(self) -> datetime:
        return (utcnow() + self.clock_offset).astimezone(CHINA_TZ).replace(microsecond=0)

    def handle(self, frame: Frame) -> tuple[bytes | None, InfoObject | None, float]:
        """The immediate reply to ``frame`` (or None), and a later upload with its delay
        (the operator's check-post answer, or None)."""
        adu = frame.adu
        if frame.command not in (Command.REQUEST, Command.CONTROL) or not isinstance(
            adu, ApplicationData
        ):
            return None, None, 0.0
        flag = adu.type_flag
        self.handled[flag.name.lower()] = self.handled.get(flag.name.lower(), 0) + 1
        now = self.now()
        if flag is TypeFlag.SYNC_TRANSMITTER_CLOCK and adu.objects:
            obj = adu.objects[0]
            if isinstance(obj, SyncTransmitterClock) and isinstance(obj.centre_time, datetime):
                self.clock_offset = obj.centre_time - utcnow()
        if flag in (
            TypeFlag.SYNC_TRANSMITTER_CLOCK,
            TypeFlag.INITIALISE_TRANSMITTER,
            TypeFlag.CHECK_POST,
        ):
            reply = self._reply(frame, Command.CONFIRM, None, now)
            if flag is TypeFlag.CHECK_POST and self.rng.random() < self.operator_answer_ratio:
                operation = TransmitterOperation(
                    TransmitterOperationFlag.CHECK_POST_REPLY, self.operator_number, now
                )
                return reply, operation, self.operator_delay_s
            return reply, None, 0.0
        answers = tuple(answer_object(obj, now) for obj in adu.objects)
        if not answers:
            return self._reply(frame, Command.DENY, None, now), None, 0.0
        return self._reply(frame, Command.ANSWER, ApplicationData.of(answers), now), None, 0.0

    def _reply(
        self, frame: Frame, command: Command, adu: ApplicationData | None, now: datetime
    ) -> bytes:
        return encode_frame(
            Frame(frame.serial, frame.version, now, self.address, frame.source, command, adu)
        )
