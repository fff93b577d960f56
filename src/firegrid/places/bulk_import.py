"""Streaming, all-or-nothing import of the bulk-data kinds (:mod:`firegrid.places.bulk_kinds`).

The file is read a chunk at a time (:mod:`firegrid.places.bulk_read`); each chunk is checked
cell by cell, its references resolved by SQL, and its rows copied into a temporary staging
table (PostgreSQL ``COPY``, SQLite ``executemany``). Memory holds one chunk, whatever the
file's size. With every row staged, set-based SQL finds codes given twice, codes already
stored (``insert``) and stored rows outside the caller's jurisdiction, then writes: one
``UPDATE … FROM`` for the changed rows, one ``INSERT … SELECT`` for the new ones and, with
``replace``, one statement removing the rows the file no longer lists. All of it runs in the
caller's transaction: a problem anywhere and nothing is written; the error lists each bad
row (line, column, the English reason and the same as a text code with its parameters), at
most :data:`MAX_ERRORS` of them.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Boolean,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy import Column as SqlColumn
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change, system_principal
from firegrid.core.bulk import sqlite_bulk_cache, table_of
from firegrid.core.changes import record_change as record_topic_change
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import ImportFailed
from firegrid.core.problems import Found, Problem, row_error, row_text
from firegrid.core.texts import Text, TextCode
from firegrid.inspections.public import Hazard, HazardTransition
from firegrid.places.bulk_fields import CellError, personal_column
from firegrid.places.bulk_kinds import BULK_KINDS, BulkKind, Lookups, export_rows
from firegrid.places.bulk_read import ChunkedRows, read_csv_chunks, rows_in_chunks
from firegrid.places.crs import Crs, parse_crs
from firegrid.places.import_modes import check_mode
from firegrid.places.public import VENUE_CHANGED

MAX_ERRORS = 1000
#: a PostgreSQL import of at least this many rows refreshes the table's planner statistics
ANALYZE_AFTER_ROWS = 10_000
#: SQLite page cache while an import writes (the register's indexes stop thrashing)
BULK_CACHE_KIB = 192 * 1024

Progress = Callable[[int], None]


def is_bulk_kind(kind: str) -> bool:
    return kind in BULK_KINDS


class _Errors:
    """The row problems found so far, capped at :data:`MAX_ERRORS`."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, line: int | None, column: str | None, text: Text) -> None:
        """One bad row: where, and why (the English ``reason`` is the text's message)."""
        if len(self.items) < MAX_ERRORS:
            self.items.append(row_error(line, column, text))

    def found(self, line: int | None, found: Found) -> None:
        """One problem at a column of a row (``import.row_problem``)."""
        if self.full:  # a file wrong throughout: no text built for the rows not reported
            return
        self.add(line, found.field or None, row_text(found))

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_ERRORS

    def raise_if_any(self, kind: str, rows: int) -> None:
        if self.items:
            raise ImportFailed(
                f"{len(self.items)}{'+' if self.full else ''} problem(s) in the {kind} file; "
                "nothing was imported",
                {"errors": self.items, "rows": rows, "truncated": self.full},
                text=TextCode.IMPORT_ROWS_INVALID,
                params={"kind": kind, "count": len(self.items)},
            )


def _check_header(spec: BulkKind, header: list[str], errors: _Errors) -> None:
    known = set(spec.column_names)
    for name in header:
        if not name:
            continue
        if spec.refuse_personal and personal_column(name):
            message = (
                f"personal data is refused: the {spec.name} register holds counts only "
                "(remove names, ID numbers, phones, birth dates)"
            )
            errors.found(1, Found(name, Problem.PERSONAL_DATA, message, {"kind": spec.name}))
        elif name not in known:
            columns = ", ".join(spec.column_names)
            message = f"unknown column; {spec.name} take: {columns}"
            params = {"kind": spec.name, "expected": columns}
            errors.found(1, Found(name, Problem.UNKNOWN_COLUMN, message, params))
    for column in spec.columns:
        if column.required and column.name not in header:
            errors.found(1, Found(column.name, Problem.MISSING_COLUMN, "missing column"))


