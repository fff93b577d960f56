"""A hand-made two-town city for tests: squares, so every answer can be checked by hand."""

from __future__ import annotations

from typing import Any

from firegrid.core.db import Database
from firegrid.places.importexport import Row, import_rows


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
    }


JURISDICTIONS: list[dict[str, Any]] = [
    {
        "code": "900000",
        "level": "city",
        "name_zh": "测试市",
        "name_en": "Testcity",
        "boundary": square(113.0, 23.0, 113.2, 23.2),
        "lon": 113.1,
        "lat": 23.1,
    },
    {
        "code": "900000001",
        "level": "town",
        "parent_code": "900000",
        "name_zh": "西镇",
        "name_en": "West",
        "boundary": square(113.0, 23.0, 113.1, 23.2),
        "lon": 113.05,
        "lat": 23.1,
    },
    {
        "code": "900000002",
        "level": "town",
        "parent_code": "900000",
        "name_zh": "东镇",
        "name_en": "East",
        "boundary": square(113.1, 23.0, 113.2, 23.2),
        "lon": 113.15,
        "lat": 23.1,
    },
    {
        "code": "900000001001",
        "level": "village",
        "parent_code": "900000001",
        "name_zh": "西村",
        "name_en": "West village",
        "boundary": square(113.0, 23.0, 113.1, 23.2),
        "lon": 113.05,
        "lat": 23.1,
    },
    {
        "code": "900000002001",
        "level": "village",
        "parent_code": "900000002",
        "name_zh": "东村",
        "name_en": "East village",
        "boundary": square(113.1, 23.0, 113.2, 23.2),
        "lon": 113.15,
        "lat": 23.1,
    },
    {
        "code": "90000000100101",
        "level": "grid",
        "parent_code": "900000001001",
        "name_zh": "西网格",
        "name_en": "West grid",
        "boundary": square(113.0, 23.0, 113.1, 23.2),
        "lon": 113.05,
        "lat": 23.1,
    },
    {
        "code": "90000000200101",
        "level": "grid",
        "parent_code": "900000002001",
        "name_zh": "东网格",
        "name_en": "East grid",
        "boundary": square(113.1, 23.0, 113.2, 23.2),
        "lon": 113.15,
        "lat": 23.1,
    },
]

WEST_PATH = "/900000/900000001/900000001001/90000000100101/"
EAST_PATH = "/900000/900000002/900000002001/90000000200101/"


def build_minicity(database: Database) -> None:
    rows = [Row(i + 1, dict(values)) for i, values in enumerate(JURISDICTIONS)]
    with database.session() as session:
        import_rows(session, "jurisdictions", rows)
