"""Grid-worker performance on a hand-built month (2026-11) with known answers.

G1 (worker W1): SHOP (small_shop, every 30 days) inspected 2026-10-20 and 2026-11-18 with a
hazard rectified on time; HOSP (key unit, every 30 days) never inspected. An October hazard
of SHOP with a November deadline was rectified late. W1 answered an alarm check in 900 s.
G2 (worker W2): RENT (rental, every 60 days) last inspected 2026-08-01, inspected twice in
November, a hazard found then still open past its deadline; DORM (dormitory, every 14 days)
not visited. W2 answered an alarm check in 3,600 s, after its 1,800 s due time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from firegrid.accounts.principal import system_principal
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.inspections.performance import parse_period, performance, write_xlsx
from tests.inspections.plan_city import (
    GRIDS,
    TOWN,
    VILLAGE,
    add_venue,
    build_small_city,
    check_task,
    hazard,
    inspect,
    local,
)

pytestmark = pytest.mark.postgres

NOW = local("2026-12-02 09:00")
G1, G2 = GRIDS


def _month(db: Database) -> None:
    with db.session() as session:
        city = build_small_city(session)
        add_venue(session, city, "SHOP", "small_shop", G1)
        add_venue(session, city, "HOSP", "hospital", G1, key=True)
        add_venue(session, city, "RENT", "rental_housing", G2)
        add_venue(session, city, "DORM", "dormitory", G2)
        october = inspect(session, city, "SHOP", local("2026-10-20 10:00"), "W1")
        hazard(session, city, october, local("2026-11-05 18:00"), local("2026-11-07 10:00"))
        visit = inspect(session, city, "SHOP", local("2026-11-18 10:00"), "W1")
        hazard(session, city, visit, local("2026-11-25 18:00"), local("2026-11-22 10:00"))
        inspect(session, city, "RENT", local("2026-08-01 10:00"), "W2")
        first = inspect(session, city, "RENT", local("2026-11-03 10:00"), "W2")
        hazard(session, city, first, local("2026-11-10 18:00"))
        inspect(session, city, "RENT", local("2026-11-04 10:00"), "W2")
        # outside the month: counted nowhere
        inspect(session, city, "DORM", local("2026-12-01 10:00"), "W2")
        check_task(session, city, "SHOP", "W1", local("2026-11-10 10:00"), 900, 1800)
        check_task(session, city, "RENT", "W2", local("2026-11-11 10:00"), 3600, 1800)
        check_task(session, city, "RENT", "W2", local("2026-12-01 10:00"), 60, 1800)
        session.commit()


def _rows(db: Database, level: Any) -> dict[str, dict[str, Any]]:
    with db.session() as session:
        rows = performance(session, system_principal("t"), parse_period("2026-11"), level, NOW)
    return {row["unit"]: row for row in rows}


KEYS = (
    "planned",
    "done",
    "visits_missed",
    "hazards_found",
    "hazards_rectified_on_time",
    "hazards_overdue",
    "alarm_checks",
    "alarm_check_mean_s",
    "alarm_checks_late",
    "tasks_overdue",
)


def _figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[key] for key in KEYS)


def test_grid_figures(db: Database) -> None:
    _month(db)
    rows = _rows(db, "grid")
    assert set(rows) == {G1, G2}
    # G1: SHOP 1 planned 1 done, HOSP 1 planned 0 done; 1 hazard on time, 1 late deadline
    assert _figures(rows[G1]) == (2, 1, 1, 1, 1, 1, 1, 900.0, 0, 2)
    # G2: RENT 1 planned 2 done, DORM 30 // 14 = 2 planned 0 done; 1 open hazard overdue
    assert _figures(rows[G2]) == (3, 2, 2, 1, 0, 1, 1, 3600.0, 1, 4)
    assert rows[G1]["completion"] == 0.5
    assert rows[G2]["rectified_on_time_rate"] == 0.0


def test_village_and_town_add_up(db: Database) -> None:
    _month(db)
    village, town = _rows(db, "village")[VILLAGE], _rows(db, "town")[TOWN]
    assert _figures(village) == _figures(town) == (5, 3, 3, 2, 1, 2, 2, 2250.0, 1, 6)
    assert town["alarm_check_p90_s"] == 3600.0


def test_worker_figures(db: Database) -> None:
    _month(db)
    rows = {row["worker_code"]: row for row in _rows(db, "worker").values()}
    assert _figures(rows["W1"]) == (2, 1, 1, 1, 1, 1, 1, 900.0, 0, 2)
    assert _figures(rows["W2"]) == (3, 2, 2, 1, 0, 1, 1, 3600.0, 1, 4)


def test_period_and_level_are_checked(db: Database) -> None:
    for bad in ("2026-13", "2026/11", "november"):
        with pytest.raises(ValidationFailed, match="YYYY-MM"):
            parse_period(bad)
    with db.session() as session, pytest.raises(ValidationFailed, match="level"):
        performance(session, system_principal("t"), parse_period("2026-11"), "city", NOW)  # type: ignore[arg-type]


def test_xlsx_export(db: Database, tmp_path: Path) -> None:
    _month(db)
    with db.session() as session:
        rows = performance(session, system_principal("t"), parse_period("2026-11"), "grid", NOW)
    target = tmp_path / "kpi.xlsx"
    write_xlsx(rows, target)
    sheet = load_workbook(target).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:5] == ("period", "level", "unit", "planned", "done")
    assert [v[2] for v in values[1:]] == [G1, G2]
    assert values[1][3:5] == (2, 1)


def test_cli_performance_and_plan(db: Database, database_url: str, tmp_path: Path) -> None:
    import json

    from firegrid.cli import app

    _month(db)
    runner = CliRunner()
    target = tmp_path / "out.xlsx"
    result = runner.invoke(
        app,
        [
            "inspections",
            "performance",
            "--period",
            "2026-11",
            "--level",
            "town",
            "--db",
            database_url,
            "--xlsx",
            str(target),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["unit"], r["done"]) for r in rows] == [(TOWN, 3)]
    assert target.exists()
    bad = runner.invoke(
        app, ["inspections", "performance", "--period", "2026-13", "--db", database_url]
    )
    assert bad.exit_code == 2
    plan = runner.invoke(app, ["inspections", "plan", "--grid", G2, "--db", database_url, "--json"])
    assert plan.exit_code == 0, plan.output
    grids = json.loads(plan.stdout)
    assert [g["grid_code"] for g in grids] == [G2]
    assert grids[0]["venues"] == 2
