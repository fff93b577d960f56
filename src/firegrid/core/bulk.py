"""Bulk loading of generated rows with explicit ids (the demo city and its history).

Generators assign ids themselves (so rows can refer to each other before they are written),
insert in chunks with SQLAlchemy Core, and then move PostgreSQL's id sequences past the new
rows. The target tables must be empty: a second load into a filled table is a
:class:`~firegrid.core.errors.Conflict`, never a silent mix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, insert, select, text

from firegrid.core.errors import Conflict
from firegrid.core.texts import TextCode

#: SQLite page cache while a bulk load writes (index pages stop thrashing)
SQLITE_BULK_CACHE_KIB = 256 * 1024


def table_of(model: Any) -> Table:
    """The Core table of an ORM model class."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def require_empty(connection: Connection, tables: Iterable[Table], what: str) -> None:
    """Raise :class:`Conflict` naming every table of ``tables`` that already has rows."""
    filled = [
        table.name
        for table in tables
        if connection.execute(select(table.c.id).limit(1)).first() is not None
    ]
    if filled:
        raise Conflict(
            f"{what} needs empty tables; these already have rows: " + ", ".join(filled),
            {"tables": filled},
            text=TextCode.BULK_TABLES_NOT_EMPTY,
            params={"what": what, "tables": filled},
        )


def insert_chunks(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], size: int = 5_000
) -> None:
    """``INSERT`` ``rows`` (dicts keyed by column name) in chunks of ``size``."""
    statement = insert(table)
    for start in range(0, len(rows), size):
        connection.execute(statement, list(rows[start : start + size]))


def advance_id_sequences(connection: Connection, tables: Iterable[Table]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the new rows.

    A no-op on SQLite, whose ``INTEGER PRIMARY KEY`` continues after the largest id.
    """
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        name = table.name
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
            )
        )


@contextmanager
def sqlite_bulk_cache(connection: Connection, kib: int = SQLITE_BULK_CACHE_KIB) -> Iterator[None]:
    """A large SQLite page cache on ``connection`` while a bulk load writes (else nothing)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{kib}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(previous)}")