def _stage_table(spec: BulkKind, dialect: str) -> Table:
    target = spec.table
    columns: list[SqlColumn[Any]] = [
        SqlColumn("line", Integer, nullable=False),
        SqlColumn("_path", String(120)),
        SqlColumn("_target_id", Integer),
        SqlColumn("_changed", Boolean),
    ]
    columns += [SqlColumn(name, target.c[name].type) for name in spec.written]
    kwargs: dict[str, Any] = {"prefixes": ["TEMPORARY"]}
    if dialect == "postgresql":
        kwargs["postgresql_on_commit"] = "DROP"
    stage: Table = Table(f"bulk_stage_{spec.table.name}", MetaData(), *columns, **kwargs)
    return stage


class _Stager:
    """Writes checked rows into the staging table: ``COPY`` on PostgreSQL (when ``copy``),
    else the driver's ``executemany`` on tuples (the columns' own bind processors applied,
    so stored values compare equal to the target's)."""

    def __init__(self, connection: Connection, stage: Table, copy: bool) -> None:
        self.connection = connection
        self.stage = stage
        self.names = [c.name for c in stage.columns]
        self.copy = copy and connection.dialect.name == "postgresql"
        dialect = connection.dialect
        self.processors = [
            (i, processor)
            for i, column in enumerate(stage.columns)
            if (processor := column.type._cached_bind_processor(dialect)) is not None
        ]
        columns = ", ".join(f'"{n}"' for n in self.names)
        if self.copy:
            self.statement = f'COPY "{stage.name}" ({columns}) FROM STDIN'
        else:
            marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in self.names)
            self.statement = f'INSERT INTO "{stage.name}" ({columns}) VALUES ({marks})'

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        names = self.names
        raw: Any = self.connection.connection.dbapi_connection
        if self.copy:
            with raw.cursor() as cursor, cursor.copy(self.statement) as copy:
                for row in rows:
                    copy.write_row([row.get(n) for n in names])
            return
        tuples = [[row.get(n) for n in names] for row in rows]
        for i, processor in self.processors:
            for values in tuples:
                if values[i] is not None:
                    values[i] = processor(values[i])
        cursor = raw.cursor()
        try:
            cursor.executemany(self.statement, tuples)
        finally:
            cursor.close()


def import_chunked(
    session: Session,
    kind: str,
    source: ChunkedRows,
    *,
    crs: Crs | str = Crs.WGS84,
    principal: Principal | None = None,
    mode: str = "insert",
    progress: Progress | None = None,
    copy: bool = True,
) -> dict[str, Any]:
    """Import the rows of ``source`` into ``kind`` in the session's transaction."""
    spec = BULK_KINDS[kind]
    check_mode(mode)
    caller = principal or system_principal("import")
    errors = _Errors()
    _check_header(spec, source.header, errors)
    errors.raise_if_any(kind, 0)

    connection = session.connection()
    with sqlite_bulk_cache(connection, BULK_CACHE_KIB):
        return _import(session, connection, spec, kind, source, crs, caller, mode, progress, copy)


