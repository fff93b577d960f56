"""Fixtures of the accounts tests: a two-town city, an app and a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from tests.accounts.city import City, build_city, use_cheap_hasher


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    """argon2id with tiny parameters: the tests check the flows, not the hash cost."""
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
