"""``firegrid users`` and ``firegrid apikeys`` against a real database (--db)."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from firegrid.accounts.cli import apikeys_app, users_app
from firegrid.accounts.models import ApiKey, AuditEntry, User
from firegrid.core.db import Database
from tests.accounts.city import City

runner = CliRunner()


def _run(app, *args: str) -> dict | list:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_users_commands(db: Database, city: City):
    url = db.url
    created = _run(
        users_app,
        "create",
        "--username",
        "opsadmin",
        "--role",
        "admin",
        "--scope",
        city.code("town", "in"),
        "--generate-password",
        "--db",
        url,
    )
    assert created["scope_code"] == city.code("town", "in")
    assert created["password"]
    listed = _run(users_app, "list", "--role", "admin", "--db", url)
    assert [u["username"] for u in listed] == ["opsadmin"]
    disabled = _run(users_app, "disable", "opsadmin", "--db", url)
    assert disabled["disabled"] is True
    reset = _run(
        users_app, "reset-password", "opsadmin", "--password", "fresh-pass-2026", "--db", url
    )
    assert reset == {"username": "opsadmin", "password": None}
    with db.session() as session:
        user = session.scalars(select(User).where(User.username == "opsadmin")).one()
        assert user.disabled
        actors = set(
            session.scalars(
                select(AuditEntry.actor_subject).where(AuditEntry.resource_id == str(user.id))
            )
        )
    assert all(actor.startswith("system:cli:") for actor in actors)


def test_users_create_reports_errors(db: Database, city: City):
    result = runner.invoke(
        users_app,
        [
            "create",
            "--username",
            "xavier",
            "--role",
            "admin",
            "--scope",
            "nowhere",
            "--password",
            "good-pass-123",
            "--db",
            db.url,
        ],
    )
    assert result.exit_code == 2  # bad input (the CLI contract)
    assert "no jurisdiction with code 'nowhere'" in result.output
    weak = runner.invoke(
        users_app,
        [
            "create",
            "--username",
            "weakling",
            "--role",
            "admin",
            "--scope",
            city.code("city", "in"),
            "--password",
            "weak",
            "--db",
            db.url,
        ],
    )
    assert weak.exit_code == 2  # bad input (the CLI contract)
    assert "at least 10 characters" in weak.output


def test_apikeys_commands(db: Database, city: City):
    created = _run(
        apikeys_app,
        "create",
        "--name",
        "carrier",
        "--role",
        "integration",
        "--scope",
        city.code("town", "in"),
        "--routes",
        "/api/v1/devices",
        "--routes",
        "alarms",
        "--db",
        db.url,
    )
    assert created["key"].startswith(f"fgk_{created['id']}_")
    assert created["routes"] == ["/api/v1/alarms", "/api/v1/devices"]
    revoked = _run(apikeys_app, "revoke", created["id"], "--db", db.url)
    assert revoked["revoked_at"] is not None
    with db.session() as session:
        assert session.get(ApiKey, created["id"]).revoked_at is not None