def _import(
    session: Session,
    connection: Connection,
    spec: BulkKind,
    kind: str,
    source: ChunkedRows,
    crs: Crs | str,
    caller: Principal,
    mode: str,
    progress: Progress | None,
    copy: bool,
) -> dict[str, Any]:
    started = time.perf_counter()
    errors = _Errors()
    dialect = connection.dialect.name
    stage = _stage_table(spec, dialect)
    stage.drop(connection, checkfirst=True)
    stage.create(connection)
    stager = _Stager(connection, stage, copy)
    lookups = Lookups(connection, parse_crs(str(crs)))
    position = {name: i for i, name in enumerate(source.header)}
    rows = 0
    for chunk in source:
        rows += len(chunk)
        checked = _check_chunk(spec, chunk, position, lookups, caller, errors)
        if not errors.items:
            stager.write(checked)
        if progress is not None:
            progress(len(chunk))
        if errors.full:
            break
    errors.raise_if_any(kind, rows)
    if rows == 0:
        raise ImportFailed(
            f"the file holds no {kind}", text=TextCode.IMPORT_NOTHING, params={"kind": kind}
        )

    Index(f"ix_{stage.name}_code", stage.c.code).create(connection)
    _match_stored(connection, spec, stage)
    _check_staged(connection, spec, stage, caller, mode, errors)
    errors.raise_if_any(kind, rows)
    report = _write(session, connection, spec, stage, caller, mode, kind)
    stage.drop(connection)
    if dialect == "postgresql" and rows >= ANALYZE_AFTER_ROWS:
        # fresh statistics, so the planner uses the indexes at once (autovacuum comes later)
        connection.exec_driver_sql(f'ANALYZE "{spec.table.name}"')
    seconds = time.perf_counter() - started
    record_change(session, caller, "import", kind, "", None, None, **report)
    return {
        "kind": kind,
        "rows": rows,
        **report,
        "mode": mode,
        "chunks": source.chunks_read,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds) if seconds > 0 else None,
        **({"encoding": source.encoding} if source.encoding else {}),
    }


def _check_chunk(
    spec: BulkKind,
    chunk: list[tuple[int, list[Any]]],
    position: dict[str, int],
    lookups: Lookups,
    principal: Principal,
    errors: _Errors,
) -> list[dict[str, Any]]:
    """The chunk's rows ready for the stage; problems go to ``errors``."""
    plan = [(c.name, position.get(c.name), c.parse, c.required, c.default) for c in spec.columns]
    parsed: list[dict[str, Any]] = []
    lines: list[int] = []
    for line, cells in chunk:
        values: dict[str, Any] = {}
        bad = False
        width = len(cells)
        for name, index, parse, required, default in plan:
            raw = cells[index] if index is not None and index < width else None
            if raw is None:
                if required:
                    errors.found(line, Found(name, Problem.MISSING, "missing value"))
                    bad = True
                    continue
                if default is not None:
                    values[name] = default
                    continue
            try:
                values[name] = parse(raw)
            except CellError as exc:
                errors.found(line, exc.found(name))
                bad = True
        if not bad:
            parsed.append(values)
            lines.append(line)
    staged: list[dict[str, Any]] = []
    for line, (resolved, problems) in zip(lines, spec.resolve(lookups, parsed), strict=True):
        if resolved is None:
            for found in problems:
                errors.found(line, found)
            continue
        path = resolved.pop("_path", None) or resolved.get("jurisdiction_path") or ""
        if not principal.can_see_path(path):
            outside = "the row lies outside your jurisdiction"
            errors.add(line, None, Text(TextCode.IMPORT_OUTSIDE_JURISDICTION, outside))
            continue
        resolved.update(line=line, _path=path, _target_id=None, _changed=False)
        staged.append(resolved)
    return staged


def _match_stored(connection: Connection, spec: BulkKind, stage: Table) -> None:
    """Note, for each staged row, the stored row with its code and whether it differs."""
    target = spec.table
    if connection.execute(select(target.c.id).limit(1)).first() is None:
        return  # an empty table (a first load): every row is new
    stored = select(target.c.id).where(target.c.code == stage.c.code)
    connection.execute(
        update(stage)
        .where(exists(stored))  # only the matching rows are rewritten
        .values(_target_id=stored.scalar_subquery())
    )
    differs = [target.c[name].is_distinct_from(stage.c[name]) for name in spec.written]
    if spec.soft_delete:
        differs.append(target.c.deleted_at.is_not(None))  # a deleted row comes back
    connection.execute(
        update(stage)
        .where(stage.c._target_id.is_not(None))
        .where(exists().where(target.c.id == stage.c._target_id, or_(*differs)))
        .values(_changed=True)
    )


