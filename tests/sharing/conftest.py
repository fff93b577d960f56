"""Fixtures of the sharing tests: the two-town city (``IN`` / ``OUT``), an app and a client.
Run on SQLite and PostgreSQL (``FIREGRID_TEST_DB``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from tests.accounts.city import City, bearer, build_city, make_user, token_for, use_cheap_hasher


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


@pytest.fixture
def city(db: Database) -> City:
    return build_city(db)


@pytest.fixture
def app(settings: Settings, db: Database, city: City) -> FastAPI:
    return create_app(settings, db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def headers(db: Database, settings: Settings, role: str, scope_code: str) -> dict[str, str]:
    """A bearer token of a new user of ``role`` scoped to ``scope_code``."""
    user = make_user(db, f"share_{role}_{scope_code}", role, scope_code)
    return bearer(token_for(db, settings, user))
