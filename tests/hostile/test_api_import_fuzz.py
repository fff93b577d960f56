"""Fuzzing the importers (#24): whatever the file, an import ends in a clean import or in
row errors (``ImportFailed``) — never another exception, which the API would turn into a
500 and the CLI into a traceback.

Hypothesis builds GeoJSON documents and CSV files from a mix of plausible and hostile
parts (one-coordinate points, text or NaN coordinates, odd geometry types, control
characters, formula text, broken quoting, random bytes) for three kinds, and each is
imported into the real database inside a transaction that is rolled back. The number of
examples is bounded so the test stays fast.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from firegrid.accounts.principal import system_principal
from firegrid.core.db import Database
from firegrid.core.errors import ImportFailed
from firegrid.places.importexport import import_rows, read_rows, resource_for
from tests.accounts.city import City, build_city

KINDS = ("hydrants", "venues", "jurisdictions")
EXAMPLES = 60
HOSTILE_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(
            ["\x00", "\x1b", "\ud800", "\r", "\n", "\t", "'", "=", "-", ",", '"', "；"]
        ),
        st.characters(codec="utf-8"),
    ),
    max_size=12,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE_TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=8,
)
COORDINATE = st.one_of(
    st.floats(min_value=22.9, max_value=113.3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    HOSTILE_TEXT,
    st.none(),
    st.booleans(),
)
VALID_POSITION = st.tuples(st.floats(112.95, 113.25), st.floats(22.95, 23.25)).map(list)
ODD_POSITION = st.lists(COORDINATE, max_size=4)
POSITION = st.one_of(VALID_POSITION, ODD_POSITION, ODD_POSITION, JSON)
RING = st.one_of(
    st.lists(POSITION, max_size=6),
    st.tuples(st.floats(113.0, 113.1), st.floats(23.0, 23.1)).map(
        lambda c: [[c[0], c[1]], [c[0] + 0.01, c[1]], [c[0] + 0.01, c[1] + 0.01], [c[0], c[1]]]
    ),
)
POINT = st.fixed_dictionaries({"type": st.just("Point"), "coordinates": POSITION})
OTHER_GEOMETRY = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Polygon", "MultiPolygon", "LineString", "point", 5, None]),
        "coordinates": st.one_of(
            POSITION,
            st.lists(RING, max_size=2),
            st.lists(st.lists(RING, max_size=2), max_size=2),
            JSON,
        ),
    }
)
# Repeated branches weigh the draw towards near-valid shapes, where the bugs hide.
GEOMETRY = st.one_of(POINT, POINT, POINT, OTHER_GEOMETRY, OTHER_GEOMETRY, st.none(), JSON)


def _properties(kind: str) -> st.SearchStrategy[Any]:
    schema = resource_for(kind).create_schema
    assert schema is not None
    names = [*schema.model_fields, "x", "", "_geometry_type", "id", "jurisdiction_code"]
    plausible = st.one_of(
        st.text(min_size=1, max_size=20), st.integers(0, 100), st.floats(0, 100), JSON
    )
    keyed = st.dictionaries(st.sampled_from(names) | HOSTILE_TEXT, plausible, max_size=8)
    return st.one_of(keyed, keyed, keyed, JSON)


def _geojson(kind: str) -> st.SearchStrategy[bytes]:
    structured = st.fixed_dictionaries(
        {"type": st.just("Feature"), "geometry": GEOMETRY, "properties": _properties(kind)}
    )
    feature = st.one_of(structured, structured, structured, JSON)
    collection = st.fixed_dictionaries(
        {
            "type": st.just("FeatureCollection"),
            "features": st.lists(feature, min_size=1, max_size=4),
        }
    )
    odd = st.one_of(
        st.fixed_dictionaries({"type": st.just("FeatureCollection"), "features": JSON}), JSON
    )
    encoded = st.one_of(collection, collection, collection, odd).map(
        lambda d: json.dumps(d).encode()
    )
    return st.one_of(encoded, encoded, encoded, st.binary(max_size=64))


def _csv_file(kind: str) -> st.SearchStrategy[bytes]:
    schema = resource_for(kind).create_schema
    assert schema is not None
    header = st.lists(st.sampled_from([*schema.model_fields, "x", ""]) | HOSTILE_TEXT, max_size=8)
    cell = st.one_of(HOSTILE_TEXT, st.floats(allow_nan=True).map(str), st.integers().map(str))

    def write(parts: tuple[list[str], list[list[str]]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(parts[0])
        writer.writerows(parts[1])
        return buffer.getvalue().encode("utf-8", "surrogatepass")

    table = st.tuples(header, st.lists(st.lists(cell, max_size=9), max_size=4)).map(write)
    return st.one_of(
        table,
        st.binary(max_size=64),
        HOSTILE_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    )


def _import(db: Database, kind: str, data: bytes, fmt: str) -> None:
    with Session(db.engine) as session:
        try:
            import_rows(session, kind, read_rows(data, fmt), principal=system_principal("fuzz"))
        except ImportFailed as exc:
            for error in (exc.details or {}).get("errors", []):
                # a row error names where and why, with a text code (and its parameters)
                # where the reason is one the console translates
                assert set(error) == {"line", "column", "reason", "code", "params"}, error
                assert isinstance(error["reason"], str)
                assert error["reason"]
        finally:
            session.rollback()


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def fuzz_city(db: Database) -> City:
    return build_city(db)


@pytest.mark.parametrize("kind", KINDS)
def test_geojson_import_never_raises_anything_but_row_errors(
    db: Database, fuzz_city: City, kind: str
):
    @FUZZ
    @given(data=_geojson(kind))
    def run(data: bytes) -> None:
        _import(db, kind, data, "geojson")

    run()


@pytest.mark.parametrize("kind", KINDS)
def test_csv_import_never_raises_anything_but_row_errors(db: Database, fuzz_city: City, kind: str):
    @FUZZ
    @given(data=_csv_file(kind))
    def run(data: bytes) -> None:
        _import(db, kind, data, "csv")

    run()
