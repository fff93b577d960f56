"""The bulk kinds (addresses, population, buildings, inspections, hazards): export → edit →
import → export round trips, upsert by code, replace, all or nothing with row errors, GBK
files, personal columns refused, and a reader that streams (one chunk at a time)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from firegrid.accounts.models import AuditEntry
from firegrid.cli import app
from firegrid.core.changes import DomainChange
from firegrid.core.db import Database
from firegrid.core.errors import ImportFailed
from firegrid.inspections.public import Hazard, HazardTransition, Inspection
from firegrid.places import bulk_read
from firegrid.places.importexport import export_file, import_bytes, import_file
from firegrid.places.models import Building, PopulationCount, StandardAddress
from tests.places.minicity import WEST_PATH, build_minicity
from tests.places.test_import_export import venues_csv

WEST_GRID, EAST_GRID = "90000000100101", "90000000200101"
ADDRESS_HEADER = [
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
    "jurisdiction_code",
]


def to_csv(header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def address_rows(n: int, *, start: int = 1) -> list[list[Any]]:
    rows = []
    for i in range(start, start + n):
        west = i % 2 == 0
        rows.append(
            [
                f"A{i:05d}",
                "西镇" if west else "东镇",
                "西村" if west else "东村",
                "振兴路",
                str(i),
                "",
                "",
                "",
                "",
                113.05 if west else 113.15,
                23.1 + i / 10_000,
                WEST_GRID if west else EAST_GRID,
            ]
        )
    return rows


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")


def count(db: Database, model: Any, *where: Any) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count(model.id)).where(*where)) or 0)


def errors_of(exc: pytest.ExceptionInfo[ImportFailed]) -> list[dict[str, Any]]:
    details = exc.value.details
    assert isinstance(details, dict)
    return list(details["errors"])


@pytest.fixture
def city(db: Database) -> Database:
    build_minicity(db)
    import_bytes(
        db,
        "venues",
        venues_csv(
            [
                ["V1", "西店", 113.05, 23.1, "small_shop", 1, 5, ""],
                ["V2", "东厂", 113.15, 23.11, "factory", 3, 120, ""],
            ]
        ),
        "csv",
    )
    return db


def test_addresses_round_trip_and_upsert_updates_by_code(city: Database, tmp_path: Path) -> None:
    report = import_bytes(city, "addresses", to_csv(ADDRESS_HEADER, address_rows(6)), "csv")
    assert (report["created"], report["rows"]) == (6, 6)
    first = tmp_path / "first.csv"
    assert export_file(city, "addresses", first) == 6
    exported = read_csv(first)
    assert exported[1]["full_text"] == "西镇西村振兴路2号"  # composed when the file has none
    assert exported[1]["jurisdiction_code"] == WEST_GRID
    with pytest.raises(ImportFailed) as refused:  # insert refuses every stored code
        import_file(city, "addresses", first)
    assert {e["reason"].split(" is ")[1] for e in errors_of(refused)} == {
        "already stored: import with --mode upsert"
    }
    assert {(e["code"], e["params"]["problem"]) for e in errors_of(refused)} == {
        ("import.row_problem", "code_stored")
    }
    exported[2]["room"] = "301"
    exported[2]["full_text"] = "东镇东村振兴路3号301房"
    write_csv(first, exported)
    again = import_file(city, "addresses", first, mode="upsert")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 5)
    second = tmp_path / "second.csv"
    export_file(city, "addresses", second)
    assert read_csv(second) == exported  # export → edit → import → export round-trips
    with city.session() as session:
        room = session.scalar(select(StandardAddress.room).where(StandardAddress.code == "A00003"))
        audit = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "import", AuditEntry.resource_type == "addresses"
            )
        ).all()
    assert room == "301"
    assert [entry.details["updated"] for entry in audit] == [0, 1]  # type: ignore[index]


def test_replace_removes_the_addresses_the_file_no_longer_lists(city: Database) -> None:
    import_bytes(city, "addresses", to_csv(ADDRESS_HEADER, address_rows(5)), "csv")
    report = import_bytes(
        city, "addresses", to_csv(ADDRESS_HEADER, address_rows(3)), "csv", mode="replace"
    )
    assert (report["unchanged"], report["deleted"]) == (3, 2)
    assert count(city, StandardAddress) == 3


def test_a_bad_row_in_a_late_chunk_leaves_nothing_written(
    city: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_read, "CHUNK_ROWS", 10)
    rows = address_rows(35)
    rows[32][9] = 500000.0  # a projected x: wrong CRS
    rows[33][11] = "999"  # an unknown grid
    rows[34][0] = "A00001"  # the code of line 2 again
    with pytest.raises(ImportFailed) as failed:
        import_bytes(city, "addresses", to_csv(ADDRESS_HEADER, rows), "csv")
    errors = errors_of(failed)
    assert [(e["line"], e["column"]) for e in errors[:2]] == [
        (34, "lon"),
        (35, "jurisdiction_code"),
    ]
    assert "wrong CRS" in errors[0]["reason"]
    assert (errors[0]["code"], errors[0]["params"]["problem"]) == (
        "import.row_problem",
        "not_degrees",
    )
    assert errors[1]["params"] == {
        "field": "jurisdiction_code",
        "problem": "unknown_code",
        "kind": "jurisdiction",
        "value": "999",
    }
    assert count(city, StandardAddress) == 0
    # the code twice is found once every row is staged
    rows[32][9], rows[33][11] = 113.05, WEST_GRID
    with pytest.raises(ImportFailed) as twice:
        import_bytes(city, "addresses", to_csv(ADDRESS_HEADER, rows), "csv")
    assert errors_of(twice) == [
        {
            "line": 36,
            "column": "code",
            "reason": "code 'A00001' appears more than once in the file (line 2)",
            "code": "import.row_problem",
            "params": {
                "field": "code",
                "problem": "duplicate_code",
                "value": "A00001",
                "first_line": 2,
            },
        }
    ]
    assert count(city, StandardAddress) == 0


def test_the_reader_streams_one_chunk_at_a_time(city: Database) -> None:
    data = to_csv(ADDRESS_HEADER, address_rows(1995))  # ~150 kB
    stream = io.BytesIO(data)
    source = bulk_read.read_csv_chunks(stream, chunk_rows=10)
    chunks = iter(source)
    first = next(chunks)
    assert len(first) == 10
    assert stream.tell() < len(data)  # the rest of the file is not read yet
    assert source.rows_read == 10
    report = import_file_bytes(city, data, chunk_rows=10)  # one chunk in memory at a time
    assert report["chunks"] == 200
    assert report["created"] == 1995


def test_the_api_export_streams_the_register_in_pieces(city: Database) -> None:
    from firegrid.places.bulk_import import iter_csv

    import_bytes(city, "addresses", to_csv(ADDRESS_HEADER, address_rows(7)), "csv")
    pieces = list(iter_csv(city, "addresses", rows_per_piece=3))
    assert len(pieces) == 1 + 3  # the header, then 3 + 3 + 1 rows
    text = b"".join(pieces).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text))) == ADDRESS_HEADER
    assert len(text.splitlines()) == 8


def import_file_bytes(db: Database, data: bytes, chunk_rows: int) -> dict[str, Any]:
    from firegrid.places.bulk_import import import_chunked

    source = bulk_read.read_csv_chunks(io.BytesIO(data), chunk_rows=chunk_rows)
    with db.session() as session:
        return import_chunked(session, "addresses", source)


def test_a_gbk_file_is_detected(city: Database) -> None:
    data = to_csv(ADDRESS_HEADER, address_rows(3), encoding="gbk")
    report = import_bytes(city, "addresses", data, "csv")
    assert report["encoding"] == "gb18030"
    assert count(city, StandardAddress) == 3
    with pytest.raises(ImportFailed, match="--encoding gb18030"):
        import_bytes(city, "addresses", data, "csv", mode="upsert", encoding="utf-8")


POPULATION_HEADER = [
    "code",
    "jurisdiction_code",
    "address_code",
    "building_code",
    "residents",
    "households",
    "registered_residents",
    "floating_residents",
    "as_of",
]


def test_population_counts_round_trip(city: Database, tmp_path: Path) -> None:
    import_bytes(city, "addresses", to_csv(ADDRESS_HEADER, address_rows(2)), "csv")
    rows = [
        ["P1", WEST_GRID, "A00002", "", 12, 4, 5, 7, "2026-11-01"],
        ["P2", EAST_GRID, "", "", 3000, 1100, 1000, 2000, ""],
    ]
    report = import_bytes(city, "population", to_csv(POPULATION_HEADER, rows), "csv")
    assert report["created"] == 2
    path = tmp_path / "population.csv"
    export_file(city, "population", path)
    exported = read_csv(path)
    assert exported[0] == dict(
        zip(
            POPULATION_HEADER,
            ["P1", WEST_GRID, "A00002", "", "12", "4", "5", "7", "2026-11-01"],
            strict=True,
        )
    )
    exported[1]["residents"] = "3100"
    write_csv(path, exported)
    again = import_file(city, "population", path, mode="upsert")
    assert (again["updated"], again["unchanged"]) == (1, 1)
    with city.session() as session:
        total = session.scalar(select(func.sum(PopulationCount.residents)))
        path_of = session.scalar(
            select(PopulationCount.jurisdiction_path).where(PopulationCount.code == "P1")
        )
    assert total == 3112
    assert path_of == WEST_PATH


@pytest.mark.parametrize("column", ["name", "姓名", "id_number", "身份证号", "phone", "联系电话"])
def test_population_refuses_personal_columns(city: Database, column: str) -> None:
    data = to_csv([*POPULATION_HEADER, column], [["P1", WEST_GRID, "", "", 1, 1, 0, 0, "", "x"]])
    with pytest.raises(ImportFailed) as refused:
        import_bytes(city, "population", data, "csv")
    [error] = errors_of(refused)
    assert error["column"] == column
    assert "personal data is refused" in error["reason"]
    assert error["code"] == "import.row_problem"
    assert error["params"] == {"field": column, "problem": "personal_data", "kind": "population"}
    assert count(city, PopulationCount) == 0


def test_population_refuses_negative_counts(city: Database) -> None:
    rows = [["P1", WEST_GRID, "", "", -3, 1, 0, 0, ""], ["P2", WEST_GRID, "", "", 5, -1, 0, 0, ""]]
    with pytest.raises(ImportFailed) as refused:
        import_bytes(city, "population", to_csv(POPULATION_HEADER, rows), "csv")
    assert [(e["line"], e["column"], e["reason"]) for e in errors_of(refused)] == [
        (2, "residents", "-3 is below the minimum 0"),
        (3, "households", "-1 is below the minimum 0"),
    ]
    assert [e["params"] for e in errors_of(refused)] == [
        {"field": "residents", "problem": "greater_than_equal", "ge": 0, "value": -3},
        {"field": "households", "problem": "greater_than_equal", "ge": 0, "value": -1},
    ]
    assert count(city, PopulationCount) == 0


BUILDING_HEADER = [
    "code",
    "venue_code",
    "name",
    "floors_above",
    "floors_below",
    "height_m",
    "structure",
    "lon",
    "lat",
]


def test_buildings_round_trip_and_unknown_venue(city: Database, tmp_path: Path) -> None:
    rows = [
        ["B1", "V1", "1号楼", 6, 1, 19.5, "框架", 113.05, 23.1],
        ["B2", "V2", "2号厂房", 3, 0, 12.0, "钢结构", 113.15, 23.11],
    ]
    assert import_bytes(city, "buildings", to_csv(BUILDING_HEADER, rows), "csv")["created"] == 2
    path = tmp_path / "buildings.csv"
    export_file(city, "buildings", path)
    exported = read_csv(path)
    assert [r["venue_code"] for r in exported] == ["V1", "V2"]
    exported[0]["floors_above"] = "7"
    write_csv(path, exported)
    assert import_file(city, "buildings", path, mode="upsert")["updated"] == 1
    again = tmp_path / "again.csv"
    export_file(city, "buildings", again)
    assert read_csv(again) == exported
    with pytest.raises(ImportFailed) as unknown:
        import_bytes(
            city,
            "buildings",
            to_csv(BUILDING_HEADER, [["B3", "V9", "x", 1, 0, 3, "", 113.05, 23.1]]),
            "csv",
        )
    assert errors_of(unknown) == [
        {
            "line": 2,
            "column": "venue_code",
            "reason": "unknown venue code",
            "code": "import.row_problem",
            "params": {
                "field": "venue_code",
                "problem": "unknown_code",
                "kind": "venue",
                "value": "V9",
            },
        }
    ]
    assert count(city, Building, Building.code.is_not(None)) == 2


INSPECTION_HEADER = [
    "code",
    "venue_code",
    "grid_worker_code",
    "inspector_name",
    "inspected_at",
    "result",
    "note",
]
HAZARD_HEADER = [
    "code",
    "inspection_code",
    "category",
    "severity",
    "description",
    "found_at",
    "deadline",
    "status",
    "rectified_at",
    "rectified_by",
    "evidence_note",
]


def test_inspections_and_hazards_round_trip(city: Database, tmp_path: Path) -> None:
    inspections = [
        ["I1", "V1", "", "张三", "2026-11-03T09:30:00+08:00", "hazards_found", "后门堵塞"],
        ["I2", "V2", "", "李四", "2026-11-04T10:00:00+08:00", "passed", ""],
    ]
    report = import_bytes(city, "inspections", to_csv(INSPECTION_HEADER, inspections), "csv")
    assert report["created"] == 2
    hazards = [
        ["H1", "I1", "blocked_exit", "major", "后门堵塞", "", "", "open", "", "", ""],
    ]
    assert import_bytes(city, "hazards", to_csv(HAZARD_HEADER, hazards), "csv")["created"] == 1
    path = tmp_path / "hazards.csv"
    export_file(city, "hazards", path)
    exported = read_csv(path)
    # found at the inspection; deadline: the category's 3 days for a major hazard
    assert exported[0]["found_at"] == "2026-11-03T01:30:00+00:00"
    assert exported[0]["deadline"] == "2026-11-06T01:30:00+00:00"
    exported[0].update(
        status="rectified", rectified_at="2026-11-05T08:00:00+00:00", rectified_by="店主"
    )
    write_csv(path, exported)
    assert import_file(city, "hazards", path, mode="upsert")["updated"] == 1
    again = tmp_path / "again.csv"
    export_file(city, "hazards", again)
    assert read_csv(again) == exported
    with city.session() as session:
        hazard = session.scalars(select(Hazard).where(Hazard.code == "H1")).one()
        steps = session.execute(
            select(HazardTransition.from_status, HazardTransition.to_status)
            .where(HazardTransition.hazard_id == hazard.id)
            .order_by(HazardTransition.id)
        ).all()
        inspection_path = session.scalar(
            select(Inspection.jurisdiction_path).where(Inspection.code == "I1")
        )
    assert [tuple(s) for s in steps] == [("", "open"), ("open", "rectified")]
    with city.session() as session:  # the change feed's followers see the imports
        feed = session.execute(
            select(DomainChange.kind, DomainChange.key, DomainChange.payload).order_by(
                DomainChange.id
            )
        ).all()
    hazard_feed = [(k, p["status"], p["imported"]) for k, key, p in feed if k == "hazard.changed"]
    assert hazard_feed == [
        ("hazard.changed", "open", "created"),
        ("hazard.changed", "rectified", "updated"),
    ]
    assert sum(1 for k, _, _ in feed if k == "inspection.recorded") == 2
    assert hazard.jurisdiction_path == inspection_path == WEST_PATH
    bad = [["H2", "I1", "arson", "general", "", "", "", "rectified", "", "", ""]]
    with pytest.raises(ImportFailed) as refused:
        import_bytes(city, "hazards", to_csv(HAZARD_HEADER, bad), "csv")
    assert [e["column"] for e in errors_of(refused)] == ["category"]


def test_inspection_times_need_an_offset(city: Database) -> None:
    rows = [["I1", "V1", "", "", "2026-11-03T09:30:00", "passed", ""]]
    with pytest.raises(ImportFailed) as refused:
        import_bytes(city, "inspections", to_csv(INSPECTION_HEADER, rows), "csv")
    [error] = errors_of(refused)
    assert error["column"] == "inspected_at"
    assert "UTC offset" in error["reason"]
    assert error["code"] == "import.row_problem"
    assert error["params"] == {
        "field": "inspected_at",
        "problem": "timezone_naive",
        "value": "2026-11-03T09:30:00",
    }


def test_cli_imports_addresses_with_mode_and_encoding(city: Database, tmp_path: Path) -> None:
    path = tmp_path / "addresses.csv"
    path.write_bytes(to_csv(ADDRESS_HEADER, address_rows(4), encoding="gbk"))
    runner = CliRunner()
    args = ["import", "addresses", str(path), "--db", city.url, "--json"]
    result = runner.invoke(app, [*args, "--encoding", "gb18030"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["created"], report["encoding"]) == (4, "gb18030")
    again = runner.invoke(app, [*args, "--mode", "upsert"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["unchanged"] == 4
    bad = runner.invoke(app, [*args, "--mode", "merge"])
    assert bad.exit_code != 0
    assert "Traceback" not in bad.output
    assert "insert, upsert or replace" in bad.output


def test_api_import_and_export_are_scoped_to_the_callers_town(
    city: Database, settings: Any
) -> None:
    from fastapi.testclient import TestClient

    from firegrid.api.app import create_app
    from tests.helpers import bearer

    west_admin = bearer(city, settings, "admin", "900000001")
    rows = [["P1", WEST_GRID, "", "", 10, 3, 4, 6, ""], ["P2", EAST_GRID, "", "", 8, 2, 0, 0, ""]]
    with TestClient(create_app(settings, city)) as client:
        refused = client.post(
            "/api/v1/imports/population",
            files={"file": ("p.csv", to_csv(POPULATION_HEADER, rows))},
            headers=west_admin,
        )
        assert refused.status_code == 422, refused.text
        errors = refused.json()["error"]["details"]["errors"]
        assert errors == [
            {
                "line": 3,
                "column": None,
                "reason": "the row lies outside your jurisdiction",
                "code": "import.outside_jurisdiction",
                "params": {},
            }
        ]
        assert count(city, PopulationCount) == 0
        accepted = client.post(
            "/api/v1/imports/population?mode=upsert",
            files={"file": ("p.csv", to_csv(POPULATION_HEADER, rows[:1]))},
            headers=west_admin,
        )
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["created"] == 1
        import_bytes(city, "population", to_csv(POPULATION_HEADER, rows[1:]), "csv")
        exported = client.get("/api/v1/exports/population?format=csv", headers=west_admin)
    assert exported.status_code == 200
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == POPULATION_HEADER
    assert [line.split(",")[0] for line in lines[1:]] == ["P1"]  # not the east town's P2


@pytest.mark.parametrize("suffix", [".xlsx", ".geojson"])
def test_small_xlsx_and_geojson_files_round_trip(
    city: Database, tmp_path: Path, suffix: str
) -> None:
    rows = [
        ["B1", "V1", "1号楼", 6, 1, 19.5, "框架", 113.05, 23.1],
        ["B2", "V2", "2号厂房", 3, 0, 12.0, "钢结构", 113.15, 23.11],
    ]
    import_bytes(city, "buildings", to_csv(BUILDING_HEADER, rows), "csv")
    path = tmp_path / f"buildings{suffix}"
    assert export_file(city, "buildings", path) == 2
    report = import_file(city, "buildings", path, mode="upsert")
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 2)


def test_inspections_round_trip_with_a_grid_worker(city: Database, tmp_path: Path) -> None:
    from firegrid.places.models import GridWorker, Jurisdiction

    with city.session() as session:
        grid = session.scalars(select(Jurisdiction).where(Jurisdiction.code == WEST_GRID)).one()
        session.add(
            GridWorker(
                code="W1",
                name="王五",
                phone="13800000000",
                grid_id=grid.id,
                jurisdiction_path=grid.path,
            )
        )
    rows = [
        ["I1", "V1", "W1", "王五", "2026-11-03T09:30:00+08:00", "passed", "多行\n备注"],
        ["I2", "V2", "W1", "王五", "2026-11-04T10:00:00+08:00", "passed", ""],
    ]
    with pytest.raises(ImportFailed) as elsewhere:  # W1 works in the west grid, V2 is east
        import_bytes(city, "inspections", to_csv(INSPECTION_HEADER, rows), "csv")
    assert errors_of(elsewhere) == [
        {
            "line": 4,
            "column": "grid_worker_code",
            "reason": "the grid worker does not work in the venue's grid",
            "code": "import.row_problem",
            "params": {
                "field": "grid_worker_code",
                "problem": "worker_not_in_venue_grid",
                "value": "W1",
            },
        }
    ]
    rows[1][2] = ""
    import_bytes(city, "inspections", to_csv(INSPECTION_HEADER, rows), "csv")
    path = tmp_path / "inspections.csv"
    export_file(city, "inspections", path)
    exported = read_csv(path)
    assert exported[0]["note"] == "多行\n备注"
    exported[1]["result"] = "not_accessible"
    write_csv(path, exported)
    assert import_file(city, "inspections", path, mode="upsert")["updated"] == 1
    again = tmp_path / "again.csv"
    export_file(city, "inspections", again)
    assert read_csv(again) == exported


def test_rows_made_inside_the_platform_are_exported_with_a_generated_code(
    city: Database, tmp_path: Path
) -> None:
    """A building the API added and an inspection a phone recorded carry no import code;
    the exports, keyed by code, still carry them, and the file imports back unchanged."""
    from datetime import UTC, datetime

    from firegrid.places.models import Venue

    with city.session() as session:
        venue = session.scalars(select(Venue).where(Venue.code == "V1")).one()
        session.add(Building(venue_id=venue.id, name="3号楼", lon=venue.lon, lat=venue.lat))
        session.add(
            Inspection(
                venue_id=venue.id,
                inspected_at=datetime(2026, 11, 5, 2, tzinfo=UTC),
                result="passed",
                jurisdiction_path=venue.jurisdiction_path,
            )
        )
    buildings, inspections = tmp_path / "buildings.csv", tmp_path / "inspections.csv"
    assert export_file(city, "buildings", buildings) == 1
    assert export_file(city, "inspections", inspections) == 1
    [building] = read_csv(buildings)
    [inspection] = read_csv(inspections)
    assert building["code"].startswith("fg-building-")
    assert building["name"] == "3号楼"
    assert inspection["code"].startswith("fg-inspection-")
    report = import_file(city, "buildings", buildings, mode="upsert")
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 1)


def test_every_bad_cell_and_reference_reaches_the_api_as_a_text_code(
    city: Database, settings: Any
) -> None:
    """The console translates each row (``import.row_problem``: a column and a problem code
    with its parameters); the English reason stays for the CLI."""
    from fastapi.testclient import TestClient

    from firegrid.api.app import create_app
    from firegrid.api.schemas import ImportFailedEnvelope
    from tests.helpers import bearer

    admin = bearer(city, settings, "admin", "900000")
    rows = [
        ["P1", "999", "", "", "ten", 1, 0, 0, ""],  # an unknown grid, a count that is not one
        ["P2", WEST_GRID, "A9", "B9", 5, 1, 0, 0, "03/11/2026"],  # unknown refs, a bad day
        ["P3", WEST_GRID, "", "", 5, 1, 4, 3, ""],  # more parts than the whole
    ]
    with TestClient(create_app(settings, city)) as client:
        refused = client.post(
            "/api/v1/imports/population",
            files={"file": ("p.csv", to_csv(POPULATION_HEADER, rows))},
            headers=admin,
        )
    assert refused.status_code == 422, refused.text
    errors = refused.json()["error"]["details"]["errors"]
    assert [(e["line"], e["column"], e["code"], e["params"]) for e in errors] == [
        (
            2,
            "residents",
            "import.row_problem",
            {"field": "residents", "problem": "int_parsing", "value": "ten"},
        ),
        (
            3,
            "as_of",
            "import.row_problem",
            {
                "field": "as_of",
                "problem": "format",
                "expected": "YYYY-MM-DD",
                "value": "03/11/2026",
            },
        ),
        (
            4,
            "residents",
            "import.row_problem",
            {"field": "residents", "problem": "residents_exceed", "parts": 7, "residents": 5},
        ),
    ]
    assert all(e["reason"] for e in errors)  # the English, for the CLI
    ImportFailedEnvelope.model_validate(refused.json())  # the documented shape
    rows[0][4], rows[1][8] = 10, ""  # the cells fixed: the references are resolved
    with TestClient(create_app(settings, city)) as client:
        refused = client.post(
            "/api/v1/imports/population",
            files={"file": ("p.csv", to_csv(POPULATION_HEADER, rows[:2]))},
            headers=admin,
        )
    errors = refused.json()["error"]["details"]["errors"]
    assert [(e["line"], e["code"], e["params"]) for e in errors] == [
        (
            2,
            "import.row_problem",
            {
                "field": "jurisdiction_code",
                "problem": "unknown_code",
                "kind": "jurisdiction",
                "value": "999",
            },
        ),
        (
            3,
            "import.row_problem",
            {"field": "address_code", "problem": "unknown_code", "kind": "address", "value": "A9"},
        ),
        (
            3,
            "import.row_problem",
            {
                "field": "building_code",
                "problem": "unknown_code",
                "kind": "building",
                "value": "B9",
            },
        ),
    ]


def test_a_header_problem_carries_its_code(city: Database) -> None:
    header = [h for h in POPULATION_HEADER if h != "residents"] + ["colour"]
    with pytest.raises(ImportFailed) as refused:
        import_bytes(city, "population", to_csv(header, [["P1"] * len(header)]), "csv")
    assert [(e["column"], e["code"], e["params"]["problem"]) for e in errors_of(refused)] == [
        ("colour", "import.row_problem", "unknown_column"),
        ("residents", "import.row_problem", "missing_column"),
    ]
    assert errors_of(refused)[0]["params"]["kind"] == "population"
    assert "residents" in errors_of(refused)[0]["params"]["expected"]
