"""Import (all or nothing, every error kind) and export round trips on both databases."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.core.errors import ImportFailed
from firegrid.places.crs import point_from_wgs84
from firegrid.places.importexport import export_file, import_bytes, import_file
from firegrid.places.models import Jurisdiction, Venue
from tests.places.minicity import EAST_PATH, WEST_PATH, build_minicity

HEADER = ["code", "name", "lon", "lat", "category", "floors", "occupancy", "tags"]


def venues_csv(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def venue_count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count(Venue.id))) or 0)


@pytest.fixture
def city(db: Database) -> Database:
    build_minicity(db)
    return db


def test_jurisdiction_import_builds_the_tree(city: Database) -> None:
    with city.session() as session:
        grids = session.scalars(
            select(Jurisdiction).where(Jurisdiction.level == "grid").order_by(Jurisdiction.code)
        ).all()
        assert [g.path for g in grids] == [WEST_PATH, EAST_PATH]


def test_good_csv_imports_and_locates_each_venue_in_its_grid(city: Database) -> None:
    data = venues_csv(
        [
            ["V1", "西店", 113.05, 23.1, "small_shop", 1, 5, "night_occupied;multi_tenant"],
            ["V2", "东厂", 113.15, 23.1, "factory", 3, 120, ""],
        ]
    )
    report = import_bytes(city, "venues", data, "csv")
    assert report["created"] == 2
    with city.session() as session:
        venues = {v.code: v for v in session.scalars(select(Venue))}
    assert venues["V1"].jurisdiction_path == WEST_PATH
    assert venues["V2"].jurisdiction_path == EAST_PATH
    assert venues["V1"].tags == ["night_occupied", "multi_tenant"]


def errors_of(exc: pytest.ExceptionInfo[ImportFailed]) -> list[dict[str, object]]:
    details = exc.value.details
    assert isinstance(details, dict)
    errors = details["errors"]
    assert isinstance(errors, list)
    return errors


def test_bad_file_imports_nothing_and_lists_every_bad_row(city: Database) -> None:
    data = venues_csv(
        [
            ["V1", "好店", 113.05, 23.1, "small_shop", 1, 5, ""],  # line 2: good
            ["V2", "外店", 114.5, 23.1, "small_shop", 1, 5, ""],  # line 3: outside city
            ["V3", "投影", 38_512_000, 2_548_000, "small_shop", 1, 5, ""],  # line 4: wrong CRS
            ["V1", "重复", 113.06, 23.1, "small_shop", 1, 5, ""],  # line 5: duplicate id
            ["V5", "", 113.06, 23.1, "small_shop", 1, 5, ""],  # line 6: missing name
            ["V6", "怪类", 113.06, 23.1, "spaceport", 1, 5, ""],  # line 7: unknown category
        ]
    )
    with pytest.raises(ImportFailed) as exc:
        import_bytes(city, "venues", data, "csv")
    errors = errors_of(exc)
    by_line = {e["line"]: e for e in errors}
    assert sorted(by_line) == [3, 4, 5, 6, 7]
    wrong_crs = [e for e in errors if e["line"] == 4]
    assert [e["column"] for e in wrong_crs] == ["lon", "lat"]
    assert all("wrong CRS" in str(e["reason"]) for e in wrong_crs)
    assert [e["code"] for e in wrong_crs] == ["import.wrong_crs"] * 2
    assert wrong_crs[0]["params"] == {"axis": "lon", "value": "38512000"}  # as read from CSV
    assert "outside the city boundary" in str(by_line[3]["reason"])
    assert by_line[3]["code"] == "place.outside_city"
    assert by_line[5]["column"] == "code"
    assert "already exists" in str(by_line[5]["reason"])
    assert (by_line[5]["code"], by_line[5]["params"]) == ("place.code_taken", {"code": "V1"})
    assert by_line[6] == {
        "line": 6,
        "column": "name",
        "reason": "missing field",
        "code": "validation.missing",
        "params": {"field": "name"},
    }
    assert "unknown venue category" in str(by_line[7]["reason"])
    assert by_line[7]["params"] == {"category": "spaceport"}
    assert venue_count(city) == 0


def test_unknown_jurisdiction_code_is_reported(city: Database) -> None:
    data = b"code,name,phone,grid_code\nW1,Li Lei,13800000000,99999999999999\n"
    with pytest.raises(ImportFailed) as exc:
        import_bytes(city, "grid-workers", data, "csv")
    assert errors_of(exc) == [
        {
            "line": 2,
            "column": "grid",
            "reason": "unknown grid code '99999999999999'",
            "code": "place.unknown_code",
            "params": {"what": "grid", "code": "99999999999999"},
        }
    ]


def test_duplicate_of_existing_row_is_reported(city: Database) -> None:
    import_bytes(
        city, "venues", venues_csv([["V1", "店", 113.05, 23.1, "small_shop", 1, 5, ""]]), "csv"
    )
    with pytest.raises(ImportFailed, match="nothing was imported"):
        import_bytes(
            city, "venues", venues_csv([["V1", "店", 113.05, 23.1, "small_shop", 1, 5, ""]]), "csv"
        )
    assert venue_count(city) == 1


def test_gcj02_file_is_converted_to_wgs84(city: Database) -> None:
    lon, lat = point_from_wgs84(113.05, 23.1, "gcj02")
    import_bytes(
        city,
        "venues",
        venues_csv([["V1", "店", lon, lat, "small_shop", 1, 5, ""]]),
        "csv",
        crs="gcj02",
    )
    with city.session() as session:
        venue = session.scalars(select(Venue)).one()
    assert venue.lon == pytest.approx(113.05, abs=1e-7)
    assert venue.lat == pytest.approx(23.1, abs=1e-7)


def test_malformed_files_get_clear_errors(city: Database) -> None:
    with pytest.raises(ImportFailed, match="not valid JSON"):
        import_bytes(city, "venues", b"{not json", "geojson")
    with pytest.raises(ImportFailed, match="FeatureCollection"):
        import_bytes(city, "venues", b'{"type": "Point"}', "geojson")
    with pytest.raises(ImportFailed, match="cannot be read"):
        import_bytes(city, "venues", b"PK\x03\x04garbage", "xlsx")
    with pytest.raises(ImportFailed, match="use --encoding gb18030"):
        import_bytes(
            city, "venues", "code,name\nV1,店\n".encode("gb18030"), "csv", encoding="utf-8"
        )
    with pytest.raises(ImportFailed, match="neither UTF-8 nor GB18030"):
        import_bytes(city, "venues", b"code,name\nV1,\x81\x20\n", "csv")


def test_xlsx_import(city: Database, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(["V1", "店", 113.05, 23.1, "small_shop", 2, 10, "a;b"])
    path = tmp_path / "venues.xlsx"
    workbook.save(path)
    assert import_file(city, "venues", path)["created"] == 1


@pytest.mark.parametrize("suffix", [".geojson", ".csv", ".xlsx"])
def test_export_imports_back_identically(city: Database, tmp_path: Path, suffix: str) -> None:
    import_bytes(
        city,
        "venues",
        venues_csv(
            [
                ["V1", "西店", 113.05, 23.1, "small_shop", 1, 5, "x;y"],
                ["V2", "东厂", 113.15, 23.11, "factory", 3, 120, ""],
            ]
        ),
        "csv",
    )
    path = tmp_path / f"venues{suffix}"
    assert export_file(city, "venues", path) == 2
    if suffix == ".geojson":
        document = json.loads(path.read_text())
        assert document["features"][0]["geometry"]["type"] == "Point"
    with city.session() as session:
        before = [
            (v.code, v.lon, v.lat, v.tags, v.jurisdiction_path)
            for v in session.scalars(select(Venue).order_by(Venue.code))
        ]
        for venue in session.scalars(select(Venue)):
            session.delete(venue)
    import_file(city, "venues", path)
    with city.session() as session:
        after = [
            (v.code, v.lon, v.lat, v.tags, v.jurisdiction_path)
            for v in session.scalars(select(Venue).order_by(Venue.code))
        ]
    assert after == before


def test_jurisdiction_export_round_trip(city: Database, tmp_path: Path) -> None:
    path = tmp_path / "jurisdictions.geojson"
    assert export_file(city, "jurisdictions", path) == 7
    features = json.loads(path.read_text())["features"]
    assert {f["geometry"]["type"] for f in features} == {"Polygon"}
    assert features[0]["properties"]["level"] == "city"