def _check_staged(
    connection: Connection,
    spec: BulkKind,
    stage: Table,
    principal: Principal,
    mode: str,
    errors: _Errors,
) -> None:
    """Problems only the whole file shows: a code twice, a code already stored
    (``insert``), a stored row outside the caller's jurisdiction."""
    twice = connection.execute(
        select(stage.c.code, func.min(stage.c.line), func.max(stage.c.line))
        .group_by(stage.c.code)
        .having(func.count() > 1)
        .order_by(func.min(stage.c.line))
        .limit(MAX_ERRORS)
    )
    for code, first, last in twice:
        message = f"code {code!r} appears more than once in the file (line {first})"
        params = {"value": code, "first_line": first}
        errors.found(last, Found("code", Problem.DUPLICATE_CODE, message, params))
    if mode == "insert":
        stored = connection.execute(
            select(stage.c.line, stage.c.code)
            .where(stage.c._target_id.is_not(None))
            .order_by(stage.c.line)
            .limit(MAX_ERRORS)
        )
        for line, code in stored:
            message = f"code {code!r} is already stored: import with --mode upsert"
            errors.found(line, Found("code", Problem.CODE_STORED, message, {"value": code}))
    elif principal.scope_path != "/":
        target = spec.table
        outside = connection.execute(
            select(stage.c.line, stage.c.code)
            .join(target, target.c.id == stage.c._target_id)
            .where(~principal.scope_filter(spec.existing_path(target)))
            .order_by(stage.c.line)
            .limit(MAX_ERRORS)
        )
        for line, code in outside:
            message = f"code {code!r} is stored outside your jurisdiction"
            errors.found(line, Found("code", Problem.CODE_OUTSIDE_SCOPE, message, {"value": code}))


def _write(
    session: Session,
    connection: Connection,
    spec: BulkKind,
    stage: Table,
    principal: Principal,
    mode: str,
    kind: str,
) -> dict[str, int]:
    target = spec.table
    now = utcnow()
    actor = principal.subject
    cause = f"{kind} file imported by {principal.username} ({mode})"
    counts = connection.execute(
        select(
            func.count().filter(stage.c._target_id.is_(None)),
            func.count().filter(stage.c._changed.is_(True)),
            func.count().filter(stage.c._target_id.is_not(None), stage.c._changed.is_(False)),
        )
    ).one()
    created, updated, unchanged = (int(n or 0) for n in counts)
    stamps: dict[str, Any] = {}
    if "updated_at" in target.c:
        stamps["updated_at"] = now
    if spec.soft_delete:
        stamps["deleted_at"] = None
    if spec.hazard_transitions:
        _status_transitions(connection, stage, now, actor, cause)
    if updated:
        connection.execute(
            update(target)
            .where(target.c.id == stage.c._target_id, stage.c._changed.is_(True))
            .values({**{name: stage.c[name] for name in spec.written}, **stamps})
        )
    if created:
        extra = {"created_at": now, "updated_at": now} if "created_at" in target.c else {}
        names = list(spec.written) + list(extra)
        connection.execute(
            insert(target).from_select(
                names,
                select(
                    *[stage.c[n] for n in spec.written],
                    *[literal(v, target.c[k].type).label(k) for k, v in extra.items()],
                )
                .where(stage.c._target_id.is_(None))
                .order_by(stage.c.line),
            )
        )
        if spec.hazard_transitions:
            _created_transitions(connection, stage, now, actor, cause)
    deleted = 0
    if mode == "replace":
        deleted = _remove_unlisted(connection, spec, stage, principal, now)
    if spec.venue_changes and (created or updated or deleted):
        _venue_changes(session, connection, stage, actor, cause)
    if spec.feed_kind and (created or updated):
        _feed_changes(session, connection, spec, stage, actor, cause)
    return {"created": created, "updated": updated, "unchanged": unchanged, "deleted": deleted}


