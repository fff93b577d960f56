"""The bulk-data kinds: standard addresses, population counts, buildings, inspections and
hazards — each with its file columns, its stable external key (``code``), how its references
are resolved (a chunk at a time, by SQL), the path it is scoped by, and its export.

Inspections and hazards are tables of the inspections context, used here through
:mod:`firegrid.inspections.public`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Executable, Table, select
from sqlalchemy.sql.elements import ColumnElement as SqlExpression

from firegrid.accounts.public import Principal
from firegrid.core.bulk import table_of
from firegrid.core.problems import Found, Problem
from firegrid.inspections.public import (
    HAZARD_CATEGORY_CODES,
    HAZARD_CHANGED,
    INSPECTION_RECORDED,
    Hazard,
    Inspection,
    deadline_days,
)
from firegrid.places.bulk_fields import (
    Column,
    choice,
    code_text,
    day,
    integer,
    latitude,
    longitude,
    number,
    text,
    timestamp,
)
from firegrid.places.crs import Crs, point_from_wgs84, point_to_wgs84
from firegrid.places.models import (
    Building,
    GridWorker,
    Jurisdiction,
    PopulationCount,
    StandardAddress,
    Venue,
)

Resolved = tuple[dict[str, Any] | None, list[Found]]


def unknown_code(column: str, kind: str, code: str, message: str) -> Found:
    """A reference to a row that is not stored: ``kind`` names what the column refers to."""
    return Found(column, Problem.UNKNOWN_CODE, message, {"kind": kind, "value": code})


@dataclass
class Lookups:
    """What resolving needs besides the chunk: the connection, the CRS of the file, and the
    jurisdiction tree (a few thousand nodes, loaded once per import)."""

    connection: Connection
    crs: Crs
    _jurisdictions: dict[str, tuple[int, str]] | None = field(default=None, repr=False)

    def jurisdiction(self, code: str) -> tuple[int, str] | None:
        if self._jurisdictions is None:
            rows = self.connection.execute(
                select(Jurisdiction.id, Jurisdiction.code, Jurisdiction.path).where(
                    Jurisdiction.deleted_at.is_(None)
                )
            )
            self._jurisdictions = {str(c): (int(i), str(p)) for i, c, p in rows}
        return self._jurisdictions.get(code)

    def by_code(
        self, model: Any, codes: Iterable[str], *columns: Any
    ) -> dict[str, tuple[Any, ...]]:
        """``code -> (columns…)`` of the live rows of ``model`` with one of ``codes``."""
        wanted = sorted({c for c in codes if c})
        found: dict[str, tuple[Any, ...]] = {}
        for start in range(0, len(wanted), 1000):
            query = select(model.code, *columns).where(model.code.in_(wanted[start : start + 1000]))
            if hasattr(model, "deleted_at"):
                query = query.where(model.deleted_at.is_(None))
            for row in self.connection.execute(query):
                found[str(row[0])] = tuple(row[1:])
        return found

    def to_wgs84(self, values: dict[str, Any]) -> None:
        if self.crs != Crs.WGS84 and values.get("lon") is not None:
            values["lon"], values["lat"] = point_to_wgs84(values["lon"], values["lat"], self.crs)


Resolver = Callable[[Lookups, list[dict[str, Any]]], list[Resolved]]


@dataclass(frozen=True)
class BulkKind:
    """One importable kind of bulk data."""

    name: str
    model: Any
    columns: tuple[Column, ...]
    written: tuple[str, ...]  # target columns a row sets (``code`` first)
    resolve: Resolver
    export_query: Callable[[Principal], Executable]
    existing_path: Callable[[Table], SqlExpression[str]]  # the scope path of a stored row
    refuse_personal: bool = False  # counts only: columns that look personal are refused
    hazard_transitions: bool = False  # record each hazard's status change (created, edited)
    venue_changes: bool = False  # tell other contexts the venues changed (risk re-scores)
    #: the change-stream kind recorded for each created or changed row (the change feed),
    #: with the columns its payload carries
    feed_kind: str | None = None
    feed_payload: tuple[str, ...] = ()

    @property
    def table(self) -> Table:
        return table_of(self.model)

    @property
    def soft_delete(self) -> bool:
        return "deleted_at" in self.table.c

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def last_code(path: str) -> str:
    """The jurisdiction code a materialised path ends with (``/a/b/c/`` → ``c``)."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def _in_scope(principal: Principal, path_column: Any) -> ColumnElement[bool]:
    return principal.scope_filter(path_column)


