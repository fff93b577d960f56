"""Import modes and encodings: an export edited and imported again with ``--mode upsert``
updates the edited rows (created 0), ``replace`` deletes (soft, audited) the rows the file no
longer lists, a code twice in one file is refused, and a CSV from Chinese Excel (GBK) is read
without a flag."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from firegrid.accounts.models import AuditEntry
from firegrid.cli import app
from firegrid.core.db import Database
from firegrid.core.errors import ImportFailed
from firegrid.places.importexport import export_file, import_bytes, import_file
from firegrid.places.models import Venue
from tests.places.minicity import build_minicity
from tests.places.test_import_export import venues_csv

ROWS = [
    ["V1", "西店", 113.05, 23.1, "small_shop", 1, 5, "x"],
    ["V2", "东厂", 113.15, 23.11, "factory", 3, 120, ""],
    ["V3", "南仓", 113.16, 23.12, "warehouse", 1, 8, ""],
]


@pytest.fixture
def city(db: Database) -> Database:
    build_minicity(db)
    import_bytes(db, "venues", venues_csv(ROWS), "csv")
    return db


def live_venues(db: Database) -> dict[str, Venue]:
    with db.session() as session:
        return {v.code: v for v in session.scalars(select(Venue).where(Venue.deleted_at.is_(None)))}


def edit_csv(path: Path, code: str, column: str, value: str, drop: str | None = None) -> None:
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        if row["code"] == code:
            row[column] = value
    rows = [r for r in rows if r["code"] != drop]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8-sig")


def test_an_edited_export_imported_with_upsert_updates_in_place(
    city: Database, tmp_path: Path
) -> None:
    path = tmp_path / "venues.csv"
    export_file(city, "venues", path)
    with pytest.raises(ImportFailed):  # the default insert refuses every existing code
        import_file(city, "venues", path)
    edit_csv(path, "V2", "name", "东厂（改）")
    report = import_file(city, "venues", path, mode="upsert")
    assert report["created"] == 0
    assert report["updated"] >= 1
    assert report["updated"] + report["unchanged"] == 3
    venues = live_venues(city)
    assert venues["V2"].name == "东厂（改）"
    ids_before = {code: v.id for code, v in venues.items()}
    again = import_file(city, "venues", path, mode="upsert")
    assert again["created"] == 0
    assert {code: v.id for code, v in live_venues(city).items()} == ids_before
    with city.session() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.resource_type == "venues",
                AuditEntry.resource_id == str(ids_before["V2"]),
            )
        ).all()
    assert "update" in actions


def test_replace_deletes_the_rows_the_file_no_longer_lists(city: Database, tmp_path: Path) -> None:
    path = tmp_path / "venues.csv"
    export_file(city, "venues", path)
    edit_csv(path, "V1", "occupancy", "7", drop="V3")
    report = import_file(city, "venues", path, mode="replace")
    assert (report["created"], report["deleted"]) == (0, 1)
    venues = live_venues(city)
    assert sorted(venues) == ["V1", "V2"]
    assert venues["V1"].occupancy == 7


def test_a_code_twice_in_one_file_is_refused_and_nothing_changes(city: Database) -> None:
    data = venues_csv([ROWS[0], [*ROWS[0][:1], "又一个", *ROWS[0][2:]]])
    with pytest.raises(ImportFailed) as refused:
        import_bytes(city, "venues", data, "csv", mode="upsert")
    assert "more than once" in str(refused.value.details)
    assert live_venues(city)["V1"].name == "西店"


def test_a_gbk_csv_from_chinese_excel_is_read_without_a_flag(db: Database) -> None:
    build_minicity(db)
    data = venues_csv([["G1", "莞城富华大厦", 113.05, 23.1, "small_shop", 2, 9, ""]])
    report = import_bytes(db, "venues", data.decode().encode("gbk"), "csv")
    assert report["encoding"] == "gb18030"
    assert live_venues(db)["G1"].name == "莞城富华大厦"
    bom = import_bytes(
        db,
        "venues",
        b"\xef\xbb\xbf" + venues_csv([["G2", "店", 113.05, 23.1, "small_shop", 1, 1, ""]]),
        "csv",
    )
    assert bom["encoding"] == "utf-8-sig"


def test_the_command_takes_mode_and_encoding(city: Database, tmp_path: Path) -> None:
    path = tmp_path / "venues.csv"
    export_file(city, "venues", path)
    runner = CliRunner()
    done = runner.invoke(
        app, ["import", "venues", str(path), "--mode", "upsert", "--db", city.url, "--json"]
    )
    assert done.exit_code == 0, done.output
    bad = runner.invoke(app, ["import", "venues", str(path), "--mode", "merge", "--db", city.url])
    assert bad.exit_code == 2
    assert "unknown import mode" in bad.output