def _remove_unlisted(
    connection: Connection, spec: BulkKind, stage: Table, principal: Principal, now: Any
) -> int:
    """``replace``: the stored rows in the caller's scope the file does not list go (soft
    when the kind keeps history, else for good)."""
    target = spec.table
    unlisted = ~exists().where(stage.c.code == target.c.code)
    in_scope = (
        principal.scope_filter(spec.existing_path(target))
        if principal.scope_path != "/"
        else true()
    )
    if spec.soft_delete:
        result = connection.execute(
            update(target)
            .where(target.c.deleted_at.is_(None), target.c.code.is_not(None), in_scope, unlisted)
            .values(deleted_at=now, updated_at=now)
        )
    else:
        result = connection.execute(delete(target).where(in_scope, unlisted))
    return int(result.rowcount or 0)


def _status_transitions(
    connection: Connection, stage: Table, now: Any, actor: str, cause: str
) -> None:
    """A transition for each stored hazard whose status the file changes (before the update)."""
    hazards = table_of(Hazard)
    transitions = table_of(HazardTransition)
    connection.execute(
        insert(transitions).from_select(
            ["hazard_id", "from_status", "to_status", "at", "actor", "cause"],
            select(
                hazards.c.id,
                hazards.c.status,
                stage.c.status,
                literal(now, transitions.c.at.type),
                literal(actor),
                literal(cause),
            )
            .join(stage, stage.c._target_id == hazards.c.id)
            .where(stage.c._changed.is_(True), hazards.c.status != stage.c.status),
        )
    )


def _created_transitions(
    connection: Connection, stage: Table, now: Any, actor: str, cause: str
) -> None:
    """The first transition (``""`` → its status) of each hazard the file created."""
    hazards = table_of(Hazard)
    transitions = table_of(HazardTransition)
    connection.execute(
        insert(transitions).from_select(
            ["hazard_id", "from_status", "to_status", "at", "actor", "cause"],
            select(
                hazards.c.id,
                literal(""),
                hazards.c.status,
                literal(now, transitions.c.at.type),
                literal(actor),
                literal(cause),
            )
            .join(stage, stage.c.code == hazards.c.code)
            .where(stage.c._target_id.is_(None)),
        )
    )


def _venue_changes(
    session: Session, connection: Connection, stage: Table, actor: str, cause: str
) -> None:
    """Tell the other contexts (risk) which venues' inspections or hazards changed."""
    venues = connection.execute(
        select(stage.c.venue_id, func.min(stage.c._path))
        .where(or_(stage.c._target_id.is_(None), stage.c._changed.is_(True)))
        .group_by(stage.c.venue_id)
    )
    for venue_id, path in venues:
        record_topic_change(
            session,
            VENUE_CHANGED,
            int(venue_id),
            actor=actor,
            cause=cause,
            payload={"what": "imported"},
            scope_path=str(path or ""),
        )


# ---------------------------------------------------------------- files


def read_source(stream: IO[bytes], fmt: str, encoding: str = "auto") -> ChunkedRows:
    """Chunks of the file in ``stream``: CSV streamed; GeoJSON and xlsx parsed in memory
    (meant for small files) by the general importer's readers."""
    if fmt == "csv":
        return read_csv_chunks(stream, encoding)
    from firegrid.places.importexport import read_rows

    rows = read_rows(stream.read(), fmt, encoding)
    errors = _Errors()
    for row in rows:
        for column, text in row.problems:
            errors.add(row.line, column, text)
    errors.raise_if_any("", len(rows))
    return rows_in_chunks(
        [(row.line, {k: v for k, v in row.values.items() if not k.startswith("_")}) for row in rows]
    )


def import_stream(
    database: Database,
    kind: str,
    stream: IO[bytes],
    fmt: str,
    *,
    crs: Crs | str = Crs.WGS84,
    principal: Principal | None = None,
    mode: str = "insert",
    encoding: str = "auto",
    progress: Progress | None = None,
    copy: bool = True,
) -> dict[str, Any]:
    """Import the file in ``stream`` in one transaction: all rows or none."""
    source = read_source(stream, fmt, encoding)
    with database.session() as session:
        return import_chunked(
            session,
            kind,
            source,
            crs=crs,
            principal=principal,
            mode=mode,
            progress=progress,
            copy=copy,
        )