# ---------------------------------------------------------------- addresses


def _unknown_jurisdiction(code: str) -> Found:
    return unknown_code("jurisdiction_code", "jurisdiction", code, "unknown jurisdiction code")


def _address_text(v: dict[str, Any]) -> str:
    """The full text of a register entry the file gives none for."""
    parts = [str(v["town"]), str(v["village"]), str(v["road"])]
    for key, suffix in (("number", "号"), ("building", "栋"), ("unit", "单元"), ("room", "房")):
        if v[key]:
            parts.append(f"{v[key]}{suffix}")
    return "".join(parts)


def _resolve_addresses(lookups: Lookups, rows: list[dict[str, Any]]) -> list[Resolved]:
    out: list[Resolved] = []
    for values in rows:
        jurisdiction_code = values.pop("jurisdiction_code")
        node = lookups.jurisdiction(jurisdiction_code)
        if node is None:
            out.append((None, [_unknown_jurisdiction(jurisdiction_code)]))
            continue
        values["jurisdiction_path"] = node[1]
        if not values["full_text"]:
            values["full_text"] = _address_text(values)
        lookups.to_wgs84(values)
        out.append((values, []))
    return out


def _export_addresses(principal: Principal) -> Executable:
    t = StandardAddress
    return (
        select(
            t.code,
            t.town,
            t.village,
            t.road,
            t.number,
            t.building,
            t.unit,
            t.room,
            t.full_text,
            t.lon,
            t.lat,
            t.jurisdiction_path.label("jurisdiction_code"),
        )
        .where(_in_scope(principal, t.jurisdiction_path))
        .order_by(t.id)
    )


ADDRESSES = BulkKind(
    name="addresses",
    model=StandardAddress,
    columns=(
        Column("code", code_text, required=True),
        Column("town", text(60), required=True),
        Column("village", text(60)),
        Column("road", text(80), required=True),
        Column("number", text(20)),
        Column("building", text(40)),
        Column("unit", text(20)),
        Column("room", text(20)),
        Column("full_text", text(300)),
        Column("lon", longitude(), required=True),
        Column("lat", latitude(), required=True),
        Column("jurisdiction_code", code_text, required=True),
    ),
    written=(
        "code",
        "town",
        "village",
        "road",
        "number",
        "building",
        "unit",
        "room",
        "full_text",
        "lon",
        "lat",
        "jurisdiction_path",
    ),
    resolve=_resolve_addresses,
    export_query=_export_addresses,
    existing_path=lambda t: t.c.jurisdiction_path,
)


# ---------------------------------------------------------------- population


