"""Fixtures of the inspections tests: the two-town city (``IN`` / ``OUT``), principals of
each role, an app and a client. Run on SQLite and PostgreSQL (``FIREGRID_TEST_DB``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.accounts.principal import Principal, system_principal
from firegrid.api.app import create_app
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.inspections import service
from tests.accounts.city import City, build_city, use_cheap_hasher

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


@pytest.fixture
def city(db: Database) -> City:
    return build_city(db)


def principal(
    city: City, role: str, side: str = "in", venue_ids: tuple[int, ...] = ()
) -> Principal:
    """A principal of ``role`` scoped to the town of ``side``."""
    return Principal(
        subject=f"user:{900 + len(role)}",
        username=f"{role}-{side}",
        role=role,
        scope_path=city.paths[f"town:{side}"],
        scope_code=city.code("town", side),
        venue_ids=frozenset(venue_ids),
    )


@pytest.fixture
def app(settings: Settings, db: Database, city: City) -> FastAPI:
    return create_app(settings, db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def record(
    db: Database,
    city: City,
    side: str,
    *,
    days_ago: float = 1.0,
    hazards: tuple[service.HazardSpec, ...] = (service.HazardSpec("blocked_exit"),),
) -> tuple[int, list[int]]:
    """An inspection of the ``side`` venue ``days_ago`` days ago; its id and hazard ids."""
    with db.session() as session:
        inspection, rows = service.record_inspection(
            session,
            system_principal("tests"),
            venue_id=city.id("venue", side),
            inspected_at=utcnow() - timedelta(days=days_ago),
            hazards=hazards,
        )
        return inspection.id, [h.id for h in rows]
