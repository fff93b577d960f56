"""The area assessment takes each area's population from the imported population register
where it has rows inside, else from the jurisdiction tree, else none — and says so per level
(SQLite and PostgreSQL).

The hand-built city (tree figure in brackets, register rows after the arrow):

    C (99,999)
    ├─ T1 (5,000)
    │  ├─ V1 (3,000) ── G1 (100) → 300 + 200 (+ a deleted row of 1,000)
    │  │             └─ G2 (400)
    │  └─ V2 (—) ────── G3 (—)   → 50
    ├─ T2 (7,000)
    │  └─ V3 (7,000) → 6,500 (a row of the village itself) ── G4 (800)
    └─ T3 (1,500)
       ├─ V4 (—) ────── G5 (—)
       └─ V5 (900) ──── G6 (—)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.places.importexport import import_bytes
from firegrid.places.models import Jurisdiction, PopulationCount
from firegrid.risk.area import AreaContext, assess_areas, venue_basis
from firegrid.risk.area_inputs import read_area_context
from firegrid.risk.area_method import default_area_method
from firegrid.risk.area_population import nested_paths
from tests.accounts.city import bearer, make_user, token_for, use_cheap_hasher
from tests.places.test_bulk_import import POPULATION_HEADER, to_csv
from tests.risk.test_runs import build_city

EPSG = 4547
#: code: (parent, tree population)
TREE: dict[str, tuple[str | None, int | None]] = {
    "C": (None, 99_999),
    "T1": ("C", 5_000),
    "T2": ("C", 7_000),
    "T3": ("C", 1_500),
    "V1": ("T1", 3_000),
    "V2": ("T1", None),
    "V3": ("T2", 7_000),
    "V4": ("T3", None),
    "V5": ("T3", 900),
    "G1": ("V1", 100),
    "G2": ("V1", 400),
    "G3": ("V2", None),
    "G4": ("V3", 800),
    "G5": ("V4", None),
    "G6": ("V5", None),
}
LEVEL_OF = {"C": "city", "T": "town", "V": "village", "G": "grid"}
#: (code, jurisdiction, residents, as_of, deleted)
REGISTER = [
    ("P1", "G1", 300, date(2026, 3, 31), False),
    ("P2", "G1", 200, date(2026, 6, 30), False),
    ("P3", "G1", 1_000, date(2026, 12, 31), True),
    ("P4", "G3", 50, None, False),
    ("P5", "V3", 6_500, date(2026, 1, 1), False),
]
#: What each area must get: population and its source.
EXPECTED: dict[str, tuple[float | None, str]] = {
    "C": (7_050.0, "register"),  # 300 + 200 + 50 + 6,500; the tree's 99,999 is not used
    "T1": (550.0, "register"),  # G2's 400 (tree) is not added: T1 is under-counted
    "T2": (6_500.0, "register"),
    "T3": (1_500.0, "tree"),
    "V1": (500.0, "register"),
    "V2": (50.0, "register"),
    "V3": (6_500.0, "register"),
    "V4": (None, "none"),
    "V5": (900.0, "tree"),
    "G1": (500.0, "register"),
    "G2": (400.0, "tree"),
    "G3": (50.0, "register"),
    "G4": (800.0, "tree"),  # the village's own row counts for no grid
    "G5": (None, "none"),
    "G6": (None, "none"),
}
#: level: (from_register, from_tree, no_population, register_partial)
EXPECTED_COUNTS = {
    "city": (1, 0, 0, 1),
    "town": (2, 1, 0, 2),
    "village": (3, 1, 1, 2),
    "grid": (2, 2, 2, 0),
}


def _square(lon: float, lat: float, side_deg: float) -> dict[str, Any]:
    ring = [
        [lon, lat],
        [lon + side_deg, lat],
        [lon + side_deg, lat + side_deg],
        [lon, lat + side_deg],
        [lon, lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def _path(code: str) -> str:
    parts = [code]
    parent = TREE[code][0]
    while parent is not None:
        parts.insert(0, parent)
        parent = TREE[parent][0]
    return "/" + "/".join(parts) + "/"


def _level(code: str) -> str:
    return LEVEL_OF[code[0]]


@pytest.fixture
def city(db: Database) -> Database:
    ids: dict[str, int] = {}
    with db.session() as session:
        for i, (code, (parent, population)) in enumerate(TREE.items()):
            node = Jurisdiction(
                code=code,
                level=_level(code),
                parent_id=ids[parent] if parent else None,
                path=_path(code),
                name_zh=code,
                name_en=code,
                center_lon=113.7,
                center_lat=23.0,
                boundary=_square(113.6 + 0.01 * i, 22.9, 0.01 * (1 + i % 4)),
                population=population,
            )
            session.add(node)
            session.flush()
            ids[code] = node.id
        for code, where, residents, as_of, deleted in REGISTER:
            session.add(
                PopulationCount(
                    code=code,
                    jurisdiction_id=ids[where],
                    jurisdiction_path=_path(where),
                    residents=residents,
                    as_of=as_of,
                    deleted_at=datetime(2026, 7, 1, tzinfo=UTC) if deleted else None,
                )
            )
    return db


def _context(db: Database) -> tuple[AreaContext, list[str]]:
    warnings: list[str] = []
    with db.session() as session:
        context = read_area_context(session, EPSG, {}, warnings)
    return context, warnings


def _population(context: AreaContext) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for level, frame in context.levels.items():
        for code, population in frame.select("code", "population").iter_rows():
            out["C" if level == "city" else code] = population
    return out


def test_population_comes_from_the_register_where_it_covers_else_the_tree(
    city: Database,
) -> None:
    context, _ = _context(city)
    assert _population(context) == {code: pop for code, (pop, _) in EXPECTED.items()}
    assert context.levels["city"]["code"].to_list() == ["city"]  # the area basis's city key


def test_the_run_reports_the_sources_per_level(city: Database) -> None:
    context, warnings = _context(city)
    report = context.population_report
    assert report["register_rows"] == 4  # the deleted row is not counted
    assert report["register_residents"] == 7_050
    assert report["as_of"] == "2026-06-30"  # the latest live row's
    for level, (register, tree, none, partial) in EXPECTED_COUNTS.items():
        block = report["levels"][level]
        by_hand = [s for code, (_, s) in EXPECTED.items() if _level(code) == level]
        assert (block["from_register"], block["from_tree"], block["no_population"]) == (
            by_hand.count("register"),
            by_hand.count("tree"),
            by_hand.count("none"),
        )
        assert (block["from_register"], block["from_tree"], block["no_population"]) == (
            register,
            tree,
            none,
        )
        assert block["register_partial"] == partial
        assert block["jurisdictions"] == register + tree + none
        text = block["text"]
        assert text["code"] == "risk.population_sources"
        assert text["params"] == {
            "kind": level,
            "jurisdictions": register + tree + none,
            "register": register,
            "tree": tree,
            "none": none,
            "partial": partial,
            "as_of": "2026-06-30",
        }
    assert any("1 city, 2 town, 2 village" in w and "under-counted" in w for w in warnings)
    assert any("no population for 1 village, 2 grid" in w for w in warnings)


def test_rows_on_a_jurisdiction_and_inside_it_are_named(city: Database) -> None:
    """V3 has a row of its own (6,500); a row of its grid G4 is added: both are summed (the
    module cannot tell a total from residents outside every grid), and the report and the
    warnings name V3, so a reader can check for residents counted twice."""
    context, warnings = _context(city)
    assert context.population_report["register_nested"] == 0
    assert not any("counted twice" in w for w in warnings)
    with city.session() as session:
        g4 = session.scalars(select(Jurisdiction).where(Jurisdiction.code == "G4")).one()
        session.add(
            PopulationCount(
                code="P6", jurisdiction_id=g4.id, jurisdiction_path=g4.path, residents=700
            )
        )
    context, warnings = _context(city)
    report = context.population_report
    assert report["register_nested"] == 1
    assert report["register_nested_paths"] == [_path("V3")]
    assert _population(context)["V3"] == 7_200.0  # summed, as the rules say
    assert any(_path("V3") in w and "counted twice" in w for w in warnings)


def test_nested_paths_are_the_ancestors_among_the_paths() -> None:
    paths = ["/C/T1/", "/C/T1/V1/G1/", "/C/T2/V3/", "/C/T2/V3/G4/", "/C/T3/V5/", None]
    assert nested_paths(paths) == ("/C/T1/", "/C/T2/V3/")
    assert nested_paths(["/C/T1/V1/", "/C/T1/V2/"]) == ()


def test_without_a_register_the_tree_figures_are_used_as_before(db: Database) -> None:
    with db.session() as session:
        for code in ("C", "T1"):
            parent = TREE[code][0]
            session.add(
                Jurisdiction(
                    code=code,
                    level=_level(code),
                    parent_id=1 if parent else None,
                    path=_path(code),
                    name_zh=code,
                    name_en=code,
                    center_lon=113.7,
                    center_lat=23.0,
                    population=TREE[code][1],
                )
            )
            session.flush()
    context, _ = _context(db)
    assert _population(context) == {"C": 99_999.0, "T1": 5_000.0}
    report = context.population_report
    assert report["register_rows"] == 0
    assert report["as_of"] is None
    assert report["levels"]["town"]["from_tree"] == 1
    assert report["levels"]["grid"]["jurisdictions"] == 0


def test_the_register_is_read_with_one_grouped_query(city: Database) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(city.engine, "before_cursor_execute", seen)
    try:
        _context(city)
    finally:
        event.remove(city.engine, "before_cursor_execute", seen)
    register = [s for s in statements if "population_counts" in s]
    assert len(register) == 1
    assert "GROUP BY population_counts.jurisdiction_path" in register[0]


def test_the_grouped_read_is_answered_from_the_covering_index(city: Database) -> None:
    """On SQLite the planner walks ``ix_population_counts_path_totals`` alone (no row
    lookups: 682 → 63 ms for 500,000 rows); PostgreSQL chooses by its own statistics."""
    if city.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan")
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "population_counts" in statement:
            statements.append((statement, parameters))

    event.listen(city.engine, "before_cursor_execute", seen)
    try:
        _context(city)
    finally:
        event.remove(city.engine, "before_cursor_execute", seen)
    ((statement, parameters),) = statements
    with city.engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    assert any("COVERING INDEX ix_population_counts_path_totals" in str(row) for row in plan), plan


def _one_venue_per_grid() -> tuple[pl.DataFrame, pl.DataFrame]:
    grids = [c for c in TREE if _level(c) == "grid"]
    n = len(grids)
    village = [TREE[g][0] for g in grids]
    scores = pl.DataFrame(
        {
            "venue_id": list(range(1, n + 1)),
            "town_code": [TREE[str(v)][0] for v in village],
            "village_code": village,
            "grid_code": grids,
            "industry_code": ["X"] * n,
            "category": ["factory"] * n,
            "is_key_unit": [False] * n,
            "is_high_risk": [False] * n,
            "grade": ["blue"] * n,
        }
    )
    features = pl.DataFrame(
        {
            "venue_id": list(range(1, n + 1)),
            "floor_area_m2": [100.0] * n,
            "is_three_small": [False] * n,
            "is_rental": [False] * n,
            "device_count": [0] * n,
            "offline_devices": [None] * n,
            "hydrant_within_150m": [True] * n,
            "open_hazards": [0] * n,
            "overdue_rectifications": [0] * n,
            "days_since_inspection": [10.0] * n,
            "first_due_travel_time_s": [200.0] * n,
            "incidents_venue_3y": [0] * n,
        },
        schema_overrides={"offline_devices": pl.Int32},
    )
    return scores, features


def test_the_density_indicators_use_the_chosen_population(city: Database) -> None:
    context, _ = _context(city)
    method = default_area_method()
    scores, features = _one_venue_per_grid()
    areas = assess_areas(venue_basis(scores, features, method), method, context)
    key = {"city": "city", "town": "town_code", "village": "village_code", "grid": "grid_code"}
    checked = 0
    for level in ("city", "town", "village", "grid"):
        land = dict(context.levels[level].select("code", "area_km2").iter_rows())
        for row in areas[level].iter_rows(named=True):
            code = row[key[level]]
            population = EXPECTED["C" if level == "city" else code][0]
            area_km2 = land[code]
            assert area_km2 is not None
            assert area_km2 > 0
            if population is None:
                assert row["value_population_density"] is None
                assert row["value_units_per_10k"] is None
                assert {"population_density", "units_per_10k"} <= set(row["missing"])
            else:
                assert row["value_population_density"] == pytest.approx(population / area_km2)
                assert row["value_units_per_10k"] == pytest.approx(0.0)  # no engines
                assert "population_density" not in row["missing"]
            checked += 1
    assert checked == len(TREE)


def test_an_imported_register_reaches_the_run_summary_and_the_area_grades(
    db: Database, settings: Settings
) -> None:
    """Through the import and the API: the register of one town's grids is what that town,
    its grids and the city (partly covered) are graded with; the summary says so."""
    city = build_city(db, settings)
    town = city["towns"][0]
    with db.session() as session:
        grids = session.scalars(
            select(Jurisdiction.code)
            .where(
                Jurisdiction.level == "grid",
                Jurisdiction.path.startswith(city["town_paths"][town]),
            )
            .order_by(Jurisdiction.code)
        ).all()
        n_grids = session.scalar(
            select(func.count()).select_from(Jurisdiction).where(Jurisdiction.level == "grid")
        )
    rows = [
        [f"P{i}", g, "", "", 1_000 * (i + 1), 0, 0, 0, "2026-05-31"] for i, g in enumerate(grids)
    ]
    import_bytes(db, "population", to_csv(POPULATION_HEADER, rows), "csv")
    register_sum = sum(1_000 * (i + 1) for i in range(len(grids)))
    context, _ = _context(db)
    town_km2 = dict(context.levels["town"].select("code", "area_km2").iter_rows())[town]
    city_km2 = context.levels["city"]["area_km2"][0]

    use_cheap_hasher()
    admin = bearer(token_for(db, settings, make_user(db, "pop_admin", "admin", "441900")))
    with TestClient(create_app(settings, db)) as client:
        run = client.post("/api/v1/risk/runs", json={}, headers=admin)
        assert run.status_code == 201, run.text
        population = client.get("/api/v1/risk/runs/latest", headers=admin).json()["area_population"]
        assert population == run.json()["area_population"]
        assert population["register_rows"] == len(grids)
        assert population["register_residents"] == register_sum
        assert population["as_of"] == "2026-05-31"
        levels = population["levels"]
        assert levels["grid"] | {"text": None} == {
            "jurisdictions": n_grids,
            "from_register": len(grids),
            "from_tree": n_grids - len(grids),  # the demo's tree has every grid's figure
            "no_population": 0,
            "register_partial": 0,
            "text": None,
        }
        assert (levels["town"]["from_register"], levels["town"]["register_partial"]) == (1, 0)
        assert levels["town"]["from_tree"] == city["counts"]["towns"] - 1
        assert (levels["city"]["from_register"], levels["city"]["register_partial"]) == (1, 1)
        assert levels["town"]["text"]["code"] == "risk.population_sources"

        def density(level: str, code: str) -> float:
            items = client.get("/api/v1/risk/areas", params={"level": level}, headers=admin).json()[
                "items"
            ]
            value = next(i for i in items if i["code"] == code)["values"]["population_density"]
            assert isinstance(value, float)
            return value

        assert density("town", town) == pytest.approx(register_sum / town_km2)
        # the city takes the register's sum (one town only: under-counted, reported above)
        assert density("city", "city") == pytest.approx(register_sum / city_km2)
