"""Migration 0012: a database whose response plans were seeded before ``hazmat_fire``
existed gets the shipped plans of that type once; a fresh one seeds them on first use."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from firegrid.core.db import Database
from firegrid.core.migrate import upgrade
from firegrid.dispatch.incident_models import ResponsePlan
from firegrid.dispatch.plans import ensure_plans, planned_incident_types
from tests.conftest import make_database_url


def _hazmat_fire_rows(db: Database) -> int:
    with db.session() as session:
        return int(
            session.scalar(select(func.count()).where(ResponsePlan.incident_type == "hazmat_fire"))
            or 0
        )


@pytest.mark.postgres
def test_plans_seeded_before_the_type_get_it_once(tmp_path: Path) -> None:
    for url in make_database_url(tmp_path):
        upgrade(url, "0005_dispatch")
        db = Database(url)
        try:
            with db.session() as session:  # seeded by an earlier release: no hazmat_fire
                ensure_plans(session)
                session.execute(
                    delete(ResponsePlan).where(ResponsePlan.incident_type == "hazmat_fire")
                )
            assert _hazmat_fire_rows(db) == 0
            upgrade(url)
            assert _hazmat_fire_rows(db) == 4
            with db.session() as session:
                assert "hazmat_fire" in planned_incident_types(session)
        finally:
            db.dispose()


def test_a_fresh_database_seeds_hazmat_fire_with_the_rest(db: Database) -> None:
    assert _hazmat_fire_rows(db) == 0  # nothing seeded by the migration
    with db.session() as session:
        assert {"building_fire", "hazmat_fire"} <= planned_incident_types(session)
    assert _hazmat_fire_rows(db) == 4
