"""The production event log: a NATS JetStream stream (default ``FIREGRID_EVENTS``).

- File storage; one subject per protocol, ``<stream>.events.<protocol>``.
- Each event is published with header ``Nats-Msg-Id`` = ``event_id``; the server drops a
  message whose id it has seen within the stream's duplicate window (default 10 minutes),
  which covers device retransmissions after a lost confirm.
- :meth:`JetStreamEventLog.append_batch` publishes the batch concurrently and returns when
  the server has acknowledged every message (a JetStream ack means stored in the stream;
  with replicas > 1, stored on a quorum). The device is confirmed only after that.
- After each stored batch the appender publishes an empty message on
  ``_FGLOG.appended.<stream>`` (core NATS, not stored): an idle reader waits for it
  (:meth:`JetStreamEventLog.wait_for_append`) instead of polling the stream; a ring lost
  while NATS reconnects only delays the reader to its next timed read.
- Offsets are stream sequence numbers. Consumer offsets are kept in the database
  (``event_consumers``) like the embedded log's, so the two backends share one interface;
  the state tables live in PostgreSQL in this profile.

Deployment binding: the stream's description carries the database's deployment id
(:mod:`firegrid.core.deployment`); a stream of another deployment, or an unstamped one with
events that this database never read, is refused (:class:`DeploymentMismatch`) before
anything is replayed. ``FIREGRID_NATS_URL`` may list a cluster's servers (comma-separated)
and ``FIREGRID_EVENT_REPLICAS`` sets the stream's replicas (3 on a 3-node cluster; an
existing stream is updated to it).

Durability note: a single NATS server acknowledges once the message is written to its file
store (page cache; ``sync_interval`` decides when it is fsynced). It survives a crash of the
ingest process and of NATS itself, not a power cut of a one-node server: run a 3-node
cluster with ``num_replicas=3`` for that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import nats
from nats.js import api as js_api
from nats.js.errors import BadRequestError, NotFoundError

from firegrid.core.db import Database
from firegrid.core.deployment import deployment_id
from firegrid.core.settings import nats_servers
from firegrid.core.texts import TextCode
from firegrid.ingest.events import DeviceEvent, decode_event, encode_event
from firegrid.ingest.log import Consumer, LoggedEvent
from firegrid.ingest.log_db import LogUnavailable
from firegrid.ingest.nats_acks import ERROR_MARK, read_acks_in_bulk

log = logging.getLogger(__name__)

DEFAULT_STREAM = "FIREGRID_EVENTS"
DUPLICATE_WINDOW_S = 600.0
PUBLISH_TIMEOUT_S = 10.0
#: a batch not acknowledged this soon is published again (same message ids: deduplicated)
ACK_RETRY_S = 1.0
CONNECT_TIMEOUT_S = 5.0
#: a kept reader unused this long is replaced (its consumer's inactive threshold is 30 s)
READER_IDLE_S = 20.0
#: the core NATS subject an appender rings (empty message) after each stored batch; outside
#: the stream's subjects, so the stream never stores it
DOORBELL_PREFIX = "_FGLOG.appended"


DEPLOYMENT_MARK = "firegrid event log; deployment "
#: JetStream's answer while a cluster is still forming (too few servers to place the replicas)
NO_PLACEMENT_ERR_CODE = 10005
#: how long a start waits for a forming cluster to place the stream's replicas
PLACEMENT_WAIT_S = 30.0


class DeploymentMismatch(LogUnavailable):
    """The stream holds another deployment's events (or unknown ones) than this database's."""

    code = "event_log_deployment_mismatch"


def stream_deployment(description: str | None) -> str | None:
    """The deployment id a stream's description carries, if any."""
    if description and description.startswith(DEPLOYMENT_MARK):
        return description[len(DEPLOYMENT_MARK) :].strip() or None
    return None


def _has_read_jetstream(db: Database) -> bool:
    from sqlalchemy import select

    from firegrid.ingest.models import EventConsumer

    with db.session() as session:
        return (
            session.scalar(
                select(EventConsumer.name)
                .where(EventConsumer.backend == "jetstream", EventConsumer.offset > 0)
                .limit(1)
            )
            is not None
        )


#: tokens of a JetStream delivery's reply subject without / with a domain
#: (``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.…``, 9 tokens, or
#: ``$JS.ACK.<domain>.<account hash>.<stream>.…``, 12 or more)
_V1_TOKENS = 9


