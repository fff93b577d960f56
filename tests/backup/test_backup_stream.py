"""A backup of a deployment on the JetStream event log holds the stream's messages; a restore
republishes them into a new stream and moves the stored consumer offsets to the new numbers
of the same messages, so a consumer resumes after exactly what it had handled — also when the
old stream had purged its head."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from sqlalchemy import text

from firegrid.backup import BackupError, make_backup, restore_backup
from firegrid.backup.make import Source
from firegrid.backup.stream import moved_offset
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.ingest.log_jetstream import JetStreamEventLog
from tests.conftest import make_database_url, service_missing
from tests.ingest.conftest import NATS_URL, reachable
from tests.ingest.conftest import stream_name as stream_name  # the fixture
from tests.ingest.test_eventlog import event

pytestmark = pytest.mark.nats


@pytest.fixture(autouse=True)
def nats_up() -> None:
    if not reachable("127.0.0.1", 4222):
        service_missing("NATS JetStream at 127.0.0.1:4222")


@pytest.fixture
def second_url(tmp_path: Path) -> Iterator[str]:
    target = tmp_path / "target"
    target.mkdir()
    yield from make_database_url(target)


async def _fill(db: Database, stream: str, n: int, purge_before: int | None) -> None:
    log = JetStreamEventLog(NATS_URL, db, stream=stream)
    await log.start()
    try:
        await log.append_batch([event(i) for i in range(1, n + 1)])
    finally:
        await log.close()
    if purge_before is not None:
        nc = await nats.connect(NATS_URL)
        await nc.jetstream().purge_stream(stream, seq=purge_before)
        await nc.close()


async def _messages(stream: str) -> list[tuple[int, str]]:
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    info = await js.stream_info(stream)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(stream, seq)
        out.append((seq, (msg.headers or {})["Nats-Msg-Id"]))
    await nc.close()
    return out


async def _drop(stream: str) -> None:
    nc = await nats.connect(NATS_URL)
    await nc.jetstream().delete_stream(stream)
    await nc.close()


def _offset(url: str) -> int:
    db = Database(url)
    try:
        with db.engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        'SELECT "offset" FROM event_consumers '
                        "WHERE name = 'alarms' AND backend = 'jetstream'"
                    )
                ).scalar_one()
            )
    finally:
        db.dispose()


@pytest.mark.parametrize("purge_before", [None, 4])
def test_the_stream_is_saved_and_republished_with_the_offsets_moved(
    db: Database, second_url: str, stream_name: str, tmp_path: Path, purge_before: int | None
) -> None:
    asyncio.run(_fill(db, stream_name, 6, purge_before))
    with db.engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO event_consumers (name, backend, "offset", updated_at) '
                "VALUES ('alarms', 'jetstream', 5, CURRENT_TIMESTAMP)"
            )
        )
    before = asyncio.run(_messages(stream_name))
    source = Source(db.url, tmp_path / "data", "jetstream", NATS_URL, stream_name)
    manifest = make_backup(source, tmp_path / "backup", utcnow())
    assert manifest.event_stream is not None
    assert manifest.event_stream.messages == len(before)

    with pytest.raises(BackupError, match="holds"):  # the old stream is still there
        restore_backup(tmp_path / "backup", second_url, tmp_path / "d2", nats_url=NATS_URL)
    asyncio.run(_drop(stream_name))
    done = restore_backup(tmp_path / "backup", second_url, tmp_path / "d2", nats_url=NATS_URL)

    after = asyncio.run(_messages(stream_name))
    assert done.stream_messages == len(before)
    assert [msg_id for _, msg_id in after] == [msg_id for _, msg_id in before]
    old_seq_of_handled = 5
    new_seq = next(new for (old, _), (new, _) in zip(before, after, strict=True) if old == 5)
    assert _offset(second_url) == new_seq
    assert new_seq == old_seq_of_handled - (0 if purge_before is None else purge_before - 1)


def test_a_backup_with_a_stream_needs_a_nats_url_to_restore(
    db: Database, second_url: str, stream_name: str, tmp_path: Path
) -> None:
    asyncio.run(_fill(db, stream_name, 2, None))
    source = Source(db.url, tmp_path / "data", "jetstream", NATS_URL, stream_name)
    make_backup(source, tmp_path / "backup", utcnow())
    with pytest.raises(BackupError, match="holds the JetStream stream") as refused:
        restore_backup(tmp_path / "backup", second_url, tmp_path / "d2")
    assert refused.value.hint is not None
    assert "FIREGRID_NATS_URL" in refused.value.hint


def test_offsets_move_to_the_last_message_at_or_before_them() -> None:
    pairs = [(4, 1), (5, 2), (9, 3)]
    assert [moved_offset(o, pairs) for o in (0, 3, 4, 5, 7, 9, 12)] == [0, 0, 1, 2, 2, 3, 3]
