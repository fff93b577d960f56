"""The rules of ingest, shared by every adapter (no sockets here).

An adapter decodes a device message, then asks this service:

1. :meth:`IngestService.lookup` — is the device registered? (in-memory registry cache,
   loaded from ``devices`` and refreshed periodically);
2. registered → :meth:`IngestService.admit`: heartbeats update device state only; every
   other event is appended to the event log, and the call returns once it is durable;
3. unknown → :meth:`IngestService.quarantine`: the raw message and a summary are stored
   durably in ``quarantined_messages`` and the device is listed in ``quarantine_devices``;
4. undecodable → :meth:`IngestService.record_error` into ``ingest_errors``.

Only after 2 or 3 returns may the adapter acknowledge the device (GB CONFIRM, MQTT PUBACK,
HTTP 2xx). Background tasks refresh the registry, flush device state and detect offline
devices.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.devices.public import Device, DeviceRef, DeviceStateTracker
from firegrid.ingest.events import STATE_ONLY_KINDS, DeviceEvent
from firegrid.ingest.log import EventLog
from firegrid.ingest.log_db import BatchWriter
from firegrid.ingest.models import IngestError, QuarantineDevice, QuarantinedMessage
from firegrid.ops import metrics

if TYPE_CHECKING:
    from firegrid.ingest.adapters.payload import Rejection

log = logging.getLogger(__name__)

#: The consumer offset up to which ``device_state`` is known to include the logged events.
STATE_CONSUMER = "device-state"


@dataclass(frozen=True)
class IngestOptions:
    """Tunables of the ingest process."""

    registry_refresh_s: float = 10.0
    state_flush_s: float = 5.0
    offline_check_s: float = 15.0
    offline_grace_s: float = 600.0
    idle_timeout_s: float = 300.0
    #: names this process among several sharing the port; each keeps its own offset of how
    #: far its device-state flushes cover the log
    worker_id: str = ""
    #: a file for the registry cache, so a restarted process reads it and only the changes
    #: since (None: a full load at every start)
    registry_snapshot: str | None = None

    @property
    def state_consumer(self) -> str:
        return f"{STATE_CONSUMER}.{self.worker_id}" if self.worker_id else STATE_CONSUMER


@dataclass(frozen=True)
class QuarantineItem:
    protocol: str
    external_id: str
    received_at: datetime
    raw_hex: str
    summary: dict[str, Any]
    peer: str = ""


@dataclass
class IngestStats:
    """Counters for logs, the bench and ``/metrics``-style reports."""

    admitted: int = 0
    heartbeats: int = 0
    quarantined: int = 0
    errors: int = 0
    by_protocol: dict[str, int] = field(default_factory=dict)


class RegistryCache:
    """``(protocol, external_id)`` → :class:`DeviceRef`, loaded from the registry.

    :meth:`load` reads every live device; :meth:`refresh` reads only the devices changed
    since the last read (``updated_at``, with an overlap for transactions that committed
    late) and falls back to a full load every ``full_reload_s``. With 100,000 devices a full
    load is ~0.5 s of Python holding the GIL: done every few seconds it would stall every
    connection's confirms.
    """

    REFRESH_OVERLAP = timedelta(seconds=60)
    #: how stale the snapshot file may get while nothing changes
    SNAPSHOT_EVERY = timedelta(minutes=5)

    def __init__(
        self, db: Database, *, full_reload_s: float = 3600.0, snapshot: Path | None = None
    ) -> None:
        self.db = db
        self.full_reload = timedelta(seconds=full_reload_s)
        self.snapshot = snapshot
        self._snapshot_at: datetime | None = None
        self._refs: dict[tuple[str, str], DeviceRef] = {}
        self._keys: dict[int, tuple[str, str]] = {}  # device id -> its key in _refs
        self.loaded_at: datetime | None = None
        self._checked_at: datetime | None = None

    def __len__(self) -> int:
        return len(self._refs)

    def get(self, protocol: str, external_id: str) -> DeviceRef | None:
        return self._refs.get((protocol, external_id))

    def refs(self) -> list[DeviceRef]:
        return list(self._refs.values())

    def add(self, ref: DeviceRef) -> None:
        """Register ``ref`` (the new key is in place before an old one goes: a lookup
        running meanwhile never misses a known device)."""
        _apply(self._refs, self._keys, ref.device_id, ref)

    _COLUMNS = (
        Device.id,
        Device.protocol,
        Device.external_id,
        Device.venue_id,
        Device.jurisdiction_path,
    )

    def load(self) -> int:
        """Read every live device (blocking; run it in a thread from async code)."""
        started = utcnow()
        with self.db.session() as session:
            rows = session.execute(select(*self._COLUMNS).where(Device.deleted_at.is_(None))).all()
        refs: dict[tuple[str, str], DeviceRef] = {}
        keys: dict[int, tuple[str, str]] = {}
        for device_id, protocol, external_id, venue_id, path in rows:
            key = (protocol, external_id)
            refs[key] = DeviceRef(device_id, external_id, protocol, venue_id, path)
            keys[device_id] = key
        self._refs, self._keys = refs, keys
        self.loaded_at = self._checked_at = started
        self._write_snapshot()
        return len(refs)

    def load_quickly(self) -> int:
        """At start: the snapshot file plus the registry's changes since it was written (a
        full :meth:`load` when there is none, or it is older than ``full_reload``)."""
        if self._read_snapshot():
            self.refresh()
        else:
            self.load()
        return len(self._refs)

    def _read_snapshot(self) -> bool:
        if self.snapshot is None or not self.snapshot.exists():
            return False
        try:
            data = _SNAPSHOT.decode(self.snapshot.read_bytes())
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            log.warning("registry snapshot %s unreadable: full load", self.snapshot)
            return False
        if data.database != _database_key(self.db):
            return False
        refs: dict[tuple[str, str], DeviceRef] = {}
        keys: dict[int, tuple[str, str]] = {}
        for device_id, external_id, protocol, venue_id, path in data.refs:
            ref = DeviceRef(device_id, external_id, protocol, venue_id, path)
            refs[protocol, external_id] = ref
            keys[device_id] = (protocol, external_id)
        self._refs, self._keys = refs, keys
        self.loaded_at, self._checked_at = data.loaded_at, data.checked_at
        self._snapshot_at = data.checked_at
        return True

    def _write_snapshot(self) -> None:
        """Write the registry to the snapshot file (atomically; a failure only logs)."""
        if self.snapshot is None or self.loaded_at is None or self._checked_at is None:
            return
        data = _Snapshot(
            database=_database_key(self.db),
            loaded_at=self.loaded_at,
            checked_at=self._checked_at,
            refs=[
                (r.device_id, r.external_id, r.protocol, r.venue_id, r.jurisdiction_path)
                for r in self._refs.values()
            ],
        )
        try:
            self.snapshot.parent.mkdir(parents=True, exist_ok=True)
            partial = self.snapshot.with_suffix(".partial")
            partial.write_bytes(msgspec.msgpack.encode(data))
            os.replace(partial, self.snapshot)
        except OSError:
            log.warning("registry snapshot %s not written", self.snapshot, exc_info=True)
            return
        self._snapshot_at = self._checked_at

    def refresh(self) -> int:
        """Apply the registry's changes since the last read; returns devices re-read."""
        started = utcnow()
        if (
            self.loaded_at is None
            or self._checked_at is None
            or started - self.loaded_at >= self.full_reload
        ):
            return self.load()
        since = self._checked_at - self.REFRESH_OVERLAP
        with self.db.session() as session:
            rows = session.execute(
                select(*self._COLUMNS, Device.deleted_at).where(Device.updated_at >= since)
            ).all()
        if rows:
            # This runs in a worker thread while the event loop looks devices up: change
            # copies and swap them in, so a lookup never sees a device half re-registered.
            refs, keys = dict(self._refs), dict(self._keys)
            for device_id, protocol, external_id, venue_id, path, deleted_at in rows:
                live = deleted_at is None
                ref = DeviceRef(device_id, external_id, protocol, venue_id, path)
                _apply(refs, keys, device_id, ref if live else None)
            self._refs, self._keys = refs, keys
        self._checked_at = started
        if rows or self._snapshot_at is None or started - self._snapshot_at >= self.SNAPSHOT_EVERY:
            self._write_snapshot()
        return len(rows)


