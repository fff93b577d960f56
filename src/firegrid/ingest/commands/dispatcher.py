"""The downlink: sends commands to the transmitters connected to this ingest process.

One :class:`Downlink` runs beside each :class:`~firegrid.ingest.adapters.gb26875.server.
GB26875Server`. Several ingest processes may share the port; each holds its own connections,
and only the holder of a device's connection sends to it:

- **queued commands** (written by the API or the CLI in ``device_commands``) are read every
  ``queue_poll_s``; a command for a device connected here is claimed with a conditional
  ``UPDATE ... WHERE status = 'queued'`` (so exactly one process sends it), then written to
  the connection. A command no process claimed within ``not_connected_after_s`` becomes
  ``not_connected``;
- **schedules** (poll every ≤ 2 h, clock sync daily; :mod:`.schedule`) are kept in memory for
  the devices connected here, loaded from (or created in) ``device_command_schedules``; when
  one is due the command is stored as ``sent`` and the stored next-due time moves on in the
  same transaction, so a restart resumes where it stopped;
- **answers**: the server passes every confirm, deny and answer frame, and type-24 uploads
  while a check post is open, to :meth:`Downlink.observe`; a frame is matched to its request
  by serial number and type (:class:`~firegrid.ingest.adapters.gb26875.exchange.Exchanges`);
- **timeouts**: no answer within ``answer_timeout_s`` → the same frame again (same serial),
  up to ``tries`` times, then ``timed_out``. A check post, once confirmed, waits for the
  operator's button for its ``reply_window_s``; the reply (type 24, ``CHECK_POST_REPLY``)
  records the operator number and when it was pressed.

Results are written in batches every ``tick_s`` (worker threads); the event loop never waits
on the database while it matches.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import msgspec
from sqlalchemy import Table, bindparam, insert, select, update

from firegrid.core.clock import utcnow
from firegrid.devices.public import Device
from firegrid.ingest.adapters.gb26875.codec import (
    ApplicationData,
    Command,
    Frame,
    TypeFlag,
    encode_frame,
)
from firegrid.ingest.adapters.gb26875.exchange import (
    Exchanges,
    Outcome,
    Request,
    SerialCounter,
    check_post_replies,
)
from firegrid.ingest.commands import catalogue
from firegrid.ingest.commands.models import CommandStatus, DeviceCommand, DeviceCommandSchedule
from firegrid.ingest.commands.schedule import (
    CLOCK_SYNC,
    POLL,
    ScheduleSettings,
    default_schedule,
)
from firegrid.places.public import Venue

if TYPE_CHECKING:
    from firegrid.core.db import Database
    from firegrid.ingest.adapters.gb26875.server import GB26875Server

log = logging.getLogger(__name__)

PROTOCOL = "gb26875"
_SCHEDULED_KIND = {POLL: catalogue.POLL, CLOCK_SYNC: catalogue.CLOCK_SYNC}
_COMMANDS = cast(Table, DeviceCommand.__table__)
_SCHEDULES = cast(Table, DeviceCommandSchedule.__table__)
_UPDATE_COMMAND = (
    update(_COMMANDS)
    .where(_COMMANDS.c.id == bindparam("_id"))
    .values(
        status=bindparam("_status"),
        answered_at=bindparam("_answered_at"),
        finished_at=bindparam("_finished_at"),
        result=bindparam("_result"),
        serial=bindparam("_serial"),
    )
)
_UPDATE_SCHEDULE = (
    update(_SCHEDULES)
    .where(
        _SCHEDULES.c.device_id == bindparam("_device_id"), _SCHEDULES.c.kind == bindparam("_kind")
    )
    .values(
        next_due_at=bindparam("_next_due_at"),
        last_fired_at=bindparam("_last_fired_at"),
        period_s=bindparam("_period_s"),
    )
)


@dataclass(slots=True, eq=False)
class InFlight:
    """A command written to a connection and not finished yet."""

    command_id: int
    device_id: int
    kind: str
    serial: int
    data: bytes
    connection: Any
    sent_at: datetime
    deadline: float  # time.monotonic()
    tries: int = 1
    window_s: int = 0  # check post: the operator's answer window
    confirmed_at: datetime | None = None


@dataclass(slots=True)
class _Due:
    device_id: int
    kind: str  # POLL or CLOCK_SYNC
    period_s: int
    next_due_at: datetime


@dataclass
class _Send:
    """A command about to be sent: claimed from the queue (``command_id``) or scheduled."""

    device_id: int
    kind: str
    parameters: dict[str, Any]
    connection: Any
    serial: int
    frame: Frame
    data: bytes
    command_id: int | None = None
    schedule: _Due | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _jsonable(value: Any) -> Any:
    return msgspec.to_builtins(value, enc_hook=str)


class Downlink:
    """Sends, matches, times out and records the commands of one ingest process."""

    def __init__(
        self,
        server: GB26875Server,
        *,
        worker_id: str = "",
        tick_s: float = 0.2,
        queue_poll_s: float = 0.5,
        answer_timeout_s: float = 10.0,
        tries: int = 3,
        not_connected_after_s: float = 15.0,
        remap_s: float = 5.0,
        schedule: ScheduleSettings | None = None,
        schedules: bool = True,
        clock: Any = utcnow,
    ) -> None:
        self.server = server
        self.service = server.service
        self.db: Database = server.service.db
        self.worker_id = worker_id or "ingest"
        self.tick_s = tick_s
        self.queue_poll_s = queue_poll_s
        self.answer_timeout_s = answer_timeout_s
        self.tries = tries
        self.not_connected_after = timedelta(seconds=not_connected_after_s)
        self.remap_s = remap_s
        self.schedule = schedule or default_schedule()
        self.schedules_enabled = schedules
        self.clock = clock
        self.exchanges = Exchanges()
        self.inflight: dict[int, InFlight] = {}
        self.awaiting_operator: dict[int, InFlight] = {}
        self.by_device: dict[int, Any] = {}
        self._serials: dict[Any, SerialCounter] = {}
        self._updates: list[dict[str, Any]] = []
        self._due: dict[tuple[int, str], _Due] = {}
        self._heap: list[tuple[datetime, int, str]] = []
        self._mapped_at = -1e9
        self._queue_polled_at = -1e9
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.counters: dict[str, int] = {
            "sent": 0,
            "answered": 0,
            "timed_out": 0,
            "failed": 0,
            "not_connected": 0,
            "retries": 0,
            "wrong_type": 0,
            "scheduled": 0,
        }

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self._fail_left_over)
        self.server.downlink = self
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Stop after the current pass (a claimed command is always sent and recorded);
        commands still waiting for an answer are recorded ``failed``."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 10.0)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        now = self.clock()
        for flight in list(self.inflight.values()):
            self._finish(flight, CommandStatus.FAILED, now, {"reason": "ingest_stopped"})
        with contextlib.suppress(Exception):
            await self._flush()
        if self.server.downlink is self:
            self.server.downlink = None

    def _fail_left_over(self) -> None:
        """Commands this worker sent before a crash can no longer be matched: failed."""
        with self.db.engine.begin() as connection:
            connection.execute(
                update(_COMMANDS)
                .where(
                    _COMMANDS.c.status == CommandStatus.SENT, _COMMANDS.c.sent_by == self.worker_id
                )
                .values(
                    status=CommandStatus.FAILED,
                    finished_at=self.clock(),
                    result={"reason": "ingest_restarted"},
                )
            )

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.tick_s)
                return
            try:
                await self.tick()
            except Exception:  # one failure must not stop the downlink
                log.exception("downlink tick failed")

    async def tick(self) -> None:
        """One pass: map connections, queued commands, due schedules, timeouts, writes."""
        mono = time.monotonic()
        if mono - self._mapped_at >= self.remap_s:
            await self._remap(mono)
        sends: list[_Send] = []
        if mono - self._queue_polled_at >= self.queue_poll_s:
            self._queue_polled_at = mono
            sends.extend(await self._claim_queued(mono))
        if self.schedules_enabled:
            sends.extend(self._due_schedules())
        if sends:
            await self._send(sends)
        self._expire(time.monotonic())
        await self._flush()

    # -- connections --------------------------------------------------------------------------

    async def _remap(self, mono: float) -> None:
        lookup = self.service.lookup
        mapping: dict[int, Any] = {}
        for connection in self.server.connections:
            address = connection.address
            if address is None or connection.transport is None:
                continue
            ref = lookup(PROTOCOL, str(address))
            if ref is not None:
                mapping[ref.device_id] = connection
        new = [d for d in mapping if d not in self.by_device]
        self.by_device = mapping
        self._mapped_at = mono
        live = set(self._serials)
        for connection in live - set(mapping.values()):
            if connection.transport is None:
                del self._serials[connection]
        if new and self.schedules_enabled:
            for entry in await asyncio.to_thread(self._load_schedules, new):
                self._push(entry)

    def _connection(self, device_id: int) -> Any:
        connection = self.by_device.get(device_id)
        if connection is None or connection.transport is None or connection.transport.is_closing():
            return None
        return connection

    def _serial(self, connection: Any, device_id: int) -> int:
        counter = self._serials.get(connection)
        if counter is None:
            counter = self._serials[connection] = SerialCounter()
        return counter.take(lambda s: self.exchanges.is_open(device_id, s))

    # -- queued commands ----------------------------------------------------------------------

    async def _claim_queued(self, mono: float) -> list[_Send]:
        rows = await asyncio.to_thread(self._queued)
        if not rows:
            return []
        now = self.clock()
        if any(self._connection(r[1]) is None for r in rows) and mono - self._mapped_at > 1.0:
            await self._remap(mono)
        here: dict[int, tuple[int, str, dict[str, Any], Any]] = {}
        stale: list[int] = []
        for command_id, device_id, kind, parameters, requested_at in rows:
            connection = self._connection(device_id)
            if connection is None:
                if now - requested_at >= self.not_connected_after:
                    stale.append(command_id)
                continue
            here[command_id] = (device_id, kind, parameters or {}, connection)
        claimed, gone = await asyncio.to_thread(self._claim, list(here), stale, now)
        self.counters["not_connected"] += gone
        sends: list[_Send] = []
        for command_id in sorted(claimed):
            device_id, kind, parameters, connection = here[command_id]
            try:
                send = self._prepare(device_id, kind, parameters, connection, now)
            except (ValueError, KeyError, TypeError) as exc:  # a bad stored command
                reason = {"reason": str(exc)[:500]}
                self._updates.append(_row(command_id, CommandStatus.FAILED, None, now, reason))
                continue
            send.command_id = command_id
            sends.append(send)
        return sends

    def _queued(self) -> list[tuple[int, int, str, dict[str, Any], datetime]]:
        c = _COMMANDS.c
        with self.db.engine.connect() as connection:
            rows = connection.execute(
                select(c.id, c.device_id, c.kind, c.parameters, c.requested_at)
                .where(c.status == CommandStatus.QUEUED)
                .order_by(c.id)
                .limit(5000)
            ).all()
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def _claim(self, ids: list[int], stale: list[int], now: datetime) -> tuple[set[int], int]:
        """Take the queued commands ``ids`` for this process (a conditional update: a row
        another process took is not returned); mark ``stale`` ones not connected."""
        claimed: set[int] = set()
        gone = 0
        c = _COMMANDS.c
        with self.db.engine.begin() as connection:
            for start in range(0, len(ids), 900):
                claimed.update(
                    connection.execute(
                        update(_COMMANDS)
                        .where(c.id.in_(ids[start : start + 900]), c.status == CommandStatus.QUEUED)
                        .values(status=CommandStatus.SENT, sent_at=now, sent_by=self.worker_id)
                        .returning(c.id)
                    ).scalars()
                )
            for start in range(0, len(stale), 900):
                gone += connection.execute(
                    update(_COMMANDS)
                    .where(c.id.in_(stale[start : start + 900]), c.status == CommandStatus.QUEUED)
                    .values(
                        status=CommandStatus.NOT_CONNECTED,
                        finished_at=now,
                        result={"reason": "not_connected"},
                    )
                ).rowcount
        return claimed, gone

    def _prepare(
        self, device_id: int, kind: str, parameters: dict[str, Any], connection: Any, now: datetime
    ) -> _Send:
        if kind not in catalogue.KINDS:
            raise ValueError(f"unknown command kind {kind!r}")
        serial = self._serial(connection, device_id)
        frame = catalogue.build_frame(
            kind,
            parameters,
            serial=serial,
            now=now,
            centre_address=self.server.centre_address,
            device_address=connection.address,
        )
        return _Send(device_id, kind, parameters, connection, serial, frame, encode_frame(frame))

    # -- schedules ----------------------------------------------------------------------------

    def _load_schedules(self, device_ids: list[int]) -> list[_Due]:
        """The stored schedules of ``device_ids``; missing ones are created, spread over
        one period."""
        now = self.clock()
        out: list[_Due] = []
        s = _SCHEDULES.c
        with self.db.engine.begin() as connection:
            for start in range(0, len(device_ids), 500):
                chunk = device_ids[start : start + 500]
                stored = {
                    (d, k): (p, due)
                    for d, k, p, due in connection.execute(
                        select(s.device_id, s.kind, s.period_s, s.next_due_at).where(
                            s.device_id.in_(chunk)
                        )
                    ).all()
                }
                categories = dict(
                    connection.execute(
                        select(Device.id, Venue.category)
                        .join(Venue, Venue.id == Device.venue_id)
                        .where(Device.id.in_(chunk))
                    ).all()
                )
                fresh: list[dict[str, Any]] = []
                for device_id in chunk:
                    for kind in (POLL, CLOCK_SYNC):
                        period = self.schedule.period_s(kind, categories.get(device_id))
                        found = stored.get((device_id, kind))
                        if found is None:
                            due = self.schedule.first_due(kind, device_id, period, now)
                            fresh.append(
                                {
                                    "device_id": device_id,
                                    "kind": kind,
                                    "period_s": period,
                                    "next_due_at": due,
                                }
                            )
                        else:
                            due = found[1]
                            if found[0] != period and due > now + timedelta(seconds=period):
                                # the settings shortened the period: spread over the new one
                                due = self.schedule.first_due(kind, device_id, period, now)
                        out.append(_Due(device_id, kind, period, due))
                if fresh:
                    connection.execute(insert(_SCHEDULES), fresh)
        return out

    def _push(self, entry: _Due) -> None:
        self._due[(entry.device_id, entry.kind)] = entry
        heapq.heappush(self._heap, (entry.next_due_at, entry.device_id, entry.kind))

    def _due_schedules(self) -> list[_Send]:
        now = self.clock()
        heap = self._heap
        sends: list[_Send] = []
        while heap and heap[0][0] <= now:
            due_at, device_id, kind = heapq.heappop(heap)
            entry = self._due.get((device_id, kind))
            if entry is None or entry.next_due_at != due_at:
                continue  # superseded
            connection = self._connection(device_id)
            if connection is None:  # no longer here: reloaded if it connects again
                del self._due[(device_id, kind)]
                continue
            command_kind = _SCHEDULED_KIND[kind]
            parameters = catalogue.validate(command_kind, {})
            send = self._prepare(device_id, command_kind, parameters, connection, now)
            send.schedule = entry
            period = timedelta(seconds=entry.period_s)
            following = due_at + period
            entry.next_due_at = following if following > now else now + period
            heapq.heappush(heap, (entry.next_due_at, device_id, kind))
            sends.append(send)
        return sends

    # -- sending ------------------------------------------------------------------------------

    async def _send(self, sends: list[_Send]) -> None:
        now = self.clock()
        scheduled = [s for s in sends if s.command_id is None]
        if scheduled:
            ids = await asyncio.to_thread(self._store_scheduled, scheduled, now)
            for send, command_id in zip(scheduled, ids, strict=True):
                send.command_id = command_id
            self.counters["scheduled"] += len(scheduled)
        mono = time.monotonic()
        for send in sends:
            connection = send.connection
            if send.command_id is None:
                continue
            transport = connection.transport
            flight = InFlight(
                send.command_id,
                send.device_id,
                send.kind,
                send.serial,
                send.data,
                connection,
                now,
                mono + self.answer_timeout_s,
                window_s=int(send.parameters.get("reply_window_s", 0)),
            )
            if transport is None or transport.is_closing():
                self.inflight[flight.command_id] = flight  # recorded by _finish
                self._finish(flight, CommandStatus.FAILED, now, {"reason": "connection_lost"})
                continue
            flag = catalogue.KINDS[send.kind]
            self.exchanges.open(
                send.device_id, Request(send.serial, flag, Command(send.frame.command), flight)
            )
            self.inflight[flight.command_id] = flight
            if flag is TypeFlag.CHECK_POST:
                self.awaiting_operator[send.device_id] = flight
            transport.write(send.data)
            self.counters["sent"] += 1

    def _store_scheduled(self, sends: list[_Send], now: datetime) -> list[int]:
        """Insert the scheduled commands as sent and move their schedules on, atomically."""
        rows = []
        for send in sends:
            entry = send.schedule
            assert entry is not None
            venue_id, path = self._venue_of(send.device_id)
            rows.append(
                {
                    "device_id": send.device_id,
                    "venue_id": venue_id,
                    "jurisdiction_path": path,
                    "kind": send.kind,
                    "parameters": send.parameters,
                    "requested_by": "schedule",
                    "cause": f"schedule.{entry.kind}",
                    "requested_at": now,
                    "sent_at": now,
                    "sent_by": self.worker_id,
                    "serial": send.serial,
                    "status": CommandStatus.SENT,
                }
            )
        with self.db.engine.begin() as connection:
            ids = (
                connection.execute(
                    insert(_COMMANDS).returning(_COMMANDS.c.id, sort_by_parameter_order=True), rows
                )
                .scalars()
                .all()
            )
            connection.execute(
                _UPDATE_SCHEDULE,
                [
                    {
                        "_device_id": s.device_id,
                        "_kind": s.schedule.kind,
                        "_next_due_at": s.schedule.next_due_at,
                        "_last_fired_at": now,
                        "_period_s": s.schedule.period_s,
                    }
                    for s in sends
                    if s.schedule is not None
                ],
            )
        return [int(i) for i in ids]

    def _venue_of(self, device_id: int) -> tuple[int | None, str]:
        connection = self.by_device.get(device_id)
        address = None if connection is None else connection.address
        ref = None if address is None else self.service.lookup(PROTOCOL, str(address))
        if ref is None or ref.device_id != device_id:
            return None, ""
        return ref.venue_id, ref.jurisdiction_path or ""

    # -- answers (called by the server for each frame; no awaits) ------------------------------

    def observe(self, frame: Frame, now: datetime) -> None:
        command = frame.command
        if command is Command.SEND_DATA:
            if self.awaiting_operator:
                self._check_post_reply(frame, now)
            return
        if not (command is Command.ANSWER or command is Command.CONFIRM or command is Command.DENY):
            return
        if not len(self.exchanges):
            return
        ref = self.service.lookup(PROTOCOL, str(frame.source))
        if ref is None:
            return
        match = self.exchanges.match(ref.device_id, int(command), frame.serial, frame.adu)
        if match is None:
            return
        flight: InFlight = match.request.token
        outcome = match.outcome
        if outcome is Outcome.WRONG_TYPE:
            self.counters["wrong_type"] += 1
            log.warning(
                "downlink: device %s answered serial %d with another type",
                ref.external_id,
                frame.serial,
            )
            return
        if outcome is Outcome.DENIED:
            self._finish(flight, CommandStatus.FAILED, now, {"reason": "denied"})
            return
        if outcome is Outcome.ANSWERED:
            adu = frame.adu
            assert isinstance(adu, ApplicationData)
            result = {
                "type_flag": int(adu.type_flag),
                "objects": [{"type": type(o).__name__, **_jsonable(o)} for o in adu.objects],
            }
            self._finish(flight, CommandStatus.ANSWERED, now, result, answered_at=now)
            return
        # confirmed
        if flight.kind == catalogue.CHECK_POST:
            if flight.command_id in self.inflight:  # the operator may already have answered
                flight.confirmed_at = now
                flight.deadline = time.monotonic() + flight.window_s
                result = self._cp_result(flight)
                row = _row(flight.command_id, CommandStatus.SENT, None, None, result, flight.serial)
                self._updates.append(row)
            return
        self._finish(flight, CommandStatus.ANSWERED, now, {"confirmed": True}, answered_at=now)

    def _check_post_reply(self, frame: Frame, now: datetime) -> None:
        replies = check_post_replies(frame.adu)
        if not replies:
            return
        ref = self.service.lookup(PROTOCOL, str(frame.source))
        if ref is None:
            return
        flight = self.awaiting_operator.get(ref.device_id)
        if flight is None:
            return
        reply = replies[0]
        self.exchanges.close(flight.device_id, flight.serial)
        result = {
            **self._cp_result(flight),
            "answered": True,
            "operator_number": reply.operator_number,
            "pressed_at": _jsonable(reply.occurred_at),
            "answered_in_s": round((now - flight.sent_at).total_seconds(), 3),
        }
        self._finish(flight, CommandStatus.ANSWERED, now, result, answered_at=now)

    @staticmethod
    def _cp_result(flight: InFlight) -> dict[str, Any]:
        return {
            "reply_window_s": flight.window_s,
            "confirmed_at": None
            if flight.confirmed_at is None
            else flight.confirmed_at.isoformat(),
        }

    # -- timeouts and records -----------------------------------------------------------------

    def _expire(self, mono: float) -> None:
        now = self.clock()
        for flight in [f for f in self.inflight.values() if f.deadline <= mono]:
            waiting_operator = flight.confirmed_at is not None
            transport = flight.connection.transport
            alive = transport is not None and not transport.is_closing()
            if not waiting_operator and alive and flight.tries < self.tries:
                flight.tries += 1
                flight.deadline = mono + self.answer_timeout_s
                transport.write(flight.data)
                self.counters["retries"] += 1
                continue
            self.exchanges.close(flight.device_id, flight.serial)
            if waiting_operator:
                result = {**self._cp_result(flight), "answered": False}
            else:
                result = {"tries": flight.tries, "connection": "open" if alive else "lost"}
            self._finish(flight, CommandStatus.TIMED_OUT, now, result)

    def _finish(
        self,
        flight: InFlight,
        status: CommandStatus,
        now: datetime,
        result: dict[str, Any],
        *,
        answered_at: datetime | None = None,
    ) -> None:
        if self.inflight.pop(flight.command_id, None) is None:
            return
        if self.awaiting_operator.get(flight.device_id) is flight:
            del self.awaiting_operator[flight.device_id]
        self.counters[str(status)] += 1
        self._updates.append(
            _row(flight.command_id, status, answered_at, now, result, flight.serial)
        )

    async def _flush(self) -> None:
        if not self._updates:
            return
        rows, self._updates = self._updates, []
        try:
            await asyncio.to_thread(self._write, rows)
        except BaseException:
            self._updates[:0] = rows  # written with the next tick
            raise

    def _write(self, rows: Iterable[dict[str, Any]]) -> None:
        with self.db.engine.begin() as connection:
            connection.execute(_UPDATE_COMMAND, list(rows))


def _row(
    command_id: int,
    status: CommandStatus,
    answered_at: datetime | None,
    finished_at: datetime | None,
    result: dict[str, Any],
    serial: int | None = None,
) -> dict[str, Any]:
    return {
        "_id": command_id,
        "_status": str(status),
        "_answered_at": answered_at,
        "_finished_at": finished_at,
        "_result": result,
        "_serial": serial,
    }
