"""Production refuses the default or a demo secret; demo users are never created there."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from firegrid.accounts.demo import DEMO_USERS, create_demo_users
from firegrid.accounts.errors import DemoRefused, InsecureConfiguration
from firegrid.accounts.models import User
from firegrid.accounts.production import check_production_settings
from firegrid.accounts.sessions import login
from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import DEFAULT_SECRET, Settings
from tests.accounts.city import City


@pytest.mark.parametrize("secret", [DEFAULT_SECRET, "changeme", "short-but-random"])
def test_production_refuses_default_demo_or_short_secrets(secret: str, tmp_path):
    settings = Settings(
        env="production", secret_key=SecretStr(secret), database_url=f"sqlite:///{tmp_path}/x.db"
    )
    with pytest.raises(InsecureConfiguration, match="FIREGRID_SECRET_KEY"):
        check_production_settings(settings)
    with pytest.raises(InsecureConfiguration, match="refusing to start in production"):
        create_app(settings)


def test_production_accepts_a_strong_secret_and_development_the_default(tmp_path):
    strong = Settings(
        env="production",
        secret_key=SecretStr("k" * 20 + "9f2Q81xLr0pZt6Va3Wc"),
        database_url=f"sqlite:///{tmp_path}/x.db",
    )
    check_production_settings(strong)
    check_production_settings(
        Settings(env="development", database_url=f"sqlite:///{tmp_path}/x.db")
    )


def _codes(city: City) -> dict:
    return {
        "city_code": city.code("city", "in"),
        "town_code": city.code("town", "in"),
        "village_code": city.code("village", "in"),
        "grid_code": city.code("grid", "in"),
        "venue_ids": [city.id("venue", "in")],
    }


def test_demo_users_one_per_role_and_refused_in_production(db: Database, city: City, tmp_path):
    production = Settings(
        env="production", secret_key=SecretStr("x" * 40), database_url=db.url, data_dir=tmp_path
    )
    with db.session() as session, pytest.raises(DemoRefused, match="production"):
        create_demo_users(session, settings=production, **_codes(city))
    development = Settings(env="development", database_url=db.url, data_dir=tmp_path)
    with db.session() as session:
        printed = create_demo_users(session, settings=development, **_codes(city))
    assert {row["role"] for row in printed} == {role for _, role, *_ in DEMO_USERS}
    assert len(printed) == len(DEMO_USERS)
    with db.session() as session:
        town = session.scalars(select(User).where(User.username == "commander_town")).one()
        assert town.jurisdiction_id == city.id("town", "in")
        for row in printed:
            assert login(session, row["username"], row["password"]).role == row["role"]
    with db.session() as session:  # idempotent
        again = create_demo_users(session, settings=development, **_codes(city))
    assert not any(row["created"] for row in again)