def export_bulk(
    database: Database,
    kind: str,
    out: IO[bytes],
    fmt: str,
    *,
    crs: Crs | str = Crs.WGS84,
    principal: Principal | None = None,
) -> int:
    """Write the stored rows of ``kind`` to ``out``; CSV is streamed, GeoJSON and xlsx are
    built in memory. Returns the row count."""
    spec = BULK_KINDS[kind]
    caller = principal or system_principal("export")
    with database.engine.connect() as connection:
        rows = export_rows(connection, spec, caller, parse_crs(str(crs)))
        if fmt == "csv":
            return write_csv(out, spec.column_names, rows)
        from firegrid.places.importexport import render

        records = list(rows)
    out.write(render(records, fmt) if records else write_empty(spec, fmt))
    return len(records)


def iter_csv(
    database: Database,
    kind: str,
    *,
    crs: Crs | str = Crs.WGS84,
    principal: Principal | None = None,
    rows_per_piece: int = 5_000,
) -> Iterator[bytes]:
    """The CSV export of ``kind`` in pieces (for a streamed HTTP response: a 6.21 M-row
    register never sits in the server's memory)."""
    from firegrid.places.importexport import _flat

    spec = BULK_KINDS[kind]
    caller = principal or system_principal("export")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(spec.column_names)
    yield buffer.getvalue().encode("utf-8-sig")
    with database.engine.connect() as connection:
        pending = 0
        for row in export_rows(connection, spec, caller, parse_crs(str(crs))):
            if pending == 0:
                buffer.seek(0)
                buffer.truncate()
            writer.writerow([_csv_cell(_flat(row.get(name))) for name in spec.column_names])
            pending += 1
            if pending >= rows_per_piece:
                yield buffer.getvalue().encode("utf-8")
                pending = 0
        if pending:
            yield buffer.getvalue().encode("utf-8")


def write_csv(out: IO[bytes], columns: list[str], rows: Iterable[dict[str, Any]]) -> int:
    """UTF-8 CSV with the BOM Excel needs, cells flattened as the general export does."""
    from firegrid.places.importexport import _flat

    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(_flat(row.get(name))) for name in columns])
        count += 1
    text.flush()
    text.detach()
    return count


def _csv_cell(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value


def write_empty(spec: BulkKind, fmt: str) -> bytes:
    from firegrid.places.importexport import render

    if fmt == "geojson":
        return render([], fmt)
    return render([dict.fromkeys(spec.column_names)], fmt) if fmt == "xlsx" else b""


def export_bulk_file(database: Database, kind: str, path: Path, fmt: str, **kwargs: Any) -> int:
    with path.open("wb") as out:
        return export_bulk(database, kind, out, fmt, **kwargs)


def _feed_changes(
    session: Session,
    connection: Connection,
    spec: BulkKind,
    stage: Table,
    actor: str,
    cause: str,
) -> None:
    """One change-stream entry per created or changed row, as the owning context records
    them, so the change feed's followers see imported inspections and hazards."""
    assert spec.feed_kind is not None
    target = spec.table
    rows = connection.execute(
        select(
            target.c.id,
            target.c.jurisdiction_path,
            stage.c._target_id,
            *[target.c[name] for name in spec.feed_payload],
        )
        .join(stage, stage.c.code == target.c.code)
        .where(or_(stage.c._target_id.is_(None), stage.c._changed.is_(True)))
        .order_by(stage.c.line)
    )
    for row in rows:
        payload = {name: row[3 + i] for i, name in enumerate(spec.feed_payload)}
        payload["imported"] = "created" if row[2] is None else "updated"
        record_topic_change(
            session,
            spec.feed_kind,
            int(row[0]),
            actor=actor,
            cause=cause,
            payload=payload,
            scope_path=str(row[1] or ""),
        )
