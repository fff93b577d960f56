"""JetStream specifics: the stream is on file storage and deduplicates by Nats-Msg-Id."""

from __future__ import annotations

import asyncio

import nats
import nats.aio.subscription
import pytest

from firegrid.core.db import Database
from firegrid.core.errors import DomainError
from firegrid.ingest.events import encode_event
from firegrid.ingest.log_jetstream import JetStreamEventLog
from tests.conftest import service_missing
from tests.ingest.conftest import NATS_URL, reachable
from tests.ingest.test_eventlog import event


@pytest.fixture
def nats_up() -> None:
    if not reachable("127.0.0.1", 4222):
        service_missing("NATS JetStream at 127.0.0.1:4222")


@pytest.mark.nats
def test_stream_is_file_backed_with_a_duplicate_window(
    nats_up: None, db: Database, stream_name: str
) -> None:
    async def scenario() -> None:
        log = JetStreamEventLog(NATS_URL, db, stream=stream_name)
        await log.start()
        try:
            await log.append_batch([event(1), event(1), event(2)])
            nc = await nats.connect(NATS_URL)
            info = await nc.jetstream().stream_info(stream_name)
            await nc.close()
            assert str(getattr(info.config.storage, "value", info.config.storage)) == "file"
            assert info.config.duplicate_window >= 60
            assert info.state.messages == 2
        finally:
            await log.close()

    asyncio.run(scenario())


@pytest.mark.nats
def test_messages_carry_the_event_id_as_msg_id(
    nats_up: None, db: Database, stream_name: str
) -> None:
    async def scenario() -> None:
        log = JetStreamEventLog(NATS_URL, db, stream=stream_name)
        await log.start()
        try:
            await log.append_batch([event(7)])
            nc = await nats.connect(NATS_URL)
            message = await nc.jetstream().get_msg(stream_name, 1)
            await nc.close()
            assert message.headers is not None
            assert message.headers["Nats-Msg-Id"] == event(7).event_id
        finally:
            await log.close()

    asyncio.run(scenario())


def test_unreachable_server_is_a_domain_error(db: Database) -> None:
    async def scenario() -> None:
        log = JetStreamEventLog("nats://127.0.0.1:1", db, stream="NOPE", connect_timeout_s=0.5)
        with pytest.raises(DomainError):
            await log.start()

    asyncio.run(scenario())


@pytest.mark.nats
def test_a_batch_is_sent_as_the_bytes_of_one_publish_per_event(
    nats_up: None, db: Database, stream_name: str
) -> None:
    """The joined batch is byte for byte what ``publish(headers={"Nats-Msg-Id": ...})``
    sends for each event, in order, and the stored batch is followed by the readers' ring;
    the stream stores each event once."""

    async def scenario() -> None:
        log = JetStreamEventLog(NATS_URL, db, stream=stream_name)
        await log.start()
        sent: list[bytes] = []
        original = log._nc._send_command

        async def record(cmd: bytes, priority: bool = False) -> None:
            sent.append(bytes(cmd))
            await original(cmd, priority)

        log._nc._send_command = record
        try:
            events = [event(n) for n in range(5)]
            await log.append_batch(events)
            joined = list(sent)
            sent.clear()
            for item in events:  # the same messages again: duplicates, dropped by the stream
                await log._nc.publish(
                    f"{log.subject_prefix}.{item.protocol}",
                    encode_event(item),
                    reply=f"{log._ack_prefix}.1",
                    headers={"Nats-Msg-Id": item.event_id},
                )
            assert len(joined) == 2
            assert joined[0] == b"".join(sent)
            assert joined[1].startswith(b"PUB %s " % log.doorbell_subject.encode())
            await log._nc.flush()
            assert await log.count() == 5
        finally:
            await log.close()

    asyncio.run(scenario())


@pytest.mark.nats
def test_a_reader_going_on_from_its_last_read_keeps_one_consumer(
    nats_up: None, db: Database, stream_name: str
) -> None:
    """Reads that go on where the last one ended reuse one pull consumer; a read from any
    other offset starts a new one; every read returns the right events in order."""

    async def scenario() -> None:
        log = JetStreamEventLog(NATS_URL, db, stream=stream_name)
        await log.start()
        created = 0
        original = log._js.pull_subscribe

        async def counting(*args: object, **kwargs: object) -> object:
            nonlocal created
            created += 1
            return await original(*args, **kwargs)

        log._js.pull_subscribe = counting
        try:
            events = [event(n) for n in range(10)]
            await log.append_batch(events)

            async def read(after: int, limit: int) -> list[int]:
                items = await log.read(after, limit)
                assert [i.event for i in items] == events[after : after + len(items)]
                return [i.offset for i in items]

            assert await read(0, 4) == [1, 2, 3, 4]
            assert await read(4, 4) == [5, 6, 7, 8]
            assert created == 1
            assert await read(2, 3) == [3, 4, 5]  # another offset: a new consumer
            assert created == 2
            assert await read(5, 100) == [6, 7, 8, 9, 10]
            assert await read(10, 100) == []
            await log.append_batch([event(10)])
            assert [i.offset for i in await log.read(10, 100)] == [11]
            assert created == 2
        finally:
            await log.close()

    asyncio.run(scenario())


