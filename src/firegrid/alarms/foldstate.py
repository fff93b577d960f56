"""The correlator's memory of open alarms: their history lines, kept between batches.

Before, every batch read back every line of each open alarm it touched (ORM objects), so
a batch cost grew with the alarm's history (a panel's fault alarm ends with 512 lines).
Now the correlator keeps each open alarm's lines in a :class:`FoldState`:

- loaded once, with one column query, the first time this process touches the alarm
  (after a start, or when the alarm changed under it);
- updated in memory by every event folded into the alarm;
- written back incrementally: only the lines a batch created or changed
  (:func:`write_lines`): new lines in one ``INSERT … ON CONFLICT (alarm_id, source_key) DO
  UPDATE``, changed ones in one ``UPDATE`` with the values the memory holds (absolute, so
  writing twice is harmless); on PostgreSQL each is one statement over arrays, on SQLite
  the driver's ``executemany``.

Validity: only the correlator writes ``alarm_events`` and ``alarms.event_count`` of an
open alarm, and every folded event adds one to ``event_count``. A state remembers the
``event_count`` it matches; when the alarm row read in a later batch says otherwise
(another correlator process applied events, or our own batch was rolled back) the state is
dropped and loaded again. The consumer also drops the states of a batch it rolled back.

Derived facts are kept incrementally too (component sets, device set), and the outcome
of the rules is memoised on a version that moves only when a line is added or its values
change, so a repeated fault costs the same whatever the alarm's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import Table, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from firegrid.alarms.folding import component_of, zone_of
from firegrid.alarms.models import AlarmEvent
from firegrid.alarms.rules import HistoryLine, Outcome
from firegrid.ingest.public import DeviceEvent, EventKind

EVENTS_TABLE: Table = AlarmEvent.__table__  # type: ignore[assignment]
#: Columns of a line that change after it is created (what an upsert sets).
MUTABLE = ("count", "last_event_id", "last_at", "values")
CHUNK = 500
_JSON = msgspec.json.Encoder()


class LineState:
    """One history line as the correlator holds it (the columns of ``alarm_events``)."""

    __slots__ = (
        "alarm_id",
        "component",
        "count",
        "description",
        "device_id",
        "device_kind",
        "first_at",
        "first_event_id",
        "kind",
        "last_at",
        "last_event_id",
        "received_at",
        "source_key",
        "stored",
        "values",
        "zone",
    )

    stored: bool  # in the database already (an UPDATE), or new (an INSERT)
    alarm_id: int
    component: str
    count: int
    description: str
    device_id: int | None
    device_kind: str
    first_at: datetime
    first_event_id: str
    kind: str
    last_at: datetime
    last_event_id: str
    received_at: datetime
    source_key: str
    values: dict[str, Any]
    zone: str

    @classmethod
    def from_event(
        cls, alarm_id: int, source_key: str, event: DeviceEvent, device_kind: str
    ) -> LineState:
        line = cls()
        line.alarm_id = alarm_id
        line.source_key = source_key
        line.first_event_id = event.event_id
        line.last_event_id = event.event_id
        line.kind = str(event.kind)
        line.device_id = event.device_id
        line.device_kind = device_kind
        line.component = component_of(event)[:80]
        line.zone = zone_of(event)[:80]
        line.description = event.component.description[:200]
        line.count = 1
        line.first_at = event.occurred_at
        line.last_at = event.occurred_at
        line.received_at = event.received_at
        line.values = dict(event.values)
        line.stored = False
        return line

    @classmethod
    def from_row(cls, row: Any) -> LineState:
        line = cls()
        for name in COLUMNS:
            setattr(line, name, getattr(row, name))
        line.values = dict(line.values or {})
        line.stored = True
        return line

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMNS}

    def history(self) -> HistoryLine:
        return HistoryLine(
            self.kind, self.device_kind, self.device_id, self.component, self.zone, self.values
        )


class FoldState:
    """The lines of one open alarm and the facts derived from them."""

    __slots__ = (
        "components",
        "devices",
        "event_count",
        "fire_components",
        "lines",
        "outcome_key",
        "outcome_rules",
        "outcomes",
        "version",
    )

    def __init__(self, event_count: int = 0, lines: Iterable[LineState] = ()) -> None:
        self.event_count = event_count
        self.lines: dict[str, LineState] = {}
        self.components: set[str] = set()
        self.fire_components: set[str] = set()
        self.devices: set[int | None] = set()
        self.version = 0
        self.outcome_key: tuple[Any, ...] | None = None
        self.outcome_rules: object = None
        self.outcomes: list[Outcome] = []
        for line in lines:
            self.add(line)

    def add(self, line: LineState) -> None:
        self.lines[line.source_key] = line
        self.components.add(line.component)
        if line.kind == EventKind.FIRE_ALARM:
            self.fire_components.add(line.component)
        self.devices.add(line.device_id)
        self.version += 1

    def history(self) -> list[HistoryLine]:
        return [line.history() for line in self.lines.values()]


COLUMNS = tuple(name for name in LineState.__slots__ if name != "stored")
_COLUMNS = [EVENTS_TABLE.c[name] for name in COLUMNS]


def load_states(session: Session, event_counts: dict[int, int]) -> dict[int, FoldState]:
    """The stored lines of the alarms ``event_counts`` names (alarm id → its event count),
    one column query per 500 alarms."""
    ids = sorted(event_counts)
    found: dict[int, list[LineState]] = {alarm_id: [] for alarm_id in ids}
    connection = session.connection()
    for start in range(0, len(ids), CHUNK):
        rows = connection.execute(
            select(*_COLUMNS)
            .where(EVENTS_TABLE.c.alarm_id.in_(ids[start : start + CHUNK]))
            .order_by(EVENTS_TABLE.c.id)
        )
        for row in rows:
            found[row.alarm_id].append(LineState.from_row(row))
    return {alarm_id: FoldState(event_counts[alarm_id], lines) for alarm_id, lines in found.items()}


#: The same ``UPDATE`` for every changed line in one statement: the batch's values travel as
#: six arrays joined with ``unnest`` (psycopg dumps each list once). A fault storm changes one
#: line per event; one pipelined statement per line (``executemany``) cost the correlator a
#: Bind/Execute and a result to read per line, and SQLAlchemy's per-row parameter processing
#: before it was a fifth of its CPU. ``(alarm_id, source_key)`` is unique among the lines
#: (one :class:`LineState` per stored row), so each row is matched once.
_UPDATE_PG = (
    f"UPDATE {EVENTS_TABLE.name} AS line SET count = changed.count, "
    "last_event_id = changed.last_event_id, last_at = changed.last_at, "
    '"values" = changed.line_values::json '
    "FROM unnest(%b::integer[], %b::text[], %b::timestamptz[], %b::text[], %b::bigint[], "
    "%b::text[]) AS changed(count, last_event_id, last_at, line_values, alarm_id, source_key) "
    "WHERE line.alarm_id = changed.alarm_id AND line.source_key = changed.source_key"
)


def execute_with_arrays(
    connection: Connection,
    sql: str,
    rows: Sequence[Any],
    names: Sequence[str],
    *,
    json: frozenset[str] = frozenset(),
    times: frozenset[str] = frozenset(),
) -> None:
    """``sql`` (PostgreSQL, ``%b`` placeholders read by ``unnest``) with one array per
    attribute ``names`` of ``rows``: the ``json`` ones as JSON text, the ``times`` ones in
    UTC (a naive one refused)."""
    encode = _JSON.encode
    columns: list[list[Any]] = []
    for name in names:
        if name in json:
            columns.append([encode(getattr(row, name)).decode() for row in rows])
        elif name in times:
            columns.append([_utc(getattr(row, name)) for row in rows])
        else:
            columns.append([getattr(row, name) for row in rows])
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(sql, columns)


_LINE_JSON = frozenset({"values"})
_LINE_TIMES = frozenset({"first_at", "last_at", "received_at"})


def _update_stored_pg(connection: Connection, lines: Sequence[LineState]) -> None:
    execute_with_arrays(
        connection, _UPDATE_PG, lines, _UPDATE_COLUMNS, json=_LINE_JSON, times=_LINE_TIMES
    )


#: PostgreSQL's array type of each column of a line (what ``unnest`` reads).
_ARRAY_TYPES = {
    "alarm_id": "bigint",
    "device_id": "integer",
    "count": "integer",
    "first_at": "timestamptz",
    "last_at": "timestamptz",
    "received_at": "timestamptz",
}


def _insert_statement_pg() -> str:
    """The new lines of a batch in one ``INSERT``, each column an array (see ``_UPDATE_PG``);
    ``WITH ORDINALITY`` keeps the batch's order, which is the history's (ids ascend)."""
    quoted = [f'"{name}"' for name in COLUMNS]
    arrays = [f"%b::{_ARRAY_TYPES.get(name, 'text')}[]" for name in COLUMNS]
    picked = [
        f"new.{q}::json" if name == "values" else f"new.{q}"
        for name, q in zip(COLUMNS, quoted, strict=True)
    ]
    updates = [f'"{name}" = EXCLUDED."{name}"' for name in MUTABLE]
    return (
        f"INSERT INTO {EVENTS_TABLE.name} ({', '.join(quoted)}) "
        f"SELECT {', '.join(picked)} FROM unnest({', '.join(arrays)}) "
        f"WITH ORDINALITY AS new({', '.join(quoted)}, position) ORDER BY new.position "
        f"ON CONFLICT (alarm_id, source_key) DO UPDATE SET {', '.join(updates)}"
    )


_INSERT_PG = _insert_statement_pg()


def _insert_new_pg(connection: Connection, lines: Sequence[LineState]) -> None:
    execute_with_arrays(connection, _INSERT_PG, lines, COLUMNS, json=_LINE_JSON, times=_LINE_TIMES)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: every timestamp must be timezone-aware")
    return value.astimezone(UTC)


#: The same two statements elsewhere (SQLite), run with the driver's ``executemany``; each
#: value is converted by its column type's own bind processor, as SQLAlchemy would, without
#: SQLAlchemy's per-row parameter handling (most of the cost of a line).
_QUOTED = ", ".join(f'"{name}"' for name in COLUMNS)
_INSERT_OTHER = (
    f"INSERT INTO {EVENTS_TABLE.name} ({_QUOTED}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
    "ON CONFLICT (alarm_id, source_key) DO UPDATE SET "
    + ", ".join(f'"{name}" = excluded."{name}"' for name in MUTABLE)
)
_UPDATE_COLUMNS = (*MUTABLE, "alarm_id", "source_key")
_UPDATE_OTHER = (
    f"UPDATE {EVENTS_TABLE.name} SET "
    + ", ".join(f'"{name}" = ?' for name in MUTABLE)
    + " WHERE alarm_id = ? AND source_key = ?"
)


def executemany_converted(
    connection: Connection, table: Table, sql: str, names: Sequence[str], rows: Sequence[Any]
) -> None:
    """``sql`` (``?`` placeholders) once per object of ``rows`` with the driver's
    ``executemany``: the attributes ``names`` of each, converted by the bind processor of
    ``table``'s column of that name, as SQLAlchemy would (without its per-row handling)."""
    dialect = connection.dialect
    binders = [table.c[name].type.bind_processor(dialect) for name in names]
    values = [
        tuple(
            value if bind is None else bind(value)
            for bind, value in zip(binders, [getattr(row, name) for name in names], strict=True)
        )
        for row in rows
    ]
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.executemany(sql, values)
    finally:
        cursor.close()


def write_lines(connection: Connection, lines: Sequence[LineState]) -> None:
    """Write the lines a batch created or changed, reading none back: the new ones in one
    ``INSERT … ON CONFLICT (alarm_id, source_key) DO UPDATE``, the stored ones in one
    ``UPDATE`` of their count, last event and values (on PostgreSQL each one statement over
    arrays, elsewhere an ``executemany``)."""
    new = [line for line in lines if not line.stored]
    stored = [line for line in lines if line.stored]
    if new and connection.dialect.name == "postgresql":
        _insert_new_pg(connection, new)
    elif new:
        executemany_converted(connection, EVENTS_TABLE, _INSERT_OTHER, COLUMNS, new)
    for line in new:
        line.stored = True
    if stored and connection.dialect.name == "postgresql":
        _update_stored_pg(connection, stored)
    elif stored:
        executemany_converted(connection, EVENTS_TABLE, _UPDATE_OTHER, _UPDATE_COLUMNS, stored)
