"""Fixtures of the API hostile-input tests (imported by the ``test_api_*`` modules).

The two-town city of the accounts tests, the app built on it, a test client whose requests
come from a fixed source address, and an administrator of the whole city.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from tests.accounts.city import City, bearer, build_city, make_user, token_for, use_cheap_hasher

ATTACKER = ("203.0.113.66", 41000)  # TEST-NET-3: a documentation address, never dialled
OPERATOR = ("198.51.100.20", 42000)


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
    with TestClient(app, client=OPERATOR) as test_client:
        yield test_client


@pytest.fixture
def admin(db: Database, settings: Settings, city: City) -> dict[str, str]:
    """Bearer headers of an administrator of the whole city."""
    user = make_user(db, "hostile_admin", "admin", city.code("city", "in"))
    return bearer(token_for(db, settings, user))


def envelope_of(response: object, status: int, code: str) -> dict[str, object]:
    """The ``error`` of a response, checked to be the project's envelope."""
    assert getattr(response, "status_code", None) == status, getattr(response, "text", "")
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {
        "code",
        "message",
        "details",
        "message_code",
        "message_params",
    }, body
    assert body["error"]["code"] == code, body
    error: dict[str, object] = body["error"]
    return error
