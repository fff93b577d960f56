"""The audit log: entries for changes and refused requests, append-only, read and export."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from firegrid.accounts.audit import record_change
from firegrid.accounts.models import AuditEntry
from firegrid.accounts.principal import system_principal
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from tests.accounts.city import City, bearer, make_user, token_for


def _headers(client: TestClient, db: Database, role: str, scope: str, name: str) -> dict:
    return bearer(token_for(db, client.app.state.settings, make_user(db, name, role, scope)))


def test_change_has_before_after_actor_and_request(client: TestClient, db: Database, city: City):
    headers = _headers(client, db, "admin", city.code("city", "in"), "root")
    venue_id = city.id("venue", "in")
    response = client.patch(
        f"/api/v1/venues/{venue_id}",
        json={"name": "Renamed", "lon": 113.05, "lat": 23.1},
        headers={**headers, "X-Request-ID": "req-123", "User-Agent": "console/1.0"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "req-123"
    with db.session() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.request_id == "req-123").order_by(AuditEntry.id)
        ).all()
    kinds = {entry.kind: entry for entry in entries}
    change, request = kinds["change"], kinds["request"]
    assert change.before["name"] != "Renamed"
    assert change.after["name"] == "Renamed"
    assert change.resource_type == "venues"
    assert change.resource_id == str(venue_id)
    assert change.actor_username == "root"
    assert change.actor_role == "admin"
    assert request.method == "PATCH"
    assert request.status == 200
    assert request.user_agent == "console/1.0"
    assert request.resource_id == str(venue_id)
    assert request.details["route"] == "/api/v1/venues/{venue_id}"
    assert request.at.tzinfo is not None


def test_refused_and_failed_requests_are_audited(client: TestClient, db: Database, city: City):
    headers = _headers(client, db, "analyst", city.code("town", "in"), "ana")
    forbidden = client.delete(f"/api/v1/venues/{city.id('venue', 'in')}", headers=headers)
    assert forbidden.status_code == 403
    anonymous = client.post("/api/v1/users", json={})
    assert anonymous.status_code == 401
    with db.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.kind == "request")).all()
    by_status = {row.status: row for row in rows}
    assert by_status[403].actor_username == "ana"
    assert by_status[403].outcome == "failure"
    assert by_status[401].actor_subject == ""
    assert by_status[401].path == "/api/v1/users"


def test_audit_log_is_append_only(db: Database):
    with db.session() as session:
        entry = record_change(session, system_principal(), "test", "thing", 1, None, {"a": 1})
        session.flush()
        entry_id = entry.id
    for statement in (
        update(AuditEntry).where(AuditEntry.id == entry_id).values(action="tampered"),
        delete(AuditEntry).where(AuditEntry.id == entry_id),
    ):
        with db.session() as session, pytest.raises(DatabaseError, match="append-only"):
            session.execute(statement)
    if db.engine.dialect.name == "postgresql":
        with db.session() as session, pytest.raises(DatabaseError, match="append-only"):
            session.execute(text("TRUNCATE audit_log"))
    with db.session() as session:
        assert session.get(AuditEntry, entry_id).action == "test"


def test_list_filters_paginates_and_is_scoped(client: TestClient, db: Database, city: City):
    city_admin = _headers(client, db, "admin", city.code("city", "in"), "root")
    town_admin = _headers(client, db, "admin", city.code("town", "in"), "town_root")
    out_admin = _headers(client, db, "admin", city.code("town", "out"), "outside_root")
    for n in range(3):
        client.post(
            "/api/v1/users",
            json={"username": f"in{n}", "role": "analyst", "scope_code": city.code("town", "in")},
            headers=town_admin,
        )
    client.post(
        "/api/v1/users",
        json={"username": "outside_x", "role": "analyst", "scope_code": city.code("town", "out")},
        headers=out_admin,
    )
    page = client.get("/api/v1/audit?action=user.create&limit=2", headers=city_admin).json()
    assert page["count"] == 2
    assert page["next_cursor"]
    rest = client.get(
        f"/api/v1/audit?action=user.create&limit=2&cursor={page['next_cursor']}", headers=city_admin
    ).json()
    ids = [i["id"] for i in page["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)
    town_view = client.get("/api/v1/audit?action=user.create", headers=town_admin).json()
    assert {i["actor_username"] for i in town_view["items"]} == {"town_root"}
    assert "outside_x" not in json.dumps(town_view)
    by_actor = client.get("/api/v1/audit?actor=outside_root", headers=city_admin).json()
    assert by_actor["count"] >= 1
    assert all(i["actor_username"] == "outside_root" for i in by_actor["items"])
    future = (utcnow() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    empty = client.get("/api/v1/audit", params={"since": future}, headers=city_admin).json()
    assert empty["count"] == 0
    naive = client.get("/api/v1/audit", params={"since": "2026-01-01T00:00:00"}, headers=city_admin)
    assert naive.status_code == 422


def test_non_admins_cannot_read_the_audit_log(client: TestClient, db: Database, city: City):
    headers = _headers(client, db, "commander", city.code("city", "in"), "boss")
    assert client.get("/api/v1/audit", headers=headers).status_code == 403
    assert client.get("/api/v1/audit/export", headers=headers).status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export(client: TestClient, db: Database, city: City, fmt: str):
    headers = _headers(client, db, "admin", city.code("city", "in"), "root")
    client.post(
        "/api/v1/users",
        json={
            "username": "mallory",
            "role": "analyst",
            "scope_code": city.code("town", "in"),
            "display_name": '=HYPERLINK("http://evil")',
        },
        headers={**headers, "User-Agent": "=cmd|' /C calc'!A0"},
    )
    response = client.get(f"/api/v1/audit/export?format={fmt}", headers=headers)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    if fmt == "jsonl":
        rows = [json.loads(line) for line in response.text.splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(response.text)))
        agents = {row["user_agent"] for row in rows}
        assert "'=cmd|' /C calc'!A0" in agents  # neutralised formula
        assert not any(agent.startswith("=") for agent in agents)
    actions = {row["action"] for row in rows}
    assert "user.create" in actions
    with db.session() as session:
        assert (
            session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.export")).first()
            is not None
        )


def test_search_by_object(client: TestClient, db: Database, city: City) -> None:
    """The console's audit search by object: its type and id pick its own entries only."""
    headers = _headers(client, db, "admin", city.code("city", "in"), "root")
    ids = []
    for name in ("a-venue", "b-venue"):
        venue_id = city.id("venue", "in") if name == "a-venue" else city.id("venue", "out")
        response = client.patch(f"/api/v1/venues/{venue_id}", json={"name": name}, headers=headers)
        assert response.status_code == 200, response.text
        ids.append(venue_id)
    found = client.get(
        "/api/v1/audit",
        params={"resource_type": "venues", "resource_id": str(ids[0]), "kind": "change"},
        headers=headers,
    ).json()
    assert found["count"] == 1
    assert found["items"][0]["resource_id"] == str(ids[0])
    assert found["items"][0]["after"]["name"] == "a-venue"
    both = client.get(
        "/api/v1/audit", params={"resource_type": "venues", "kind": "change"}, headers=headers
    ).json()
    assert {item["resource_id"] for item in both["items"]} == {str(i) for i in ids}
    none = client.get(
        "/api/v1/audit",
        params={"resource_type": "venues", "resource_id": "999999"},
        headers=headers,
    ).json()
    assert none["count"] == 0