def _stream_sequence(message: Any) -> int:
    """The stream sequence of a delivered message, read from its reply subject (what
    ``message.metadata.sequence.stream`` gives, without building the metadata objects)."""
    reply = message.reply
    if reply and reply.startswith("$JS.ACK."):
        tokens = reply.split(".")
        if len(tokens) == _V1_TOKENS:
            return int(tokens[5])
        if len(tokens) >= _V1_TOKENS + 2:
            return int(tokens[7])
    return int(message.metadata.sequence.stream)


#: statuses that end a pull request: no messages (now), request timeout
_END_OF_PULL = frozenset({"404", "408"})
_IDLE_HEARTBEAT = "100"


async def _fetch(reader: Any, count: int, timeout_s: float) -> list[Any]:
    """Up to ``count`` messages of the pull consumer ``reader``, with one ``no_wait`` pull
    request: what ``reader.fetch(count, timeout=timeout_s)`` returns, without its cost per
    message (nats-py waits for each delivered message with a new task, a uuid and a
    ``wait_for``; here the subscription's queue is drained as it fills, with one wait per
    socket read). Raises ``TimeoutError`` when the request brought nothing (the server's
    end status, or ``timeout_s`` passed).

    Uses the subscription's internals; falls back to ``fetch`` when they are missing."""
    sub = getattr(reader, "_sub", None)
    queue = getattr(sub, "_pending_queue", None)
    subject = getattr(reader, "_nms", None)
    inbox = getattr(reader, "_deliver", None)
    nc = getattr(reader, "_nc", None)
    if sub is None or queue is None or subject is None or inbox is None or nc is None:
        return list(await reader.fetch(count, timeout=timeout_s))
    messages: list[Any] = []

    def take(message: Any) -> bool:
        """Keep a delivered message; True when ``message`` ends the request."""
        sub._pending_size -= len(message.data)
        queue.task_done()
        status = message.headers.get("Status") if message.headers else None
        if status is None:
            messages.append(message)
            return False
        if status in _END_OF_PULL:
            return True
        if status == _IDLE_HEARTBEAT:
            return False
        description = message.headers.get("Description", "")
        raise LogUnavailable(
            f"JetStream refused the read: {status} {description}".strip(),
            text=TextCode.SERVICE_EVENT_LOG_UNAVAILABLE,
            params={},
        )

    # what an earlier request left (its end status, or messages after a timeout)
    while not queue.empty() and len(messages) < count:
        message = queue.get_nowait()
        sub._pending_size -= len(message.data)
        queue.task_done()
        if not (message.headers and message.headers.get("Status")):
            messages.append(message)
    if len(messages) >= count:
        return messages
    request = b'{"batch":%d,"no_wait":true}' % (count - len(messages))
    await nc.publish(subject, request, reply=inbox)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while len(messages) < count:
        if queue.empty():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                message = await asyncio.wait_for(queue.get(), remaining)
            except TimeoutError:
                break
        else:
            message = queue.get_nowait()
        if take(message):
            break
    if not messages:  # the caller starts a new consumer (as after ``fetch``'s timeout)
        raise TimeoutError(f"the pull consumer delivered nothing in {timeout_s} s")
    return messages


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError("JetStream acknowledgements timed out"))


class _ReaderOutOfStep(Exception):
    """The kept pull consumer delivered another sequence than the next one expected."""