class _Snapshot(msgspec.Struct, frozen=True):
    """The registry cache on disk: which database, when read, and every live device."""

    database: str
    loaded_at: datetime
    checked_at: datetime
    refs: list[tuple[int, str, str, int | None, str]]


_SNAPSHOT = msgspec.msgpack.Decoder(_Snapshot)


def _database_key(db: Database) -> str:
    """Names the database without its password (the snapshot must not hold secrets)."""
    url = db.engine.url
    return hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()


def _apply(
    refs: dict[tuple[str, str], DeviceRef],
    keys: dict[int, tuple[str, str]],
    device_id: int,
    ref: DeviceRef | None,
) -> None:
    """Put ``ref`` for ``device_id`` (``None``: remove it), dropping its previous key."""
    old = keys.get(device_id)
    if ref is not None:
        key = (ref.protocol, ref.external_id)
        refs[key] = ref
        keys[device_id] = key
        if old == key:
            return
    else:
        keys.pop(device_id, None)
    if old is not None:
        current = refs.get(old)
        if current is not None and current.device_id == device_id:
            del refs[old]


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 3)


class IngestService:
    """Admit, quarantine or reject device messages; own the background tasks."""

    def __init__(
        self,
        db: Database,
        event_log: EventLog,
        *,
        state: DeviceStateTracker | None = None,
        options: IngestOptions | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.log = event_log
        self.options = options or IngestOptions()
        self.clock = clock
        self.state = state or DeviceStateTracker(
            offline_grace_s=self.options.offline_grace_s, clock=clock
        )
        snapshot = self.options.registry_snapshot
        self.registry = RegistryCache(db, snapshot=Path(snapshot) if snapshot else None)
        self.stats = IngestStats()
        self._quarantine: BatchWriter[QuarantineItem] = BatchWriter(
            self._commit_quarantine, name="quarantine"
        )
        self._errors: BatchWriter[dict[str, Any]] = BatchWriter(
            self._commit_errors, name="ingest-errors", max_delay_s=0.05
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._state_covers = 0  # log offset the next state flush will cover
        #: seconds spent in each phase of :meth:`start` (for the ready line and the bench)
        self.startup_s: dict[str, float] = {}
        self.startup_counts: dict[str, int] = {}
        #: set once device state is loaded and caught up (see :meth:`start`)
        self.state_ready = asyncio.Event()
        self._deferring = False  # start(defer_state=True) is loading device state
        self._state_until = 0  # the log's last offset at start: the catch-up's end
        # (device, logged events, seen at, readings) admitted before state was ready
        self._early: list[tuple[DeviceRef, list[DeviceEvent], datetime, dict[str, Any]]] = []

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, *, background: bool = True, defer_state: bool = False) -> None:
        """Connect the log, load the registry and device state, start the periodic tasks.

        ``defer_state``: return once the registry is loaded, so the adapters can confirm
        devices again within a second or two of a restart; device state (the stored table,
        then the events logged after its last flush) loads in the background meanwhile, and
        what is admitted before it is ready is applied to it afterwards, in order
        (:attr:`state_ready` is set then). Admitted events are durable either way.
        """
        if self._started:
            return
        self._started = True
        timings = self.startup_s
        phase = time.perf_counter()
        await self.log.start()
        self._state_until = await self.log.last_offset()
        timings["event_log"] = _since(phase)
        phase = time.perf_counter()
        await asyncio.to_thread(self.registry.load_quickly)
        timings["registry"] = _since(phase)
        self.startup_counts["devices"] = len(self.registry)
        if defer_state:
            self._deferring = True
            self._spawn(self._load_state_until_done())
        else:
            await self._load_state()
        if background:
            self._spawn(self._every(self.options.registry_refresh_s, self.refresh_and_replay))
            self._spawn(self._every(self.options.state_flush_s, self.flush_state))
            self._spawn(self._every(self.options.offline_check_s, self.check_offline))

    @property
    def state_loading(self) -> bool:
        """Device state is still loading in the background (see :meth:`start`)."""
        return self._deferring and not self.state_ready.is_set()

    async def _load_state_until_done(self, retry_s: float = 2.0) -> None:
        while True:
            try:
                await self._load_state()
                return
            except Exception:  # the database may be back in a moment; admissions queue up
                log.exception("ingest: loading device state failed; retrying in %.0fs", retry_s)
                await asyncio.sleep(retry_s)

    async def _load_state(self) -> None:
        """Device state as stored, plus the events logged up to start that its last flush did
        not cover, plus what was admitted since start; then :attr:`state_ready`."""
        timings = self.startup_s
        phase = time.perf_counter()
        await asyncio.to_thread(self.state.load, self.db)
        self.state.bind(self.registry.refs())
        timings["device_state"] = _since(phase)
        phase = time.perf_counter()
        replayed = await self.catch_up_state(until=self._state_until)
        while self._early:  # admissions that arrived while loading, in order
            early, self._early = self._early, []
            rows: list[DeviceEvent] = []
            for ref, logged, seen_at, readings in early:
                transition = self.state.seen(ref, seen_at, readings)
                for e in logged:
                    self.state.observe(e)
                if transition is not None:
                    rows.append(transition)
            if rows:
                await self.log.append_batch(rows)
                for e in rows:
                    self.state.observe(e)
            replayed += len(early)
        self.state_ready.set()  # no await since the queue was seen empty
        timings["catch_up"] = _since(phase)
        self.startup_counts.update(states=len(self.state), events_replayed=replayed)
        log.info("ingest: device state ready (%s)", self.startup_counts)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro))

    async def _every(self, period_s: float, job: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        while True:
            await asyncio.sleep(period_s)
            try:
                await job()
            except Exception:  # a periodic job must not die with one failure
                log.exception("ingest periodic job %s failed", getattr(job, "__name__", job))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.flush_state()
        await self._quarantine.close()
        await self._errors.close()
        await self.log.close()
        self._started = False

    async def refresh_registry(self) -> int:
        return await asyncio.to_thread(self.registry.refresh)

    async def refresh_and_replay(self) -> None:
        """The periodic job: registry changes, then the quarantine of adopted devices."""
        await self.refresh_registry()
        await self.replay_adopted()

    async def replay_adopted(self, *, chunk: int = 500) -> int:
        """Append the quarantined messages of adopted devices this process now knows
        (see :mod:`firegrid.ingest.replay`); returns the number of events stored."""
        from firegrid.ingest import replay

        if self.state_loading:
            return 0  # the next pass, once device state is loaded
        stored = 0
        for pending in await asyncio.to_thread(replay.pending_replays, self.db):
            ref = self.lookup(pending.protocol, pending.external_id)
            if ref is None:
                continue  # adopted, but not yet in this process's registry: next pass
            while True:
                messages = await asyncio.to_thread(replay.load_messages, self.db, pending, chunk)
                if not messages:
                    break
                events: list[DeviceEvent] = []
                for message in messages:
                    try:
                        events.extend(replay.message_events(message, pending.protocol, ref))
                    except Exception as exc:  # one bad message must not stall the replay
                        log.warning("replay of quarantined message %d", message.id, exc_info=True)
                        await self.record_error(
                            pending.protocol,
                            "replay_failed",
                            str(exc),
                            message.raw_hex[:8192],
                            external_id=pending.external_id,
                        )
                rows = [e for e in events if e.kind not in STATE_ONLY_KINDS]
                if rows:
                    await self.log.append_batch(rows)
                    for e in rows:
                        self.state.observe(e)
                through = messages[-1].id
                await asyncio.to_thread(replay.mark_replayed, self.db, pending, through, len(rows))
                pending = replay.PendingReplay(
                    pending.quarantine_id, pending.protocol, pending.external_id, through
                )
                stored += len(rows)
        return stored

    async def catch_up_state(self, *, until: int | None = None) -> int:
        """Apply the events logged after the last flush known to cover them.

        ``device_state`` is written every few seconds; after a crash the events of the last
        seconds are in the log but not in the table. The ``device-state`` consumer offset
        (one per ``worker_id`` when processes share the port) records how far this process's
        flushes are certain to cover; everything after it is replayed (in log order, so the
        result is the same however far back it starts). On the first start, with no offset
        stored yet, the table is taken as current and the offset row is created. ``until``:
        stop after this offset (the events after it were admitted by this process and are
        applied to the state as such).
        """
        consumer = self.log.consumer(self.options.state_consumer)
        after = await consumer.committed()
        if after is None:  # this process's first start: the offset row is created, even at 0
            self._state_covers = await self.log.last_offset() if until is None else until
            await consumer.commit(self._state_covers)
            return 0
        replayed = 0
        while (until is None or after < until) and (batch := await self.log.read(after, 5000)):
            for item in batch:
                if until is not None and item.offset > until:
                    return replayed
                self.state.replay(item.event)
                replayed += 1
            after = batch[-1].offset
        return replayed

    async def flush_state(self) -> int:
        """Write the devices changed since the last flush, in small transactions.

        Each chunk (at most ``STATE_CHUNK_ENTRIES`` alarm/fault entries) is encoded and written
        in a worker thread; between chunks the event loop runs, so a flush of many busy
        panels never holds the confirms of every connection for long.
        """
        if self.state_loading:  # a flush would write half of it
            return 0
        # Events durable now have been observed by the next flush (their append returned
        # milliseconds later): that flush records this offset as covered.
        try:
            logged = await self.log.last_offset()
        except Exception:  # the log is down: flush the state anyway, move no offset
            log.warning("device-state flush: the event log's offset is unknown", exc_info=True)
            covered = 0
        else:
            covered, self._state_covers = self._state_covers, logged
        rows = self.state.take_dirty()
        if not rows:
            await self._commit_state_cover(covered)
            return 0
        from firegrid.devices.public import state_row_chunks, write_state_rows

        written = 0
        try:
            for chunk in state_row_chunks(rows):
                await asyncio.to_thread(write_state_rows, self.db, chunk)
                written += len(chunk)
        except BaseException:
            self.state.mark_dirty(row["device_id"] for row in rows[written:])
            self._state_covers = covered or self._state_covers
            raise
        await self._commit_state_cover(covered)
        return written

    async def _commit_state_cover(self, offset: int) -> None:
        if offset:
            await self.log.consumer(self.options.state_consumer).commit(offset)

    async def check_offline(self) -> list[DeviceEvent]:
        """Append an ``offline`` event for every device past its grace period.

        Before calling a device offline, its stored state is read: another ingest process
        sharing the port may hold its connection (and have written a later ``last_seen``)
        or may have called it offline already.
        """
        from firegrid.devices.public import read_stored_seen

        if self.state_loading:
            return []
        now = self.clock()
        stale = self.state.offline_candidates(now)
        if not stale:
            return []
        self.state.merge_stored(await asyncio.to_thread(read_stored_seen, self.db, stale))
        events = self.state.check_offline(now, stale)
        if events:
            await self.log.append_batch(events)
        return events

    # -- the rules ----------------------------------------------------------------------------

    def lookup(self, protocol: str, external_id: str) -> DeviceRef | None:
        return self.registry.get(protocol, external_id)

    async def admit(
        self,
        ref: DeviceRef,
        events: Sequence[DeviceEvent],
        *,
        seen_at: datetime | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        """Store ``events`` of a registered device durably; heartbeats only touch state.

        Returns once every stored event is durable. ``seen_at`` (default: now) marks the
        device as heard from; an ``online`` transition is stored with the events.
        """
        await self.admit_many([(ref, events, seen_at or self.clock(), values)])

    async def admit_many(
        self,
        batches: Sequence[tuple[DeviceRef, Sequence[DeviceEvent], datetime, dict[str, Any] | None]],
    ) -> None:
        """:meth:`admit` for several devices with one append to the log."""
        rows: list[DeviceEvent] = []
        by_protocol = self.stats.by_protocol
        live = not self.state_loading
        early = []
        logged: dict[str, int] = {}
        heartbeats = 0
        for ref, events, seen_at, values in batches:
            stored = [e for e in events if e.kind not in STATE_ONLY_KINDS]
            readings: dict[str, Any] = dict(values or {})
            if len(stored) != len(events):
                for e in events:
                    if e.kind in STATE_ONLY_KINDS:
                        readings.update(e.values)
            heartbeats += len(events) - len(stored)
            if live:
                transition = self.state.seen(ref, seen_at, readings)
                if transition is not None:
                    stored.append(transition)
            else:  # applied to the state once it is loaded (:meth:`_load_state`)
                early.append((ref, stored, seen_at, readings))
            rows.extend(stored)
            logged[ref.protocol] = logged.get(ref.protocol, 0) + len(stored)
            by_protocol[ref.protocol] = by_protocol.get(ref.protocol, 0) + len(events)
        if heartbeats:  # once per call: a metric's lock per device was a cost per frame
            self.stats.heartbeats += heartbeats
            metrics.INGEST_HEARTBEATS.inc(heartbeats)
        if rows:
            started = time.perf_counter()
            await self.log.append_batch(rows)
            metrics.INGEST_APPEND_SECONDS.observe(time.perf_counter() - started)
            for protocol, count in logged.items():
                metrics.INGEST_EVENTS.labels(protocol).inc(count)
        if live:
            for e in rows:
                self.state.observe(e)
        elif not self.state_loading:  # became ready during the append: apply them now
            for ref, stored, seen_at, readings in early:
                transition = self.state.seen(ref, seen_at, readings)
                for e in stored:
                    self.state.observe(e)
                if transition is not None:
                    await self.log.append_batch([transition])
                    self.state.observe(transition)
        else:
            self._early.extend(early)
        self.stats.admitted += len(rows)

    async def quarantine(self, item: QuarantineItem) -> None:
        """Keep a well-formed message of an unknown device; durable when this returns."""
        await self._quarantine.submit([item])
        self.stats.quarantined += 1
        metrics.INGEST_QUARANTINED.inc()

    async def record_error(
        self,
        protocol: str,
        kind: str,
        message: str,
        raw_hex: str = "",
        *,
        peer: str = "",
        external_id: str | None = None,
    ) -> None:
        """Keep a decode error (raw as hex) in ``ingest_errors``."""
        self.stats.errors += 1
        metrics.INGEST_ERRORS.inc()
        await self._errors.submit(
            [
                {
                    "protocol": protocol,
                    "peer": peer,
                    "external_id": external_id,
                    "kind": kind,
                    "message": message[:2000],
                    "raw_hex": raw_hex[:8192],
                    "received_at": self.clock(),
                }
            ]
        )

    async def record_rejections(
        self,
        protocol: str,
        rejections: Sequence[Rejection],
        *,
        where: str,
        peer: str = "",
        external_id: str | None = None,
    ) -> None:
        """Keep rejected payloads/events (raw as hex) in ``ingest_errors``; durable when this
        returns. Kind ``bad_payload`` for a whole payload, ``bad_event`` for one event."""
        if not rejections:
            return
        now = self.clock()
        rows = []
        for r in rejections:
            item = "payload" if r.index is None else f"event {r.index}"
            details = "" if r.details is None else f" {json.dumps(r.details, default=str)}"
            rows.append(
                {
                    "protocol": protocol,
                    "peer": peer,
                    "external_id": external_id,
                    "kind": "bad_payload" if r.index is None else "bad_event",
                    "message": f"{where}: {item}: {r.code}: {r.message}{details}"[:2000],
                    "raw_hex": r.raw.hex()[:8192],
                    "received_at": now,
                }
            )
        self.stats.errors += len(rows)
        await self._errors.submit(rows)

    # -- commits (worker threads) ---------------------------------------------------------------

    def _commit_errors(self, rows: list[dict[str, Any]]) -> None:
        with self.db.engine.begin() as connection:
            connection.execute(insert(IngestError), rows)

    def _commit_quarantine(self, items: list[QuarantineItem]) -> None:
        messages = [
            {
                "protocol": i.protocol,
                "external_id": i.external_id,
                "received_at": i.received_at,
                "raw_hex": i.raw_hex,
                "summary": i.summary,
            }
            for i in items
        ]
        devices: dict[tuple[str, str], dict[str, Any]] = {}
        for i in items:
            key = (i.protocol, i.external_id)
            entry = devices.get(key)
            if entry is None:
                devices[key] = {
                    "protocol": i.protocol,
                    "external_id": i.external_id,
                    "first_seen": i.received_at,
                    "last_seen": i.received_at,
                    "message_count": 1,
                    "last_peer": i.peer,
                }
            else:
                entry["first_seen"] = min(entry["first_seen"], i.received_at)
                entry["last_seen"] = max(entry["last_seen"], i.received_at)
                entry["message_count"] += 1
                entry["last_peer"] = i.peer
        with self.db.engine.begin() as connection:
            connection.execute(insert(QuarantinedMessage), messages)
            upsert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
            for row in devices.values():
                stmt: Any = upsert(QuarantineDevice).values(**row)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["protocol", "external_id"],
                    set_={
                        "last_seen": stmt.excluded.last_seen,
                        "message_count": QuarantineDevice.message_count
                        + stmt.excluded.message_count,
                        "last_peer": stmt.excluded.last_peer,
                    },
                )
                connection.execute(stmt)