def _resolve_population(lookups: Lookups, rows: list[dict[str, Any]]) -> list[Resolved]:
    addresses = lookups.by_code(StandardAddress, (r["address_code"] for r in rows))
    buildings = lookups.by_code(Building, (r["building_code"] for r in rows), Building.id)
    out: list[Resolved] = []
    for values in rows:
        problems: list[Found] = []
        jurisdiction_code = values.pop("jurisdiction_code")
        node = lookups.jurisdiction(jurisdiction_code)
        if node is None:
            problems.append(_unknown_jurisdiction(jurisdiction_code))
        address_code = values["address_code"]
        if address_code and address_code not in addresses:
            problems.append(
                unknown_code(
                    "address_code", "address", address_code, "not in the standard address register"
                )
            )
        building_code = values.pop("building_code")
        building = buildings.get(building_code) if building_code else None
        if building_code and building is None:
            problems.append(
                unknown_code("building_code", "building", building_code, "unknown building code")
            )
        parts = values["registered_residents"] + values["floating_residents"]
        if parts > values["residents"]:
            problems.append(
                Found(
                    "residents",
                    Problem.RESIDENTS_EXCEED,
                    f"registered + floating residents ({parts}) exceed residents "
                    f"({values['residents']})",
                    {"parts": parts, "residents": values["residents"]},
                )
            )
        if problems or node is None:
            out.append((None, problems))
            continue
        values["jurisdiction_id"], values["jurisdiction_path"] = node
        values["building_id"] = building[0] if building else None
        out.append((values, []))
    return out


def _export_population(principal: Principal) -> Executable:
    p = PopulationCount
    return (
        select(
            p.code,
            p.jurisdiction_path.label("jurisdiction_code"),
            p.address_code,
            Building.code.label("building_code"),
            p.residents,
            p.households,
            p.registered_residents,
            p.floating_residents,
            p.as_of,
        )
        .outerjoin(Building, Building.id == p.building_id)
        .where(p.deleted_at.is_(None), _in_scope(principal, p.jurisdiction_path))
        .order_by(p.id)
    )


POPULATION = BulkKind(
    name="population",
    model=PopulationCount,
    columns=(
        Column("code", code_text, required=True),
        Column("jurisdiction_code", code_text, required=True),
        Column("address_code", code_text),
        Column("building_code", code_text),
        Column("residents", integer(), required=True),
        Column("households", integer(), default=0),
        Column("registered_residents", integer(), default=0),
        Column("floating_residents", integer(), default=0),
        Column("as_of", day),
    ),
    written=(
        "code",
        "jurisdiction_id",
        "jurisdiction_path",
        "address_code",
        "building_id",
        "residents",
        "households",
        "registered_residents",
        "floating_residents",
        "as_of",
    ),
    resolve=_resolve_population,
    export_query=_export_population,
    existing_path=lambda t: t.c.jurisdiction_path,
    refuse_personal=True,
)


# ---------------------------------------------------------------- buildings


def _venue_path(venue_id: Any) -> SqlExpression[str]:
    return select(Venue.jurisdiction_path).where(Venue.id == venue_id).scalar_subquery()


def _resolve_buildings(lookups: Lookups, rows: list[dict[str, Any]]) -> list[Resolved]:
    venues = lookups.by_code(
        Venue, (r["venue_code"] for r in rows), Venue.id, Venue.jurisdiction_path
    )
    out: list[Resolved] = []
    for values in rows:
        venue_code = values.pop("venue_code")
        venue = venues.get(venue_code)
        if venue is None:
            out.append(
                (None, [unknown_code("venue_code", "venue", venue_code, "unknown venue code")])
            )
            continue
        values["venue_id"], values["_path"] = venue
        lookups.to_wgs84(values)
        out.append((values, []))
    return out


def _export_buildings(principal: Principal) -> Executable:
    b = Building
    return (
        select(
            b.code,
            Venue.code.label("venue_code"),
            b.name,
            b.floors_above,
            b.floors_below,
            b.height_m,
            b.structure,
            b.lon,
            b.lat,
        )
        .join(Venue, Venue.id == b.venue_id)
        .where(
            b.deleted_at.is_(None),
            b.code.is_not(None),
            _in_scope(principal, Venue.jurisdiction_path),
        )
        .order_by(b.id)
    )


