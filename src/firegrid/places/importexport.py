"""Import and export of city data as GeoJSON, CSV and xlsx.

An import is all or nothing: every row goes through the same schema and rules as the API
(``prepare`` hooks) inside one transaction; if any row is bad, nothing is written and
:class:`~firegrid.core.errors.ImportFailed` lists every bad row with its line, column and
reason (wrong CRS, point outside the city, unknown jurisdiction code, duplicate id,
missing field, …).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, system_principal
from firegrid.api.crud import Resource
from firegrid.core.changes import record_change
from firegrid.core.db import Database
from firegrid.core.errors import DomainError, ImportFailed, ValidationFailed
from firegrid.core.problems import Found, Problem, detail, row_error, row_text, validation_text
from firegrid.core.text import find_in, neutralise_formula, restore_formula
from firegrid.core.texts import Text, TextCode, param
from firegrid.core.writes import WriteContext
from firegrid.places.bulk_kinds import BULK_KINDS
from firegrid.places.crs import Crs, parse_crs, point_from_wgs84
from firegrid.places.geometry_input import accepted_types, read_geometry

SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".xlsx": "xlsx"}
INFORMATIONAL_COLUMNS = {"id", "jurisdiction_code", "jurisdiction_path"}
LIST_FIELDS = {"tags", "capabilities", "supplies"}
MAX_ERRORS = 1000


@dataclass(frozen=True)
class Row:
    """One input record with where it came from."""

    line: int
    values: dict[str, Any]
    #: (column, why) found while reading: a text code with its parameters and English message
    problems: tuple[tuple[str | None, Text], ...] = ()


def resources() -> dict[str, Resource]:
    """The importable/exportable kinds."""
    from firegrid.devices.api import DEVICES
    from firegrid.dispatch.api import HYDRANTS, LOGISTICS_POINTS, STATIONS, VEHICLES
    from firegrid.places.api import GRID_WORKERS, JURISDICTIONS, VENUES
    from firegrid.records.api import FIRE_RECORDS

    return {
        "jurisdictions": JURISDICTIONS,
        "venues": VENUES,
        "grid-workers": GRID_WORKERS,
        "stations": STATIONS,
        "vehicles": VEHICLES,
        "hydrants": HYDRANTS,
        "logistics-points": LOGISTICS_POINTS,
        "devices": DEVICES,
        "fire-records": FIRE_RECORDS,
    }


def resource_for(kind: str) -> Resource:
    known = resources()
    if kind not in known:
        raise ValidationFailed(
            f"unknown kind {kind!r}",
            {"known": sorted([*known, *BULK_KINDS])},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "kind", "value": kind, "allowed": sorted([*known, *BULK_KINDS])},
        )
    return known[kind]


def is_bulk_kind(kind: str) -> bool:
    """The kinds imported by streaming (:mod:`firegrid.places.bulk_import`)."""
    return kind in BULK_KINDS


def check_kind(kind: str) -> None:
    """Raise naming the known kinds unless ``kind`` is one."""
    if not is_bulk_kind(kind):
        resource_for(kind)


def file_format(path: Path) -> str:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ValidationFailed(
            f"cannot tell the format of {path.name!r}: use .geojson, .csv or .xlsx",
            {"file": path.name},
            text=TextCode.IMPORT_FORMAT_UNKNOWN,
            params={"file": path.name},
        )
    return fmt


# ---------------------------------------------------------------- reading


ENCODINGS = ("auto", "utf-8", "gb18030")


def decode_csv(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """The CSV text and the encoding it was read with: UTF-8 (with or without the BOM Excel
    writes for "CSV UTF-8"), or GB18030 — which covers GBK, what Chinese Excel writes for plain
    "CSV" — found by trying UTF-8 first (``auto``), or the one named."""
    if encoding not in ENCODINGS:
        raise ImportFailed(
            f"unknown encoding {encoding!r}: auto, utf-8 or gb18030",
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "encoding", "value": encoding, "allowed": "auto, utf-8, gb18030"},
        )
    bom = data.startswith(b"\xef\xbb\xbf")
    if encoding in ("auto", "utf-8"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig" if bom else "utf-8"
        except UnicodeDecodeError as exc:
            if encoding == "utf-8":
                raise ImportFailed(
                    f"the CSV file is not UTF-8 (byte {exc.start}); a file saved by Chinese "
                    "Excel as plain CSV is GBK: use --encoding gb18030 (or auto)",
                    {"byte": exc.start},
                    text=TextCode.IMPORT_NOT_UTF8,
                    params={"byte": exc.start},
                ) from None
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            f"the CSV file is neither UTF-8 nor GB18030/GBK (byte {exc.start}): save it from "
            'Excel as "CSV UTF-8", or export it again',
            {"byte": exc.start},
            text=TextCode.IMPORT_NOT_UTF8,
            params={"byte": exc.start},
        ) from None


def read_rows(data: bytes, fmt: str, encoding: str = "auto") -> list[Row]:
    """Parse ``data`` into rows; a malformed file raises naming what is wrong."""
    if fmt == "csv":
        return list(_read_csv(data, encoding))
    if fmt == "xlsx":
        return list(_read_xlsx(data))
    return list(_read_geojson(data))


def _read_csv(data: bytes, encoding: str = "auto") -> Iterator[Row]:
    text, _ = decode_csv(data, encoding)
    reader = csv.DictReader(io.StringIO(text))
    try:
        if not reader.fieldnames:
            raise ImportFailed(
                "the CSV file has no header row", text=TextCode.IMPORT_NO_HEADER, params={}
            )
        for record in reader:
            if None in record:
                raise ImportFailed(
                    f"line {reader.line_num} has more cells than the header",
                    {"line": reader.line_num},
                    text=TextCode.IMPORT_TOO_MANY_CELLS,
                    params={"line": reader.line_num},
                )
            yield Row(reader.line_num, {k.strip(): _cell(v) for k, v in record.items() if k})
    except csv.Error as exc:
        raise ImportFailed(
            f"the CSV file cannot be read at line {reader.line_num}: {exc}",
            {"line": reader.line_num},
            text=TextCode.FILE_LINE_INVALID,
            params={
                "file": "CSV",
                "line": reader.line_num,
                "problem": Problem.CSV_MALFORMED,
                "detail": detail(exc),
            },
        ) from None


def _read_xlsx(data: bytes) -> Iterator[Row]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on bad files
        raise ImportFailed(
            f"the xlsx file cannot be read: {type(exc).__name__}",
            text=TextCode.FILE_UNREADABLE,
            params={"file": "xlsx"},
        ) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise ImportFailed(
            "the xlsx sheet has no header row", text=TextCode.IMPORT_NO_HEADER, params={}
        )
    names = [str(h).strip() if h is not None else "" for h in header]
    for number, cells in enumerate(rows, start=2):
        if all(c is None or c == "" for c in cells):
            continue
        yield Row(number, {n: _cell(c) for n, c in zip(names, cells, strict=False) if n})


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = restore_formula(value.strip())
        return None if value == "" else value
    return value


def _read_geojson(data: bytes) -> Iterator[Row]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ImportFailed(
            f"the GeoJSON file is not valid JSON: {exc}",
            text=TextCode.VALIDATION_JSON_INVALID,
            params={},
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportFailed(
            "the GeoJSON file must be a FeatureCollection",
            text=TextCode.IMPORT_GEOJSON_SHAPE,
            params={},
        )
    features = document.get("features")
    if features is None:
        features = []
    if not isinstance(features, list):
        raise ImportFailed(
            "the GeoJSON file's features must be an array",
            text=TextCode.IMPORT_GEOJSON_SHAPE,
            params={},
        )
    for number, item in enumerate(features, start=1):
        yield _feature_row(number, item)


PROPERTIES_NOT_OBJECT = "properties must be an object or null"


def _found_at(found: Found) -> tuple[str | None, Text]:
    """A problem at a field of a row, as the row's ``(column, text)``."""
    return found.field or None, row_text(found)


