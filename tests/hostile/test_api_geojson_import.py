"""GeoJSON geometry at import (#24, finding 6: a Point with one coordinate crashed the
import — a CLI traceback, an API 500 — and string coordinates were read character by
character).

A bad geometry is a row error naming the feature (``line``), the field and the reason; the
import stays all or nothing; the API answers 422 and the CLI prints the errors, never a
traceback.
"""

# ruff: noqa: F811 - the fixtures imported from tests.hostile.api_world are test arguments

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from firegrid.core.db import Database
from firegrid.core.problems import Problem
from firegrid.dispatch.models import Hydrant
from tests.hostile.api_world import (  # noqa: F401 - fixtures
    _cheap_password_hashing,
    admin,
    app,
    city,
    client,
    envelope_of,
)

GOOD = {"type": "Point", "coordinates": [113.05, 23.1]}


def _collection(*geometries: Any) -> bytes:
    features = [
        {"type": "Feature", "geometry": geometry, "properties": {"code": f"GJ-{n}"}}
        for n, geometry in enumerate(geometries, start=1)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


BAD_GEOMETRIES: list[tuple[str, Any, str, str]] = [
    (
        "one coordinate",
        {"type": "Point", "coordinates": [113.05]},
        "geometry.coordinates",
        "two coordinates",
    ),
    (
        "no coordinates",
        {"type": "Point", "coordinates": []},
        "geometry.coordinates",
        "two coordinates",
    ),
    (
        "text coordinates",
        {"type": "Point", "coordinates": "113.05,23.1"},
        "geometry.coordinates",
        "must be an array",
    ),
    (
        "text numbers",
        {"type": "Point", "coordinates": ["113.05", "23.1"]},
        "geometry.coordinates",
        "not a number",
    ),
    (
        "NaN",
        {"type": "Point", "coordinates": [float("nan"), 23.1]},
        "geometry.coordinates",
        "not a finite number",
    ),
    (
        "infinity",
        {"type": "Point", "coordinates": [113.05, float("inf")]},
        "geometry.coordinates",
        "not a finite number",
    ),
    (
        "true",
        {"type": "Point", "coordinates": [True, 23.1]},
        "geometry.coordinates",
        "not a number",
    ),
    (
        "huge",
        {"type": "Point", "coordinates": [10**400, 23.1]},
        "geometry.coordinates",
        "out of range",
    ),
    (
        "line",
        {"type": "LineString", "coordinates": [[113.0, 23.0], [113.1, 23.1]]},
        "geometry.type",
        "not supported",
    ),
    (
        "polygon for a hydrant",
        {
            "type": "Polygon",
            "coordinates": [[[113.0, 23.0], [113.1, 23.0], [113.1, 23.1], [113.0, 23.0]]],
        },
        "geometry.type",
        "hydrants do not take a Polygon",
    ),
    (
        "open ring",
        {
            "type": "Polygon",
            "coordinates": [[[113.0, 23.0], [113.1, 23.0], [113.1, 23.1], [113.0, 23.1]]],
        },
        "geometry.coordinates",
        "closed",
    ),
    ("type list", {"type": ["Point"], "coordinates": [113.05, 23.1]}, "geometry.type", "not text"),
    ("geometry text", "POINT(113 23)", "geometry", "must be an object"),
]


def _hydrants(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Hydrant)) or 0)


@pytest.mark.parametrize(
    ("geometry", "field", "reason"),
    [case[1:] for case in BAD_GEOMETRIES],
    ids=[case[0] for case in BAD_GEOMETRIES],
)
def test_bad_geometry_is_a_row_error_from_the_api(
    client: TestClient, admin: dict[str, str], db: Database, geometry: Any, field: str, reason: str
):
    before = _hydrants(db)
    document = _collection(GOOD, geometry)  # feature 1 is fine, feature 2 is not
    response = client.post(
        "/api/v1/imports/hydrants", files={"file": ("h.geojson", document)}, headers=admin
    )
    error = envelope_of(response, 422, "import_failed")
    errors = error["details"]["errors"]  # type: ignore[index]
    assert len(errors) == 1, errors
    assert errors[0]["line"] == 2
    assert errors[0]["column"] == field
    assert reason in errors[0]["reason"]
    # the console's sentence: a text code, and a problem code at the column (no English)
    code, params = errors[0]["code"], errors[0]["params"]
    if code == "import.row_problem":
        assert params["field"] == field
        assert params["problem"] in {p.value for p in Problem}
    else:
        assert (code, params) == (
            "import.geometry_type",
            {"kind": "hydrants", "geometry_type": "Polygon"},
        )
    assert _hydrants(db) == before  # all or nothing: feature 1 was not imported either


def test_features_that_are_not_objects_or_not_an_array(client: TestClient, admin: dict[str, str]):
    odd = {"type": "FeatureCollection", "features": [7, {"type": "Feature", "properties": []}]}
    response = client.post(
        "/api/v1/imports/hydrants",
        files={"file": ("h.geojson", json.dumps(odd).encode())},
        headers=admin,
    )
    errors = envelope_of(response, 422, "import_failed")["details"]["errors"]  # type: ignore[index]
    assert [(e["line"], e["column"]) for e in errors] == [(1, None), (2, "properties")]
    # the envelope has the documented (typed) shape; a named problem carries its text code
    from firegrid.api.schemas import ImportFailedEnvelope

    typed = ImportFailedEnvelope.model_validate(response.json()).error.details
    assert typed is not None
    assert [e.code for e in typed.errors] == ["import.row_problem", "import.properties_not_object"]
    assert typed.errors[0].params == {"field": "", "problem": "not_feature"}
    text = json.dumps({"type": "FeatureCollection", "features": "abc"}).encode()
    response = client.post(
        "/api/v1/imports/hydrants", files={"file": ("h.geojson", text)}, headers=admin
    )
    assert "features must be an array" in envelope_of(response, 422, "import_failed")["message"]


def test_good_geojson_still_imports(client: TestClient, admin: dict[str, str], db: Database):
    before = _hydrants(db)
    response = client.post(
        "/api/v1/imports/hydrants", files={"file": ("h.geojson", _collection(GOOD))}, headers=admin
    )
    assert response.status_code == 201, response.text
    assert _hydrants(db) == before + 1


def test_cli_prints_row_errors_without_a_traceback(
    database_url: str, db: Database, tmp_path: Path, city: object
):
    from firegrid.cli import app as cli

    path = tmp_path / "hydrants.geojson"
    path.write_bytes(_collection(GOOD, {"type": "Point", "coordinates": [113.05]}))
    args = ["import", "hydrants", str(path), "--db", database_url]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert len(result.stderr.strip().splitlines()) == 1  # the CLI contract: one line
    as_json = CliRunner().invoke(cli, [*args, "--json"])  # the rows in the envelope
    assert as_json.exit_code == 2
    printed = json.loads(as_json.stdout)
    (row,) = printed["error"]["details"]["errors"]
    assert row == {
        "line": 2,
        "column": "geometry.coordinates",
        "reason": "a position needs two coordinates [lon, lat], got 1",
        "code": "import.row_problem",
        "params": {"field": "geometry.coordinates", "problem": "too_short", "min_length": 2},
    }
