"""API keys: format, hashing at rest, route-prefix and jurisdiction scoping, revocation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from firegrid.accounts.models import ApiKey
from firegrid.accounts.service import normalise_route_prefix, route_allowed
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from tests.accounts.city import City, bearer, make_user, token_for


def _create(client: TestClient, db: Database, city: City, **overrides) -> dict:
    admin = make_user(db, "root", "admin", city.code("city", "in"))
    body = {
        "name": "carrier platform",
        "role": "integration",
        "scope_code": city.code("town", "in"),
        "routes": ["/api/v1/devices"],
        **overrides,
    }
    headers = bearer(token_for(db, client.app.state.settings, admin))
    response = client.post("/api/v1/apikeys", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return {**response.json(), "admin_headers": headers}


def test_key_is_shown_once_and_hashed_at_rest(client: TestClient, db: Database, city: City):
    created = _create(client, db, city)
    key = created["key"]
    assert key.startswith(f"fgk_{created['api_key']['id']}_")
    secret = key.split("_", 2)[2]
    with db.session() as session:
        row = session.get(ApiKey, created["api_key"]["id"])
        assert row is not None
        assert secret not in row.secret_hash
        assert len(row.secret_hash) == 64


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_key_reaches_only_its_routes_and_jurisdiction(
    client: TestClient, db: Database, city: City, header: str
):
    created = _create(client, db, city)
    key = created["key"]
    headers = bearer(key) if header == "bearer" else {"X-API-Key": key}
    devices = client.get("/api/v1/devices", headers=headers)
    assert devices.status_code == 200, devices.text
    codes = {d["code"] for d in devices.json()["items"]}
    assert city.code("device", "in") in codes
    assert not any(code.startswith("OUT-") for code in codes)
    assert (
        client.get(f"/api/v1/devices/{city.id('device', 'in')}", headers=headers).status_code == 200
    )
    assert (
        client.get(f"/api/v1/devices/{city.id('device', 'out')}", headers=headers).status_code
        == 404
    )
    other_route = client.get("/api/v1/venues", headers=headers)
    assert other_route.status_code == 403
    assert other_route.json()["error"]["details"]["reason"] == "route_not_allowed"
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    with db.session() as session:
        row = session.get(ApiKey, created["api_key"]["id"])
        assert row is not None
        assert row.last_used_at is not None


def test_revoked_or_wrong_key_is_401(client: TestClient, db: Database, city: City):
    created = _create(client, db, city)
    key, key_id = created["key"], created["api_key"]["id"]
    wrong = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    assert client.get("/api/v1/devices", headers=bearer(wrong)).status_code == 401
    assert client.get("/api/v1/devices", headers=bearer("fgk_nope_secret")).status_code == 401
    assert client.get("/api/v1/devices", headers={"X-API-Key": "garbage"}).status_code == 401
    admin_headers = created["admin_headers"]
    revoked = client.post(f"/api/v1/apikeys/{key_id}/revoke", headers=admin_headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    response = client.get("/api/v1/devices", headers=bearer(key))
    assert response.status_code == 401
    assert response.json()["error"]["details"]["reason"] == "revoked"
    listing = client.get("/api/v1/apikeys", headers=admin_headers).json()
    assert key_id not in {item["id"] for item in listing["items"]}
    assert key not in client.get("/api/v1/apikeys?include_revoked=true", headers=admin_headers).text


def test_keys_cannot_be_admin_and_need_api_routes(client: TestClient, db: Database, city: City):
    admin = make_user(db, "root", "admin", city.code("city", "in"))
    headers = bearer(token_for(db, client.app.state.settings, admin))
    base = {"name": "k", "scope_code": city.code("town", "in")}
    admin_key = client.post(
        "/api/v1/apikeys",
        json={**base, "role": "admin", "routes": ["/api/v1/users"]},
        headers=headers,
    )
    assert admin_key.status_code == 422
    bad_route = client.post(
        "/api/v1/apikeys",
        json={**base, "role": "integration", "routes": ["/etc/../x"]},
        headers=headers,
    )
    assert bad_route.status_code == 422


def test_route_prefixes_match_whole_segments():
    prefixes = [normalise_route_prefix("devices"), normalise_route_prefix("/api/v1/alarms/")]
    assert prefixes == ["/api/v1/devices", "/api/v1/alarms"]
    assert route_allowed("/api/v1/devices", prefixes)
    assert route_allowed("/api/v1/devices/12", prefixes)
    assert not route_allowed("/api/v1/devices-admin", prefixes)
    assert not route_allowed("/api/v1/devices/../users", prefixes)
    assert not route_allowed("/api/v1/devices//x", prefixes)
    assert not route_allowed("/api/v1/users", prefixes)
    for bad in ("/api/v2/x", "../devices", "/api/v1/a b"):
        with pytest.raises(ValidationFailed):
            normalise_route_prefix(bad)
