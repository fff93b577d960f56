"""The JetStream event log in a backup: every message of the stream (sequence, subject,
headers, payload) in ``events.jsonl.gz`` with the stream's settings, and its restore.

A restore republishes the messages in order into a new stream of the same name (the stream
must be absent or empty, or ``force``), with their ``Nats-Msg-Id`` headers. The new stream
numbers them from 1, so the database's stored consumer offsets (sequence numbers of the old
stream) are moved to the new numbers of the same messages; a consumer therefore resumes after
exactly the events it had handled, whatever the old stream had purged.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from firegrid.backup.errors import BackupError
from firegrid.core.settings import nats_servers

FILE_NAME = "events.jsonl.gz"
FETCH_BATCH = 1000
FETCH_TIMEOUT_S = 5.0


class StreamPart(BaseModel):
    """What the manifest says of the saved stream."""

    name: str
    subjects: list[str]
    replicas: int
    duplicate_window_s: float
    description: str | None = None
    first_seq: int
    last_seq: int
    messages: int
    file: str = Field(description="Path of the messages' file inside the backup.")


@dataclass(frozen=True)
class StreamSource:
    nats_url: str
    stream: str


async def _connect(url: str) -> Any:
    import nats

    try:
        return await nats.connect(
            servers=nats_servers(url), connect_timeout=3, max_reconnect_attempts=2
        )
    except Exception as exc:
        raise BackupError(
            f"NATS at {url} is not reachable: {exc}",
            hint="check FIREGRID_NATS_URL (the event log is JetStream)",
            not_ready=True,
        ) from exc


async def _save(source: StreamSource, target: Path) -> StreamPart:
    from nats.js import api
    from nats.js.errors import NotFoundError

    nc = await _connect(source.nats_url)
    try:
        js = nc.jetstream()
        try:
            info = await js.stream_info(source.stream)
        except NotFoundError:
            raise BackupError(
                f"the JetStream stream {source.stream} does not exist",
                hint="check FIREGRID_EVENT_STREAM",
            ) from None
        state, config = info.state, info.config
        written = 0
        with gzip.open(target, "wt", encoding="utf-8") as out:
            if state.messages:
                sub = await js.pull_subscribe(
                    config.subjects[0] if len(config.subjects) == 1 else ">",
                    stream=source.stream,
                    config=api.ConsumerConfig(
                        ack_policy=api.AckPolicy.NONE,
                        deliver_policy=api.DeliverPolicy.ALL,
                        inactive_threshold=60.0,
                    ),
                )
                while written < state.messages:
                    batch = await sub.fetch(
                        min(FETCH_BATCH, state.messages - written), timeout=FETCH_TIMEOUT_S
                    )
                    for msg in batch:
                        out.write(
                            json.dumps(
                                {
                                    "seq": msg.metadata.sequence.stream,
                                    "subject": msg.subject,
                                    "headers": dict(msg.headers or {}),
                                    "data": base64.b64encode(msg.data).decode(),
                                }
                            )
                            + "\n"
                        )
                        written += 1
                await sub.unsubscribe()
        return StreamPart(
            name=source.stream,
            subjects=list(config.subjects or []),
            replicas=int(config.num_replicas or 1),
            duplicate_window_s=float(config.duplicate_window or 120.0),
            description=config.description,
            first_seq=int(state.first_seq),
            last_seq=int(state.last_seq),
            messages=written,
            file=FILE_NAME,
        )
    finally:
        await nc.close()


def save_stream(source: StreamSource, out_dir: Path) -> StreamPart:
    """Write the stream's messages into ``out_dir`` and describe them."""
    return asyncio.run(_save(source, out_dir / FILE_NAME))


@dataclass(frozen=True)
class Republished:
    messages: int
    #: (old sequence, new sequence) of every message, in order
    sequences: list[tuple[int, int]]


async def _load(url: str, part: StreamPart, source: Path, *, force: bool) -> Republished:
    from nats.js import api
    from nats.js.errors import NotFoundError

    nc = await _connect(url)
    try:
        js = nc.jetstream()
        try:
            info = await js.stream_info(part.name)
            if info.state.messages and not force:
                raise BackupError(
                    f"the JetStream stream {part.name} holds {info.state.messages} messages",
                    hint="restore into an empty stream, or pass --force to replace it",
                )
            await js.delete_stream(part.name)
        except NotFoundError:
            pass
        await js.add_stream(
            api.StreamConfig(
                name=part.name,
                description=part.description,
                subjects=part.subjects,
                storage=api.StorageType.FILE,
                num_replicas=part.replicas,
                duplicate_window=part.duplicate_window_s,
            )
        )
        sequences: list[tuple[int, int]] = []
        with gzip.open(source, "rt", encoding="utf-8") as lines:
            for line in lines:
                item = json.loads(line)
                ack = await js.publish(
                    item["subject"],
                    base64.b64decode(item["data"]),
                    headers=item["headers"] or None,
                    stream=part.name,
                )
                sequences.append((int(item["seq"]), int(ack.seq)))
        return Republished(len(sequences), sequences)
    finally:
        await nc.close()


async def _check_target(url: str, part: StreamPart, force: bool) -> None:
    from nats.js.errors import NotFoundError

    nc = await _connect(url)
    try:
        info = await nc.jetstream().stream_info(part.name)
    except NotFoundError:
        return
    finally:
        await nc.close()
    if info.state.messages and not force:
        raise BackupError(
            f"the JetStream stream {part.name} holds {info.state.messages} messages",
            hint="restore into an empty stream, or pass --force to replace it",
        )


def check_stream_target(url: str, part: StreamPart, *, force: bool) -> None:
    """Refuse, before anything is restored, a target stream that holds messages."""
    asyncio.run(_check_target(url, part, force))


def load_stream(url: str, part: StreamPart, backup_dir: Path, *, force: bool) -> Republished:
    return asyncio.run(_load(url, part, backup_dir / part.file, force=force))


def moved_offset(offset: int, sequences: list[tuple[int, int]]) -> int:
    """The new sequence after which a consumer that had handled old ``offset`` resumes: the
    new number of the last message at or before ``offset`` (0 when none)."""
    olds = [old for old, _ in sequences]
    index = bisect_right(olds, offset)
    return sequences[index - 1][1] if index else 0
