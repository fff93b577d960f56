"""Fixtures of the records tests: the dispatch tests' three-town city, an app and a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from tests.accounts.city import use_cheap_hasher
from tests.dispatch.city import DCity, build_dispatch_city


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


@pytest.fixture
def dcity(db: Database) -> DCity:
    return build_dispatch_city(db)


@pytest.fixture
def app(settings: Settings, db: Database, dcity: DCity) -> FastAPI:
    return create_app(settings, db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