def _feature_row(number: int, item: Any) -> Row:
    """One feature as a row; what is wrong with it becomes the row's problems."""
    if not isinstance(item, dict):
        not_feature = Found("", Problem.NOT_FEATURE, "the feature is not a GeoJSON object")
        return Row(number, {}, (_found_at(not_feature),))
    problems: list[tuple[str | None, Text]] = []
    properties = item.get("properties")
    values: dict[str, Any] = {}
    if isinstance(properties, dict):
        values = {str(key): value for key, value in properties.items()}
    elif properties is not None:
        text = Text(TextCode.IMPORT_PROPERTIES_NOT_OBJECT, PROPERTIES_NOT_OBJECT)
        problems.append(("properties", text))
    geometry = item.get("geometry")
    if geometry is not None:
        geometry_values, geometry_problems = read_geometry(geometry)
        values.update(geometry_values)
        problems.extend(_found_at(found) for found in geometry_problems)
    return Row(number, values, tuple(problems))


# ---------------------------------------------------------------- importing


def _coerce(schema: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """Shape raw cells for the schema: lists from ``a;b`` text, drop informational columns."""
    shaped: dict[str, Any] = {}
    for key, value in values.items():
        if key in INFORMATIONAL_COLUMNS or key.startswith("_") or value is None:
            continue
        if key in LIST_FIELDS and isinstance(value, str):
            value = [part.strip() for part in value.replace("；", ";").split(";") if part.strip()]
        shaped[key] = value
    if "boundary" in shaped and "lon" in schema.model_fields and "lon" not in shaped:
        shaped["lon"], shaped["lat"] = values.get("_centre_lon"), values.get("_centre_lat")
    if isinstance(shaped.get("boundary"), str):
        try:
            shaped["boundary"] = json.loads(shaped["boundary"])
        except json.JSONDecodeError:
            raise ValidationFailed(
                "boundary is not GeoJSON text",
                {"boundary": "..."},
                text=TextCode.GEO_BAD_BOUNDARY,
                params={"problem": Problem.NOT_GEOJSON},
            ) from None
    return shaped


def _reason(err: Any) -> Text:
    if err["type"] == "missing":
        return Text(TextCode.VALIDATION_MISSING, "missing field", {"field": _column(err)})
    if (
        err["loc"]
        and err["loc"][-1] in {"lon", "lat"}
        and err["type"]
        in {
            "less_than_equal",
            "greater_than_equal",
        }
    ):
        return Text(
            TextCode.IMPORT_WRONG_CRS,
            f"{err['loc'][-1]} {err['input']} is not in degrees: wrong CRS "
            "(is the file in a projected CRS?)",
            {"axis": str(err["loc"][-1]), "value": param(err["input"])},
        )
    return validation_text(err)


def _column(err: Any) -> str:
    return ".".join(str(p) for p in err["loc"])


def _row_errors(line: int, exc: Exception) -> list[dict[str, Any]]:
    if isinstance(exc, ValidationError):
        errors = []
        for err in exc.errors():
            text = _reason(err)
            errors.append(row_error(line, _column(err) or None, text))
        return errors
    if isinstance(exc, DomainError):
        column = next(iter(exc.details), None) if isinstance(exc.details, dict) else None
        return [row_error(line, column, _domain_text(column, exc))]
    raise exc


def _domain_text(column: str | None, exc: DomainError) -> Text:
    """A refusal's own text; one without a code (none should be) keeps its English apart."""
    if exc.text_code is not None:
        return Text(exc.text_code, exc.message, exc.text_params)
    params = {"detail": detail(exc.message)}
    return row_text(Found(column or "", Problem.INVALID, exc.message, params))


def _read_problems(row: Row, kind: str, accepted: frozenset[str]) -> list[tuple[str | None, Text]]:
    """What is wrong with ``row`` before its values reach the schema."""
    problems = list(row.problems)
    geometry_type = row.values.get("_geometry_type")
    if not problems and geometry_type is not None and geometry_type not in accepted:
        use = " or ".join(sorted(accepted)) or "no geometry"
        text = Text(
            TextCode.IMPORT_GEOMETRY_TYPE,
            f"{kind} do not take a {geometry_type} geometry: use {use}",
            {"kind": kind, "geometry_type": str(geometry_type)},
        )
        problems.append(("geometry.type", text))
    where, message = find_in(row.values)
    if message:
        column = ".".join(str(part) for part in where)
        problems.append(_found_at(Found(column, Problem.CONTROL_CHARACTER, message)))
    return problems


def import_rows(
    session: Session,
    kind: str,
    rows: list[Row],
    *,
    crs: Crs | str = Crs.WGS84,
    principal: Principal | None = None,
    mode: str = "insert",
) -> dict[str, Any]:
    """Validate and write ``rows`` in the session's transaction (``mode``: insert, upsert or
    replace, see :mod:`firegrid.places.import_modes`); raise listing bad rows."""
    from firegrid.api.crud import _audit
    from firegrid.places.import_modes import KeyedRows, check_mode

    resource = resource_for(kind)
    schema = resource.create_schema
    if schema is None:
        raise ValidationFailed(
            f"{kind} cannot be imported", text=TextCode.IMPORT_NOT_IMPORTABLE, params={"kind": kind}
        )
    caller = principal or system_principal("import")
    ctx = WriteContext(session, caller, parse_crs(str(crs)))
    if not rows:
        raise ImportFailed(
            f"the file holds no {kind}", text=TextCode.IMPORT_NOTHING, params={"kind": kind}
        )
    keyed = None if check_mode(mode) == "insert" else KeyedRows(session, resource, caller)
    errors: list[dict[str, Any]] = []
    created = updated = unchanged = deleted = 0
    accepted = accepted_types(set(schema.model_fields))
    for row in rows:
        problems = _read_problems(row, kind, accepted)
        if problems:
            errors.extend(row_error(row.line, column, text) for column, text in problems)
            if len(errors) >= MAX_ERRORS:
                break
            continue
        try:
            body = schema.model_validate(_coerce(schema, row.values))
            values = body.model_dump()
            existing = keyed.existing(values) if keyed is not None else None
            if resource.prepare is not None:
                values = resource.prepare(ctx, values, existing)
            if not ctx.principal.can_see_path(values[resource.path_column]):
                raise ValidationFailed(
                    "the row lies outside your jurisdiction",
                    text=TextCode.IMPORT_OUTSIDE_JURISDICTION,
                )
            if keyed is not None and existing is not None:
                if keyed.update(ctx, resource, existing, values):
                    updated += 1
                else:
                    unchanged += 1
                continue
            record = resource.model(**values)
            session.add(record)
            session.flush()
            _audit(ctx, "import", resource, record, None)
            if resource.change_topic:  # other contexts react (risk re-scores the venue)
                record_change(
                    session,
                    resource.change_topic,
                    record.id,
                    actor=ctx.principal.subject,
                    cause=f"{kind} file imported by {ctx.principal.username}",
                    payload={"what": "created"},
                    scope_path=str(getattr(record, resource.path_column, "") or ""),
                )
            created += 1
        except (ValidationError, DomainError) as exc:
            errors.extend(_row_errors(row.line, exc))
            if len(errors) >= MAX_ERRORS:
                break
    if not errors and keyed is not None and mode == "replace":
        try:
            deleted = keyed.delete_missing(ctx, resource)
        except DomainError as exc:
            errors.extend(_row_errors(0, exc))
            errors[-1]["line"] = None
    if errors:
        raise ImportFailed(
            f"{len(errors)} problem(s) in the {kind} file; nothing was imported",
            {"errors": errors, "rows": len(rows)},
            text=TextCode.IMPORT_ROWS_INVALID,
            params={"kind": kind, "count": len(errors)},
        )
    report: dict[str, Any] = {"kind": kind, "rows": len(rows), "created": created}
    if keyed is not None:
        report.update(mode=mode, updated=updated, unchanged=unchanged, deleted=deleted)
    return report


def import_bytes(
    database: Database,
    kind: str,
    data: bytes,
    fmt: str,
    *,
    crs: Crs | str = Crs.WGS84,
    principal: Principal | None = None,
    mode: str = "insert",
    encoding: str = "auto",
) -> dict[str, Any]:
    """Import ``data`` in one transaction: all rows or none."""
    if is_bulk_kind(kind):  # addresses, population, buildings, inspections, hazards
        from firegrid.places.bulk_import import import_stream

        return import_stream(
            database,
            kind,
            io.BytesIO(data),
            fmt,
            crs=crs,
            principal=principal,
            mode=mode,
            encoding=encoding,
        )
    rows = read_rows(data, fmt, encoding)
    with database.session() as session:
        report = import_rows(session, kind, rows, crs=crs, principal=principal, mode=mode)
    if fmt == "csv":
        report["encoding"] = decode_csv(data, encoding)[1]
    return report


def import_file(
    database: Database,
    kind: str,
    path: Path,
    *,
    crs: Crs | str = Crs.WGS84,
    mode: str = "insert",
    encoding: str = "auto",
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Import the file at ``path`` (format from its suffix) as the local administrator;
    the bulk kinds stream the file and call ``progress(rows)`` after each chunk."""
    if is_bulk_kind(kind):
        from firegrid.places.bulk_import import import_stream

        with path.open("rb") as stream:
            report = import_stream(
                database,
                kind,
                stream,
                file_format(path),
                crs=crs,
                mode=mode,
                encoding=encoding,
                progress=progress,
            )
        return {**report, "file": str(path)}
    resource_for(kind)
    report = import_bytes(
        database,
        kind,
        path.read_bytes(),
        file_format(path),
        crs=crs,
        mode=mode,
        encoding=encoding,
    )
    return {**report, "file": str(path)}


# ---------------------------------------------------------------- exporting


def _codes(model: Any) -> Callable[[Session], dict[int, str]]:
    def load(session: Session) -> dict[int, str]:
        return {int(i): str(c) for i, c in session.execute(select(model.id, model.code))}

    return load


def export_records(
    session: Session, kind: str, *, crs: Crs | str = Crs.WGS84, principal: Principal | None = None
) -> list[dict[str, Any]]:
    """Rows of ``kind`` shaped like the import schema (so an export imports back)."""
    from firegrid.api.crud import scoped_select
    from firegrid.dispatch.public import Station
    from firegrid.places.models import Jurisdiction, Venue

    resource = resource_for(kind)
    out_crs = parse_crs(str(crs))
    caller = principal or system_principal("export")
    schema = resource.create_schema
    assert schema is not None
    fields = list(schema.model_fields)
    references = {
        "parent_code": ("parent_id", _codes(Jurisdiction)),
        "grid_code": ("grid_id", _codes(Jurisdiction)),
        "station_code": ("station_id", _codes(Station)),
        "venue_code": ("venue_id", _codes(Venue)),
    }
    lookups = {
        name: (column, load(session))
        for name, (column, load) in references.items()
        if name in fields
    }
    records: list[dict[str, Any]] = []
    rows = session.scalars(scoped_select(resource, caller).order_by(resource.model.id))
    for row in rows:
        record: dict[str, Any] = {}
        for name in fields:
            if name in lookups:
                column, codes = lookups[name]
                record[name] = codes.get(getattr(row, column))
            elif name in {"lon", "lat"} and not hasattr(row, name):
                record[name] = getattr(row, f"center_{name}")
            else:
                record[name] = getattr(row, name, None)
        if "lon" in record and record["lon"] is not None:
            record["lon"], record["lat"] = point_from_wgs84(record["lon"], record["lat"], out_crs)
        records.append(record)
    return records


def export_file(database: Database, kind: str, path: Path, *, crs: Crs | str = Crs.WGS84) -> int:
    """Write ``kind`` to ``path`` (GeoJSON, CSV or xlsx by suffix); returns the row count."""
    fmt = file_format(path)
    if is_bulk_kind(kind):
        from firegrid.places.bulk_import import export_bulk_file

        return export_bulk_file(database, kind, path, fmt, crs=crs)
    with database.session() as session:
        records = export_records(session, kind, crs=crs)
    path.write_bytes(render(records, fmt))
    return len(records)


def render(records: list[dict[str, Any]], fmt: str) -> bytes:
    """Serialise records as GeoJSON, CSV or xlsx bytes."""
    if fmt == "geojson":
        collection = _feature_collection(records)
        return json.dumps(collection, ensure_ascii=False, default=_json_time).encode()
    columns = [c for c in (records[0] if records else {}) if c != "boundary"]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for record in records:
            writer.writerow({k: _flat(record.get(k)) for k in columns})
        return buffer.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    sheet.append(columns)
    for record in records:
        sheet.append([_flat(record.get(k)) for k in columns])
    buffer_bytes = io.BytesIO()
    workbook.save(buffer_bytes)
    return buffer_bytes.getvalue()


def _json_time(value: Any) -> str:
    """A time in a GeoJSON export: ISO 8601 with its offset."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _flat(value: Any) -> Any:
    """A cell of a CSV or xlsx export: lists as ``a;b``, objects as JSON, and text that a
    spreadsheet would run as a formula quoted (OWASP CSV injection; the importer takes
    the quote off again). Numbers stay numbers."""
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, datetime):  # with its offset: xlsx cells cannot hold one
        value = value.isoformat()
    return neutralise_formula(value) if isinstance(value, str) else value


def _feature_collection(records: list[dict[str, Any]]) -> dict[str, Any]:
    features = []
    for record in records:
        properties = {k: v for k, v in record.items() if k not in {"lon", "lat", "boundary"}}
        geometry = record.get("boundary")
        if geometry is None and record.get("lon") is not None:
            geometry = {"type": "Point", "coordinates": [record["lon"], record["lat"]]}
        elif geometry is None:
            geometry = None
        else:
            properties["lon"], properties["lat"] = record.get("lon"), record.get("lat")
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}
