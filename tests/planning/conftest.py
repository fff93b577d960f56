"""Fixtures of the planning tests: the planning city and its engine."""

from __future__ import annotations

import pytest

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.geo.engine import TravelTimeEngine
from tests.accounts.city import use_cheap_hasher
from tests.dispatch.city import DCity
from tests.planning.city import build_planning_city


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


@pytest.fixture
def pcity(db: Database) -> DCity:
    return build_planning_city(db)


@pytest.fixture
def engine(pcity: DCity, db: Database, settings: Settings) -> TravelTimeEngine:
    from firegrid.geo.service import geo_context

    return geo_context(db, settings).engine
