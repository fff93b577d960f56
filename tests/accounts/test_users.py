"""User management: password policy, jurisdiction scoping of administrators, venue links."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from firegrid.accounts.passwords import check_password_policy, generate_password, password_problems
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from tests.accounts.city import City, bearer, make_user, token_for


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1", "at least 10 characters"),
        ("onlyletters", "at least one digit"),
        ("1234567890123", "at least one letter"),
        ("alice-is-2026", "must not contain the username"),
        ("password123", "commonly used"),
    ],
)
def test_password_policy_names_the_problem(password: str, problem: str):
    problems = password_problems(password, "alice")
    assert any(problem in p for p in problems), problems
    with pytest.raises(ValidationFailed) as raised:
        check_password_policy(password, "alice")
    assert problem in raised.value.message


def test_good_and_generated_passwords_pass_the_policy():
    assert password_problems("correct-horse-42", "alice") == []
    assert password_problems(generate_password(), "alice") == []


def _admin_headers(client: TestClient, db: Database, scope: str, name: str = "root") -> dict:
    user_id = make_user(db, name, "admin", scope)
    return bearer(token_for(db, client.app.state.settings, user_id))


def test_create_user_refuses_a_weak_password_with_a_clear_message(
    client: TestClient, db: Database, city: City
):
    headers = _admin_headers(client, db, city.code("city", "in"))
    response = client.post(
        "/api/v1/users",
        json={
            "username": "bob",
            "role": "analyst",
            "scope_code": city.code("town", "in"),
            "password": "bob12",
        },
        headers=headers,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert "at least 10 characters" in error["message"]
    assert error["details"]["field"] == "password"


def test_create_user_generates_a_password_once(client: TestClient, db: Database, city: City):
    headers = _admin_headers(client, db, city.code("city", "in"))
    response = client.post(
        "/api/v1/users",
        json={"username": "bob", "role": "analyst", "scope_code": city.code("town", "in")},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    password = response.json()["password"]
    assert password
    assert not password_problems(password)
    login = client.post("/api/v1/auth/login", json={"username": "bob", "password": password})
    assert login.status_code == 200
    listing = client.get("/api/v1/users", headers=headers).text
    assert password not in listing
    assert "password_hash" not in listing


def test_duplicate_username_is_409(client: TestClient, db: Database, city: City):
    headers = _admin_headers(client, db, city.code("city", "in"))
    body = {"username": "bob", "role": "analyst", "scope_code": city.code("town", "in")}
    assert client.post("/api/v1/users", json=body, headers=headers).status_code == 201
    assert client.post("/api/v1/users", json=body, headers=headers).status_code == 409


def test_town_admin_manages_only_its_town(client: TestClient, db: Database, city: City):
    headers = _admin_headers(client, db, city.code("town", "in"), "town_admin")
    inside, outside = city.id("user", "in"), city.id("user", "out")
    listing = client.get("/api/v1/users", headers=headers)
    assert listing.status_code == 200
    names = {item["username"] for item in listing.json()["items"]}
    assert city.code("user", "in") in names
    assert not any(name.startswith("outside_") for name in names)
    assert client.get(f"/api/v1/users/{inside}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/users/{outside}", headers=headers).status_code == 404
    assert (
        client.patch(
            f"/api/v1/users/{outside}", json={"disabled": True}, headers=headers
        ).status_code
        == 404
    )
    assert (
        client.post(f"/api/v1/users/{outside}/reset-password", json={}, headers=headers).status_code
        == 404
    )
    # Cannot create a user, or move one, outside its own scope.
    create_out = client.post(
        "/api/v1/users",
        json={"username": "eve", "role": "admin", "scope_code": city.code("town", "out")},
        headers=headers,
    )
    assert create_out.status_code == 403
    create_city = client.post(
        "/api/v1/users",
        json={"username": "eve", "role": "admin", "scope_code": city.code("city", "in")},
        headers=headers,
    )
    assert create_city.status_code == 403
    move = client.patch(
        f"/api/v1/users/{inside}", json={"scope_code": city.code("town", "out")}, headers=headers
    )
    assert move.status_code == 403


def test_admin_cannot_disable_or_demote_itself(client: TestClient, db: Database, city: City):
    admin = make_user(db, "root", "admin", city.code("city", "in"))
    headers = bearer(token_for(db, client.app.state.settings, admin))
    assert (
        client.patch(f"/api/v1/users/{admin}", json={"disabled": True}, headers=headers).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/users/{admin}", json={"role": "analyst"}, headers=headers
        ).status_code
        == 403
    )


def test_venue_manager_sees_only_its_venues(client: TestClient, db: Database, city: City):
    from tests.accounts.city import add_grid, add_object

    with db.session() as session:
        other_inside_venue = add_object(session, city, "venue", "in").id
    manager = make_user(
        db,
        "manager",
        "venue_manager",
        city.code("village", "in"),
        venue_ids=(city.id("venue", "in"),),
    )
    headers = bearer(token_for(db, client.app.state.settings, manager))
    me = client.get("/api/v1/auth/me", headers=headers).json()
    assert me["venue_ids"] == [city.id("venue", "in")]
    venues = client.get("/api/v1/venues", headers=headers).json()["items"]
    assert [v["id"] for v in venues] == [city.id("venue", "in")]
    assert client.get(f"/api/v1/venues/{other_inside_venue}", headers=headers).status_code == 404
    devices = client.get("/api/v1/devices", headers=headers).json()["items"]
    assert {d["venue_id"] for d in devices} == {city.id("venue", "in")}
    # grid workers: those of its venue's grid (to call them), not everyone's in its scope
    with db.session() as session:
        own_worker = add_object(session, city, "grid_worker", "in").id
        elsewhere = add_grid(session, city, "in")
        other = add_object(session, city, "grid_worker", "in")
        other.grid_id = elsewhere.id
        other.jurisdiction_path = elsewhere.path
        other_worker = other.id
    workers = client.get("/api/v1/grid-workers", headers=headers).json()["items"]
    assert own_worker in {w["id"] for w in workers}
    assert other_worker not in {w["id"] for w in workers}
    assert client.get(f"/api/v1/grid-workers/{other_worker}", headers=headers).status_code == 404


def test_venue_links_must_lie_in_scope(client: TestClient, db: Database, city: City):
    headers = _admin_headers(client, db, city.code("city", "in"))
    response = client.post(
        "/api/v1/users",
        json={
            "username": "manager",
            "role": "venue_manager",
            "scope_code": city.code("town", "in"),
            "venue_ids": [city.id("venue", "out")],
        },
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["venue_ids"] == [city.id("venue", "out")]


def test_a_generated_password_never_contains_the_username(monkeypatch: pytest.MonkeyPatch) -> None:
    """A random password can contain a short username (the policy then refused the
    generated password with 422); the generator checks the policy for that username."""
    from firegrid.accounts import passwords

    draws = iter(["xxabyyyyyyyyyy1Z", "zzzzzzzzzzzzzz2Y"])
    monkeypatch.setattr(passwords.secrets, "token_urlsafe", lambda _n: next(draws))
    assert passwords.generate_password("ab") == "zzzzzzzzzzzzzz2Y"