BUILDINGS = BulkKind(
    name="buildings",
    model=Building,
    columns=(
        Column("code", code_text, required=True),
        Column("venue_code", code_text, required=True),
        Column("name", text(120), required=True),
        Column("floors_above", integer(0, 200), default=1),
        Column("floors_below", integer(0, 20), default=0),
        Column("height_m", number(0.0, 1000.0), default=0.0),
        Column("structure", text(40)),
        Column("lon", longitude(), required=True),
        Column("lat", latitude(), required=True),
    ),
    written=(
        "code",
        "venue_id",
        "name",
        "floors_above",
        "floors_below",
        "height_m",
        "structure",
        "lon",
        "lat",
    ),
    resolve=_resolve_buildings,
    export_query=_export_buildings,
    existing_path=lambda t: _venue_path(t.c.venue_id),
)


# ---------------------------------------------------------------- inspections


def _resolve_inspections(lookups: Lookups, rows: list[dict[str, Any]]) -> list[Resolved]:
    venues = lookups.by_code(
        Venue, (r["venue_code"] for r in rows), Venue.id, Venue.jurisdiction_path
    )
    workers = lookups.by_code(
        GridWorker,
        (r["grid_worker_code"] for r in rows),
        GridWorker.id,
        GridWorker.jurisdiction_path,
    )
    out: list[Resolved] = []
    for values in rows:
        problems: list[Found] = []
        venue_code = values.pop("venue_code")
        venue = venues.get(venue_code)
        if venue is None:
            problems.append(unknown_code("venue_code", "venue", venue_code, "unknown venue code"))
        worker_code = values.pop("grid_worker_code")
        worker = workers.get(worker_code) if worker_code else None
        if worker_code and worker is None:
            problems.append(
                unknown_code(
                    "grid_worker_code", "grid_worker", worker_code, "unknown grid worker code"
                )
            )
        if venue is not None and worker is not None and worker[1] != venue[1]:
            problems.append(
                Found(
                    "grid_worker_code",
                    Problem.WORKER_NOT_IN_VENUE_GRID,
                    "the grid worker does not work in the venue's grid",
                    {"value": worker_code},
                )
            )
        if problems or venue is None:
            out.append((None, problems))
            continue
        values["venue_id"], values["jurisdiction_path"] = venue
        values["grid_worker_id"] = worker[0] if worker else None
        out.append((values, []))
    return out


def _export_inspections(principal: Principal) -> Executable:
    i = Inspection
    return (
        select(
            i.code,
            Venue.code.label("venue_code"),
            GridWorker.code.label("grid_worker_code"),
            i.inspector_name,
            i.inspected_at,
            i.result,
            i.note,
        )
        .join(Venue, Venue.id == i.venue_id)
        .outerjoin(GridWorker, GridWorker.id == i.grid_worker_id)
        .where(
            i.deleted_at.is_(None), i.code.is_not(None), _in_scope(principal, i.jurisdiction_path)
        )
        .order_by(i.id)
    )


INSPECTIONS = BulkKind(
    name="inspections",
    model=Inspection,
    columns=(
        Column("code", code_text, required=True),
        Column("venue_code", code_text, required=True),
        Column("grid_worker_code", code_text),
        Column("inspector_name", text(120)),
        Column("inspected_at", timestamp, required=True),
        Column("result", choice("passed", "hazards_found", "not_accessible"), required=True),
        Column("note", text(2000, multiline=True)),
    ),
    written=(
        "code",
        "venue_id",
        "grid_worker_id",
        "inspector_name",
        "inspected_at",
        "result",
        "note",
        "jurisdiction_path",
    ),
    resolve=_resolve_inspections,
    export_query=_export_inspections,
    existing_path=lambda t: t.c.jurisdiction_path,
    venue_changes=True,
    feed_kind=INSPECTION_RECORDED,
    feed_payload=("venue_id", "result"),
)


# ---------------------------------------------------------------- hazards


