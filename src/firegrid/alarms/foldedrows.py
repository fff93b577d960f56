"""The correlator's write of the alarms a batch folded events into: one statement.

Folding an event into an open alarm changes a few counters and facts of the alarm row
(:data:`FOLDED_COLUMNS`: its event and component counts, last event time, priority, rule
hits…). Left to the ORM's flush, each touched alarm was one ``UPDATE`` (a pipelined
``executemany`` on PostgreSQL): in a fault storm that touches a few hundred alarms per
batch, the ORM's per-row work and psycopg's per-statement round of the pipeline were the
largest part of a batch's CPU.

:func:`write_folded` writes those columns of every alarm whose *only* pending changes are
among them in one statement (PostgreSQL: ``UPDATE … FROM unnest(…)``; SQLite: the driver's
``executemany``, each value converted by its column type's bind processor) and marks them
stored in the session, so the flush has nothing left to write for them. An alarm with any
other pending change (a status, a decision) is left whole to the flush, which writes it as
before. The values written are the objects' own, absolute: writing them twice is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from firegrid.alarms.foldstate import execute_with_arrays, executemany_converted
from firegrid.alarms.models import Alarm

ALARMS_TABLE: Table = Alarm.__table__  # type: ignore[assignment]

#: the columns folding changes, and their PostgreSQL array types: only the correlator writes
#: them, so writing an alarm's whole set from the object loses nobody's change (the
#: escalation level, which the timers also move, is not one: an alarm that changed it goes
#: to the flush, which writes only what changed)
FOLDED_COLUMNS: dict[str, str] = {
    "event_count": "integer",
    "component_count": "integer",
    "last_event_at": "timestamptz",
    "cleared_at": "timestamptz",
    "priority": "integer",
    "rule_hits": "text",
    "kind": "text",
}
_FOLDED = frozenset(FOLDED_COLUMNS)
_NAMES = tuple(FOLDED_COLUMNS)
_JSON_COLUMNS = frozenset({"rule_hits"})
_TIMES = frozenset({"last_event_at", "cleared_at"})

_UPDATE_PG = (
    f"UPDATE {ALARMS_TABLE.name} AS alarm SET "
    + ", ".join(
        f"{name} = folded.{name}::json" if name == "rule_hits" else f"{name} = folded.{name}"
        for name in _NAMES
    )
    + " FROM unnest(%b::bigint[], "
    + ", ".join(f"%b::{kind}[]" for kind in FOLDED_COLUMNS.values())
    + f") AS folded(id, {', '.join(_NAMES)}) WHERE alarm.id = folded.id"
)
_UPDATE_OTHER = (
    f"UPDATE {ALARMS_TABLE.name} SET "
    + ", ".join(f"{name} = ?" for name in _NAMES)
    + " WHERE id = ?"
)


def _only_folded(alarm: Alarm) -> bool:
    state = inspect(alarm)
    if not state.persistent:
        return False
    changed = state.committed_state
    return bool(changed) and _FOLDED.issuperset(changed)


def write_folded(session: Session, alarms: Iterable[Alarm]) -> int:
    """Write the folded columns of the ``alarms`` whose only pending changes are folded
    columns, and mark them stored; returns how many were written."""
    ready = [alarm for alarm in alarms if _only_folded(alarm)]
    if not ready:
        return 0
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        execute_with_arrays(
            connection, _UPDATE_PG, ready, ("id", *_NAMES), json=_JSON_COLUMNS, times=_TIMES
        )
    else:
        executemany_converted(connection, ALARMS_TABLE, _UPDATE_OTHER, (*_NAMES, "id"), ready)
    for alarm in ready:
        for name in _NAMES:
            set_committed_value(alarm, name, getattr(alarm, name))
    return len(ready)
