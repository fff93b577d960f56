"""Replay a recorded event stream through the real correlator (``firegrid alarms rules test``).

The stream (JSON lines of :class:`~firegrid.ingest.events.DeviceEvent`) runs against a
throw-away in-memory database with the platform schema; the clock follows the stream's
receive times and due timers fire between batches, so auto-forwards and escalations appear
as they would have. With ``--db`` the venues and devices named in the stream are read from
that database (tags, categories, device kinds) so venue rules apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import select

from firegrid.alarms.directory import DatabaseDirectory, StaticDirectory
from firegrid.alarms.lifecycle import alarm_dict
from firegrid.alarms.models import Alarm
from firegrid.alarms.rules import Policy, Rule, default_document, load_document
from firegrid.alarms.service import Correlator
from firegrid.alarms.timers import fire_due_timers
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Problem, detail
from firegrid.core.texts import TextCode
from firegrid.ingest.public import DeviceEvent, decode_event


def read_stream(path: Path) -> list[DeviceEvent]:
    events: list[DeviceEvent] = []
    problems: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(decode_event(line))
        except (msgspec.ValidationError, msgspec.DecodeError, ValidationFailed) as exc:
            problems.append({"line": number, "message": str(exc), "code": Problem.INVALID})
    if problems:
        first = problems[0]
        raise ValidationFailed(
            f"{path.name}: line {first['line']}: {first['message']}",
            {"problems": problems},
            text=TextCode.FILE_LINE_INVALID,
            params={
                "file": path.name,
                "line": first["line"],
                "problem": Problem.INVALID,
                "detail": detail(first["message"]),
            },
        )
    return events


def _directory(db_url: str | None, events: Sequence[DeviceEvent]) -> StaticDirectory:
    directory = StaticDirectory()
    if not db_url:
        return directory
    source = Database(db_url)
    try:
        with source.session() as session:
            lookup = DatabaseDirectory()
            directory.venue_map.update(
                lookup.venues(session, {e.venue_id for e in events if e.venue_id is not None})
            )
            directory.device_map.update(
                lookup.devices(session, {e.device_id for e in events if e.device_id is not None})
            )
    finally:
        source.dispose()
    return directory


def replay(
    events: Sequence[DeviceEvent],
    *,
    policy: Policy,
    rules: Sequence[Rule],
    directory: StaticDirectory | None = None,
    batch: int = 200,
) -> list[dict[str, Any]]:
    """The alarms ``events`` give under ``rules`` (oldest first)."""
    from firegrid import schema

    ordered = sorted(events, key=lambda e: e.received_at)
    database = Database("sqlite://")
    try:
        schema.metadata.create_all(database.engine)
        now: list[datetime] = [ordered[0].received_at] if ordered else []

        def clock() -> datetime:
            return now[0]

        correlator = Correlator(
            directory or StaticDirectory(),
            policy=policy,
            rules=rules,
            use_stored_rules=False,
            clock=clock,
        )
        for chunk in _chunks(ordered, batch):
            now[0] = chunk[0].received_at
            fire_due_timers(database, policy, clock, worker="replay")
            now[0] = chunk[-1].received_at
            with database.session() as session:
                correlator.process(session, chunk)
        if ordered:
            fire_due_timers(database, policy, clock, worker="replay")
        with database.session() as session:
            return [alarm_dict(a) for a in session.scalars(select(Alarm).order_by(Alarm.id))]
    finally:
        database.dispose()


def _chunks(events: Sequence[DeviceEvent], size: int) -> list[Sequence[DeviceEvent]]:
    """Consecutive events received within one second of each other, at most ``size``."""
    chunks: list[Sequence[DeviceEvent]] = []
    start = 0
    for index in range(1, len(events) + 1):
        if (
            index == len(events)
            or index - start >= size
            or (events[index].received_at - events[start].received_at).total_seconds() > 1
        ):
            chunks.append(events[start:index])
            start = index
    return chunks


def replay_file(
    path: Path, *, rules_file: Path | None = None, db_url: str | None = None
) -> list[dict[str, Any]]:
    if rules_file is not None:
        policy, rules = load_document(rules_file.read_text(encoding="utf-8"))
    else:
        policy, default = default_document()
        rules = list(default)
    events = read_stream(path)
    return replay(events, policy=policy, rules=rules, directory=_directory(db_url, events))