def _resolve_hazards(lookups: Lookups, rows: list[dict[str, Any]]) -> list[Resolved]:
    inspections = lookups.by_code(
        Inspection,
        (r["inspection_code"] for r in rows),
        Inspection.id,
        Inspection.venue_id,
        Inspection.jurisdiction_path,
        Inspection.inspected_at,
    )
    out: list[Resolved] = []
    for values in rows:
        problems: list[Found] = []
        inspection_code = values.pop("inspection_code")
        inspection = inspections.get(inspection_code)
        if inspection is None:
            problems.append(
                unknown_code(
                    "inspection_code", "inspection", inspection_code, "unknown inspection code"
                )
            )
        if values["status"] == "rectified" and values["rectified_at"] is None:
            problems.append(
                Found(
                    "rectified_at",
                    Problem.RECTIFIED_AT_NEEDED,
                    "a rectified hazard needs the time it was rectified",
                )
            )
        if values["status"] == "open" and values["rectified_at"] is not None:
            problems.append(
                Found(
                    "rectified_at",
                    Problem.RECTIFIED_AT_UNEXPECTED,
                    "an open hazard has no rectification time",
                )
            )
        if problems or inspection is None:
            out.append((None, problems))
            continue
        values["inspection_id"], values["venue_id"], values["jurisdiction_path"] = inspection[:3]
        if values["found_at"] is None:
            values["found_at"] = inspection[3]
        if values["deadline"] is None:
            days = deadline_days(values["category"], values["severity"])
            values["deadline"] = values["found_at"] + timedelta(days=days)
        out.append((values, []))
    return out


def _export_hazards(principal: Principal) -> Executable:
    h = Hazard
    return (
        select(
            h.code,
            Inspection.code.label("inspection_code"),
            h.category,
            h.severity,
            h.description,
            h.found_at,
            h.deadline,
            h.status,
            h.rectified_at,
            h.rectified_by,
            h.evidence_note,
        )
        .join(Inspection, Inspection.id == h.inspection_id)
        .where(
            h.deleted_at.is_(None), h.code.is_not(None), _in_scope(principal, h.jurisdiction_path)
        )
        .order_by(h.id)
    )


HAZARDS = BulkKind(
    name="hazards",
    model=Hazard,
    columns=(
        Column("code", code_text, required=True),
        Column("inspection_code", code_text, required=True),
        Column("category", choice(*HAZARD_CATEGORY_CODES), required=True),
        Column("severity", choice("major", "general"), default="general"),
        Column("description", text(500, multiline=True)),
        Column("found_at", timestamp),
        Column("deadline", timestamp),
        Column("status", choice("open", "rectified"), default="open"),
        Column("rectified_at", timestamp),
        Column("rectified_by", text(120)),
        Column("evidence_note", text(2000, multiline=True)),
    ),
    written=(
        "code",
        "venue_id",
        "inspection_id",
        "category",
        "severity",
        "description",
        "found_at",
        "deadline",
        "status",
        "rectified_at",
        "rectified_by",
        "evidence_note",
        "jurisdiction_path",
    ),
    resolve=_resolve_hazards,
    export_query=_export_hazards,
    existing_path=lambda t: t.c.jurisdiction_path,
    hazard_transitions=True,
    venue_changes=True,
    feed_kind=HAZARD_CHANGED,
    feed_payload=("venue_id", "status"),
)


BULK_KINDS: dict[str, BulkKind] = {
    k.name: k for k in (ADDRESSES, POPULATION, BUILDINGS, INSPECTIONS, HAZARDS)
}


def export_rows(
    connection: Connection, kind: BulkKind, principal: Principal, crs: Crs
) -> Iterator[dict[str, Any]]:
    """The stored rows of ``kind`` in ``principal``'s scope, shaped like the import file,
    streamed from the database (bounded memory)."""
    result = connection.execution_options(stream_results=True, yield_per=5_000).execute(
        kind.export_query(principal)
    )
    for row in result.mappings():
        record = dict(row)
        if record.get("jurisdiction_code"):
            record["jurisdiction_code"] = last_code(record["jurisdiction_code"])
        if crs != Crs.WGS84 and record.get("lon") is not None:
            record["lon"], record["lat"] = point_from_wgs84(record["lon"], record["lat"], crs)
        yield record