class JetStreamEventLog:
    """:class:`~firegrid.ingest.log.EventLog` on a JetStream stream."""

    backend = "jetstream"

    def __init__(
        self,
        url: str,
        db: Database,
        *,
        stream: str = DEFAULT_STREAM,
        replicas: int = 1,
        duplicate_window_s: float = DUPLICATE_WINDOW_S,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.connect_timeout_s = connect_timeout_s
        self.url = url
        self.db = db
        self.stream = stream
        self.subject_prefix = f"{stream.lower()}.events"
        self.replicas = replicas
        self.duplicate_window_s = duplicate_window_s
        self._nc: Any = None
        self._js: Any = None
        self._lock = asyncio.Lock()
        self._ack_prefix = ""
        self._next_batch = 0
        self._pending: dict[str, list[Any]] = {}
        self._subjects: dict[str, bytes] = {}
        self._read_lock = asyncio.Lock()
        self._reader: Any = None
        self._reader_next = 0
        self._reader_used = 0.0
        self.doorbell_subject = f"{DOORBELL_PREFIX}.{stream}"
        self._appended = asyncio.Event()
        self._doorbell: Any = None  # the subscription, made by the first wait

    async def start(self) -> None:
        async with self._lock:
            if self._js is not None:
                return
            try:
                self._nc = await asyncio.wait_for(
                    nats.connect(
                        servers=nats_servers(self.url),
                        connect_timeout=2,
                        max_reconnect_attempts=-1,
                        reconnect_time_wait=0.5,
                        skip_subject_validation=True,
                    ),
                    self.connect_timeout_s,
                )
            except Exception as exc:
                raise LogUnavailable(
                    f"NATS at {self.url} is not reachable: {exc}",
                    text=TextCode.SERVICE_EVENT_LOG_UNAVAILABLE,
                    params={},
                ) from exc
            self._js = self._nc.jetstream()
            self._ack_prefix = f"_FGACK.{self._nc.new_inbox().rsplit('.', 1)[-1]}"
            acks = await self._nc.subscribe(f"{self._ack_prefix}.*", cb=self._on_ack)
            self._take_acks_raw(acks)
            deployment = await asyncio.to_thread(deployment_id, self.db)
            config = js_api.StreamConfig(
                name=self.stream,
                description=f"{DEPLOYMENT_MARK}{deployment}",
                subjects=[f"{self.subject_prefix}.>"],
                storage=js_api.StorageType.FILE,
                num_replicas=self.replicas,
                duplicate_window=self.duplicate_window_s,
            )
            try:
                info = await self._js.stream_info(self.stream)
            except NotFoundError:
                await self._add_stream(config)
                return
            await self._bind(info, config, deployment)

    async def _add_stream(self, config: Any) -> None:
        """Create the stream; while a cluster that has just started cannot yet place its
        replicas ("no suitable peers for placement"), try again for up to
        ``PLACEMENT_WAIT_S`` seconds."""
        assert self._js is not None
        deadline = time.monotonic() + PLACEMENT_WAIT_S
        while True:
            try:
                await self._js.add_stream(config)
                return
            except BadRequestError as err:
                if err.err_code != NO_PLACEMENT_ERR_CODE or time.monotonic() > deadline:
                    raise
                log.info("JetStream cannot place the stream's replicas yet; trying again")
                await asyncio.sleep(0.5)

    async def _bind(self, info: Any, config: Any, deployment: str) -> None:
        """Check that the existing stream belongs to this database's deployment (stamp an
        unstamped one this database has read from, or an empty one) and has the configured
        replicas; refuse a stranger's stream before any of its events are read."""
        stamped = stream_deployment(info.config.description)
        if stamped is not None and stamped != deployment:
            raise DeploymentMismatch(
                f"the JetStream stream {self.stream} belongs to deployment {stamped}; this "
                f"database is deployment {deployment}: reading it would replay another "
                "deployment's events into this database",
                {"stream": self.stream, "stream_deployment": stamped, "deployment": deployment},
                text=TextCode.SERVICE_DEPLOYMENT_MISMATCH,
                params={"stream": self.stream},
            )
        if stamped is None and info.state.messages > 0:
            consumed = await asyncio.to_thread(_has_read_jetstream, self.db)
            if not consumed:
                raise DeploymentMismatch(
                    f"the JetStream stream {self.stream} holds {info.state.messages} events of "
                    "an unknown deployment and this database has never read a stream: "
                    "use another FIREGRID_EVENT_STREAM, or delete the old stream",
                    {"stream": self.stream, "messages": info.state.messages},
                    text=TextCode.SERVICE_DEPLOYMENT_MISMATCH,
                    params={"stream": self.stream},
                )
        if stamped is None or info.config.num_replicas != self.replicas:
            await self._js.update_stream(config)

    async def close(self) -> None:
        await self._drop_reader()
        await self._drop_doorbell()
        if self._nc is not None:
            await self._nc.drain()
        self._nc = None
        self._js = None

    async def delete_stream(self) -> None:
        """Remove the stream (tests use one stream each)."""
        await self.start()
        with contextlib.suppress(NotFoundError):
            await self._js.delete_stream(self.stream)

    async def append_batch(self, events: Sequence[DeviceEvent]) -> None:
        """Publish every event with reply subject ``<ack prefix>.<batch>``; return when the
        stream has acknowledged all of them (one future per batch, not per message).

        A batch not fully acknowledged within ``ACK_RETRY_S`` (acks lost when the stream's
        leader died, or a 503 while a new one is elected) is published again under a new
        batch id — safe, since the stream drops repeated ``Nats-Msg-Id``s and acknowledges
        them as duplicates — until ``PUBLISH_TIMEOUT_S`` has passed."""
        if not events:
            return
        if self._js is None:
            await self.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PUBLISH_TIMEOUT_S
        while True:
            try:
                await self._publish_once(events, min(ACK_RETRY_S, deadline - loop.time()))
                break
            except LogUnavailable:
                if loop.time() + 0.1 >= deadline:
                    raise
                await asyncio.sleep(0.1)
            except Exception as exc:
                if loop.time() + 0.1 >= deadline:
                    raise LogUnavailable(
                        f"JetStream did not acknowledge the batch: {exc!r}",
                        text=TextCode.SERVICE_EVENT_LOG_UNAVAILABLE,
                        params={},
                    ) from exc
        with contextlib.suppress(Exception):  # a hint: readers also read when it is lost
            await self._nc.publish(self.doorbell_subject, b"")

    @property
    def rings(self) -> bool:
        return True

    async def wait_for_append(self, timeout_s: float) -> bool:
        """Wait for an appender's ring after the last :meth:`read` began, at most
        ``timeout_s``. The first call subscribes and returns True at once (an append may
        have come before the subscription: read again). The signal is per log object: a
        read by another reader of the same object re-arms it, and a ring missed that way
        waits for the caller's next timed read (one reader per object in the services)."""
        if self._doorbell is None:
            await self.start()
            self._doorbell = await self._nc.subscribe(self.doorbell_subject, cb=self._on_ring)
            return True
        if self._appended.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._appended.wait(), timeout_s)
        return self._appended.is_set()

    async def _on_ring(self, _msg: Any) -> None:
        self._appended.set()

    async def _publish_once(self, events: Sequence[DeviceEvent], wait_s: float) -> None:
        self._next_batch += 1
        batch = str(self._next_batch)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending[batch] = [len(events), future]
        reply = f"{self._ack_prefix}.{batch}"
        # a timer, not ``asyncio.wait_for`` (a task and more per batch)
        timeout = loop.call_later(max(wait_s, 0.01), _expire, future)
        try:
            if not await self._publish_joined(events, reply):
                publish = self._nc.publish
                for item in events:
                    await publish(
                        f"{self.subject_prefix}.{item.protocol}",
                        encode_event(item),
                        reply=reply,
                        headers={"Nats-Msg-Id": item.event_id},
                    )
            await future
        finally:
            timeout.cancel()
            self._pending.pop(batch, None)

    async def _publish_joined(self, events: Sequence[DeviceEvent], reply: str) -> bool:
        """The batch's ``HPUB`` commands — the bytes ``publish(..., headers={"Nats-Msg-Id":
        ...})`` sends for each event — joined and handed to the client's writer at once
        (one pending buffer entry and one flush instead of one of each per event).

        Uses the client's internal writer; returns False (publish one by one) when the
        client lacks it, is not connected, or an event is over the server's size limit.
        """
        nc = self._nc
        send = getattr(nc, "_send_command", None)
        flush = getattr(nc, "_flush_pending", None)
        if send is None or flush is None or not nc.is_connected or nc.is_draining_pubs:
            return False
        max_payload = nc.max_payload
        reply_bytes = reply.encode()
        subjects = self._subjects
        parts: list[bytes] = []
        size = 0
        for item in events:
            subject = subjects.get(item.protocol)
            if subject is None:
                subject = subjects[item.protocol] = (
                    f"{self.subject_prefix}.{item.protocol}".encode()
                )
            payload = encode_event(item)
            if len(payload) > max_payload:
                return False
            header = b"NATS/1.0\r\nNats-Msg-Id: %s\r\n\r\n" % item.event_id.encode()
            parts.append(
                b"HPUB %s %s %d %d\r\n%s%s\r\n"
                % (subject, reply_bytes, len(header), len(header) + len(payload), header, payload)
            )
            size += len(payload)
        await send(b"".join(parts))
        nc.stats["out_msgs"] += len(parts)
        nc.stats["out_bytes"] += size
        queue = getattr(nc, "_flush_queue", None)
        if queue is None or queue.empty():  # as publish does: one kick of the flusher
            await flush()
        return True

    async def _on_ack(self, msg: Any) -> None:
        status = msg.headers.get("Status") if msg.headers else None
        self._ack(msg.subject.rsplit(".", 1)[-1], msg.data, status)

    def _ack(self, batch: str, data: bytes, status: str | None) -> None:
        entry = self._pending.get(batch)
        if entry is None or entry[1].done():
            return
        if status == "503" or ERROR_MARK in data:
            reason = data.decode(errors="replace") or f"status {status}"
            entry[1].set_exception(
                LogUnavailable(
                    f"JetStream refused a message: {reason}",
                    text=TextCode.SERVICE_EVENT_LOG_UNAVAILABLE,
                    params={},
                )
            )
            return
        self._acked(batch, 1)

    def _acked(self, batch: str, count: int) -> None:
        """``count`` messages of ``batch`` stored."""
        entry = self._pending.get(batch)
        if entry is None or entry[1].done():
            return
        entry[0] -= count
        if entry[0] <= 0:
            entry[1].set_result(None)

    def _take_acks_raw(self, subscription: Any) -> None:
        """Count the acks as the client's parser hands them over, before it builds a message
        object and queues it for the subscription's callback task (one ack per event; that
        machinery cost more CPU than the rest of the append). Any other message goes the
        usual way; a client without the internal hook keeps using :meth:`_on_ack`."""
        nc = self._nc
        original = getattr(nc, "_process_msg", None)
        ack_sid = getattr(subscription, "_id", None)
        stats = getattr(nc, "stats", None)
        if original is None or ack_sid is None or not isinstance(stats, dict):
            return
        ack = self._ack

        async def process_msg(
            sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes
        ) -> None:
            if sid != ack_sid:
                await original(sid, subject, reply, data, headers)
                return
            stats["in_msgs"] += 1
            stats["in_bytes"] += len(data)
            status = None
            if headers and headers[8:9] == b" ":  # "NATS/1.0 503\r\n\r\n": an inline status
                status = headers[9:12].decode(errors="replace")
            ack(subject.rsplit(b".", 1)[-1].decode(), data, status)

        nc._process_msg = process_msg
        # a run of acks is read in one pass (the parser's work per message was the
        # largest share of the append's CPU); what it leaves goes the way above
        read_acks_in_bulk(
            getattr(nc, "_ps", None),
            self._ack_prefix,
            ack_sid,
            stats,
            self._acked,
            lambda batch, data: ack(batch, data, None),
        )

    async def last_offset(self) -> int:
        await self.start()
        info = await self._js.stream_info(self.stream)
        return int(info.state.last_seq)

    async def count(self) -> int:
        await self.start()
        info = await self._js.stream_info(self.stream)
        return int(info.state.messages)

    async def read(self, after_offset: int, limit: int) -> list[LoggedEvent]:
        """Events after ``after_offset``, oldest first, at most ``limit``.

        A reader that goes on from where its last read ended (the correlator, the state
        catch-up) keeps one pull consumer on the stream; any other offset, a gap or a
        failure starts a new one. Creating and deleting a consumer per read cost several
        NATS round trips per batch.
        """
        async with self._read_lock:
            self._appended.clear()  # a ring from now on is for what this read may miss
            last = await self.last_offset()
            if after_offset >= last or limit <= 0:
                return []
            wanted = min(limit, last - after_offset)
            now = time.monotonic()
            if (
                self._reader is None
                or self._reader_next != after_offset + 1
                or now - self._reader_used > READER_IDLE_S  # the server may have dropped it
            ):
                await self._drop_reader()
                self._reader = await self._js.pull_subscribe(
                    f"{self.subject_prefix}.>",
                    stream=self.stream,
                    config=js_api.ConsumerConfig(
                        deliver_policy=js_api.DeliverPolicy.BY_START_SEQUENCE,
                        opt_start_seq=after_offset + 1,
                        ack_policy=js_api.AckPolicy.NONE,
                        inactive_threshold=30.0,
                        max_ack_pending=-1,
                    ),
                )
                self._reader_next = after_offset + 1
            self._reader_used = now
            result: list[LoggedEvent] = []
            try:
                while len(result) < wanted:
                    try:
                        messages = await _fetch(
                            self._reader, min(wanted - len(result), 1000), timeout_s=2.0
                        )
                    except TimeoutError:
                        if not result:  # logged events, none delivered: start over next time
                            await self._drop_reader()
                        break
                    for message in messages:
                        seq = _stream_sequence(message)
                        if seq != self._reader_next:  # not the next one: start over next time
                            raise _ReaderOutOfStep(seq)
                        result.append(LoggedEvent(seq, decode_event(message.data)))
                        self._reader_next = seq + 1
            except _ReaderOutOfStep:
                await self._drop_reader()
            except Exception:
                await self._drop_reader()
                raise
            if len(result) > wanted:  # pragma: no cover - fetch never returns more
                await self._drop_reader()
            return result[:wanted]

    async def _drop_doorbell(self) -> None:
        doorbell, self._doorbell = self._doorbell, None
        if doorbell is not None:
            with contextlib.suppress(Exception):
                await doorbell.unsubscribe()

    async def _drop_reader(self) -> None:
        reader, self._reader, self._reader_next = self._reader, None, 0
        if reader is not None:
            with contextlib.suppress(Exception):
                await reader.unsubscribe()

    def consumer(self, name: str) -> Consumer:
        return Consumer(self, self.db, name)