@pytest.mark.nats
def test_a_large_read_takes_the_deliveries_without_a_wait_per_message(
    nats_up: None, db: Database, stream_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2,500 events read in one call (three pull requests of at most 1,000) arrive whole
    and in order, and the reader never waits for them one by one (nats-py's ``next_msg``:
    a task, a uuid and a ``wait_for`` per message, most of the correlator's read cost)."""

    async def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("next_msg called: the reader waits per message")

    monkeypatch.setattr(nats.aio.subscription.Subscription, "next_msg", refuse)

    async def scenario() -> None:
        log = JetStreamEventLog(NATS_URL, db, stream=stream_name)
        await log.start()
        try:
            events = [event(n) for n in range(2500)]
            for start in range(0, len(events), 500):
                await log.append_batch(events[start : start + 500])
            items = await log.read(0, 5000)
            assert [i.offset for i in items] == list(range(1, 2501))
            assert [i.event for i in items] == events
            assert await log.read(2500, 10) == []
            await log.append_batch([event(2500)])
            assert [i.offset for i in await log.read(2500, 10)] == [2501]
        finally:
            await log.close()

    asyncio.run(scenario())


@pytest.mark.nats
def test_acks_are_counted_as_the_client_parses_them(
    nats_up: None, db: Database, stream_name: str
) -> None:
    """Acks reach the batch's count from the client's parser, not through a message object
    and the subscription's callback task (which cost more than the rest of the append)."""

    async def scenario() -> None:
        log = JetStreamEventLog(NATS_URL, db, stream=stream_name)
        await log.start()
        called: list[object] = []

        async def on_ack(msg: object) -> None:
            called.append(msg)

        log._on_ack = on_ack  # type: ignore[method-assign]
        try:
            await log.append_batch([event(n) for n in range(1, 51)])
            assert await log.count() == 50
            assert called == []
            assert log._pending == {}
        finally:
            await log.close()

    asyncio.run(scenario())


@pytest.mark.nats
def test_a_refused_batch_is_not_acknowledged(
    nats_up: None, db: Database, stream_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publish no stream takes is answered with status 503 (no responders): the append
    fails instead of counting it as stored."""
    from firegrid.ingest import log_jetstream
    from firegrid.ingest.log_db import LogUnavailable

    monkeypatch.setattr(log_jetstream, "PUBLISH_TIMEOUT_S", 0.5)

    async def scenario() -> None:
        log = JetStreamEventLog(NATS_URL, db, stream=stream_name)
        await log.start()
        log.subject_prefix = f"{stream_name.lower()}-elsewhere.events"  # no stream's subject
        try:
            with pytest.raises(LogUnavailable, match="refused"):
                await log.append_batch([event(1)])
        finally:
            await log.close()

    asyncio.run(scenario())


@pytest.mark.nats
def test_an_idle_reader_is_woken_by_another_process_append(
    nats_up: None, db: Database, stream_name: str
) -> None:
    """A reader waits for the appender's ring, not for its timeout: another connection's
    append wakes it (with a one-hour timeout the wait could only end by the ring), and a
    ring that came after its read began makes the next wait return at once."""

    async def scenario() -> None:
        appender = JetStreamEventLog(NATS_URL, db, stream=stream_name)
        reader = JetStreamEventLog(NATS_URL, db, stream=stream_name)
        await appender.start()
        try:
            assert reader.rings
            assert await reader.wait_for_append(3600) is True  # subscribed: read again
            assert await reader.read(0, 10) == []
            assert await reader.wait_for_append(0.05) is False  # nothing appended
            waiting = asyncio.ensure_future(reader.wait_for_append(3600))
            await asyncio.sleep(0.05)
            assert not waiting.done()
            await appender.append_batch([event(1)])
            assert await asyncio.wait_for(waiting, 30) is True
            assert [item.offset for item in await reader.read(0, 10)] == [1]
            # appended while nobody waits, after the read began: the wait returns at once
            read = asyncio.ensure_future(reader.read(1, 10))
            await appender.append_batch([event(2)])
            await read
            await asyncio.sleep(0.2)  # the ring's delivery
            assert await asyncio.wait_for(reader.wait_for_append(3600), 30) is True
        finally:
            await reader.close()
            await appender.close()

    asyncio.run(scenario())
