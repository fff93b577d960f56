"""Module-scoped fixtures of the security suite: one migrated database with the two-town
city, principals of every role scoped to the inside town, and an in-process client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.accounts.roles import Role
from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.migrate import upgrade
from firegrid.core.settings import Settings
from tests.accounts.city import City, build_city, make_user, use_cheap_hasher
from tests.conftest import make_database_url
from tests.security.objects import DOMAIN_KINDS, add_domain_object


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


@dataclass
class World:
    database: Database
    settings: Settings
    app: FastAPI
    client: TestClient
    city: City
    users: dict[str, int]  # role -> user id (scoped to the inside town)
    risk_error: str = ""  # why the fixture's risk run failed (the risk routes then xfail)


def _assess(database: Database, settings: Settings) -> str:
    """One recorded risk run, so the risk routes have scores to show (a failure fails)."""
    from firegrid.risk.service import assess

    assess(database, settings, report_dir=settings.data_dir / "reports")
    return ""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp_path = tmp_path_factory.mktemp("security")
    for url in make_database_url(tmp_path):
        upgrade(url)
        database = Database(url)
        settings = Settings(env="test", database_url=url, data_dir=tmp_path / "data")
        city = build_city(database)
        with database.session() as session:
            for side in ("in", "out"):
                for kind in DOMAIN_KINDS:
                    row = add_domain_object(session, city, kind, side)
                    city.ids[f"{kind}:{side}"] = row.id
                    city.codes[f"{kind}:{side}"] = getattr(row, "name", "") or str(row.id)
        users = {}
        for role in Role:
            users[role.value] = make_user(
                database,
                f"matrix_{role.value}",
                role.value,
                city.code("town", "in"),
                venue_ids=(city.id("venue", "in"),) if role is Role.VENUE_MANAGER else (),
            )
        risk_error = _assess(database, settings)
        app = create_app(settings, database)
        with TestClient(app) as client:
            yield World(database, settings, app, client, city, users, risk_error)
        database.dispose()
