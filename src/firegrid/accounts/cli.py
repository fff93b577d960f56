"""Command line: ``firegrid users ...`` and ``firegrid apikeys ...``.

The operator at the command line acts as an administrator of the whole tree; every change
is written to the audit log with the subject ``system:<os user>``.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts import service
from firegrid.accounts.models import ApiKey, User
from firegrid.accounts.principal import Principal, system_principal
from firegrid.accounts.roles import Role
from firegrid.core.cli import DbOption, JsonOption, command_group, emit, session_scope
from firegrid.core.errors import NotFound
from firegrid.core.texts import TextCode

users_app = command_group("Manage users: create, list, disable, reset passwords.")
apikeys_app = command_group("Manage API keys for machine integrations.")

ROLES = ", ".join(role.value for role in Role)


def _operator() -> Principal:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "operator"
    return system_principal(f"cli:{name}")


def _user_by_name(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        raise NotFound(
            f"no user {username!r}",
            {"username": username},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "user", "id": username},
        )
    return user


def _ask_password() -> str | None:
    """Prompt (hidden, twice) when interactive; ``None`` to have one generated."""
    if not sys.stdin.isatty():
        return None
    value: str = typer.prompt(
        "Password (empty: generate one)",
        default="",
        hide_input=True,
        confirmation_prompt=True,
        show_default=False,
    )
    return value or None


@users_app.command("create")
def create_user(
    username: Annotated[str, typer.Option("--username", help="Sign-in name (lower case).")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {ROLES}.")],
    scope: Annotated[str, typer.Option("--scope", help="Code of the jurisdiction in scope.")],
    password: Annotated[
        str | None,
        typer.Option("--password", help="Password (prompted, or generated, when omitted)."),
    ] = None,
    generate: Annotated[
        bool, typer.Option("--generate-password", help="Generate a password; do not prompt.")
    ] = False,
    display_name: Annotated[str, typer.Option("--display-name")] = "",
    venue_ids: Annotated[
        list[int] | None, typer.Option("--venue-id", help="Venue of a venue_manager (repeat).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a user scoped to a jurisdiction."""
    if password is None and not generate:
        password = _ask_password()
    with session_scope(db) as session:
        user, generated = service.create_user(
            session,
            _operator(),
            username=username,
            role=role,
            scope_code=scope,
            password=password,
            display_name=display_name,
            venue_ids=venue_ids or (),
        )
        data = {**service.view_user(session, user).as_dict(), "password": generated}
    emit(
        data,
        as_json,
        lambda d: (
            f"created user {d['username']} ({d['role']}, scope {d['scope_code']})"
            + (f"\npassword (shown once): {d['password']}" if d["password"] else "")
        ),
    )


@users_app.command("list")
def list_users(
    role: Annotated[str | None, typer.Option("--role")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List users."""
    with session_scope(db) as session:
        users = service.list_users(session, _operator(), role=role, limit=100_000)
        data = [service.view_user(session, user).as_dict() for user in users]
    emit(
        data,
        as_json,
        lambda rows: (
            "\n".join(
                f"{r['id']:>5}  {r['username']:<24} {r['role']:<17} {r['scope_code']:<16}"
                f"{' DISABLED' if r['disabled'] else ''}"
                for r in rows
            )
            or "no users"
        ),
    )


@users_app.command("disable")
def disable_user(
    username: Annotated[str, typer.Argument(help="User to disable.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Disable a user (signs them out everywhere), or enable them with --enable."""
    with session_scope(db) as session:
        user = _user_by_name(session, username)
        service.update_user(session, _operator(), user.id, disabled=not enable)
        data = service.view_user(session, user).as_dict()
    emit(data, as_json, lambda d: f"{d['username']}: {'disabled' if d['disabled'] else 'enabled'}")


@users_app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="User whose password to reset.")],
    password: Annotated[
        str | None, typer.Option("--password", help="New password (generated when omitted).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a new password, sign the user out everywhere and clear a lock-out."""
    with session_scope(db) as session:
        user = _user_by_name(session, username)
        _, generated = service.reset_password(session, _operator(), user.id, password)
        data = {"username": user.username, "password": generated}
    emit(
        data,
        as_json,
        lambda d: (
            f"password of {d['username']} reset"
            + (f"\npassword (shown once): {d['password']}" if d["password"] else "")
        ),
    )


def _split_routes(routes: list[str]) -> list[str]:
    return [part.strip() for route in routes for part in route.split(",") if part.strip()]


@apikeys_app.command("create")
def create_api_key(
    name: Annotated[str, typer.Option("--name", help="What the key is for.")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {ROLES} (not admin).")],
    scope: Annotated[str, typer.Option("--scope", help="Code of the jurisdiction in scope.")],
    routes: Annotated[
        list[str],
        typer.Option(
            "--routes",
            help="Allowed route prefix, e.g. /api/v1/devices (repeat, or comma-separate).",
        ),
    ],
    expires_in_days: Annotated[int | None, typer.Option("--expires-in-days")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key; its secret is printed once."""
    with session_scope(db) as session:
        created = service.create_api_key(
            session,
            _operator(),
            name=name,
            role=role,
            scope_code=scope,
            routes=_split_routes(routes),
            expires_in_days=expires_in_days,
        )
        data = {**service.api_key_dict(session, created.key), "key": created.secret}
    emit(
        data,
        as_json,
        lambda d: (
            f"created API key {d['id']} ({d['role']}, scope {d['scope_code']}, "
            f"routes {', '.join(d['routes'])})\nkey (shown once): {d['key']}"
        ),
    )


@apikeys_app.command("list")
def list_api_keys(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List API keys."""
    with session_scope(db) as session:
        keys = service.list_api_keys(session, _operator(), include_revoked=include_revoked)
        data = [service.api_key_dict(session, key) for key in keys]
    emit(
        data,
        as_json,
        lambda rows: (
            "\n".join(
                f"{r['id']}  {r['name']:<30} {r['role']:<17} {r['scope_code']:<12} "
                f"{','.join(r['routes'])}{' REVOKED' if r['revoked_at'] else ''}"
                for r in rows
            )
            or "no API keys"
        ),
    )


@apikeys_app.command("revoke")
def revoke_api_key(
    key_id: Annotated[str, typer.Argument(metavar="ID", help="Id of the key (fgk_<id>_...).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke an API key now."""
    if key_id.startswith("fgk_"):
        key_id = key_id[4:].split("_", 1)[0]
    with session_scope(db) as session:
        key: ApiKey = service.revoke_api_key(session, _operator(), key_id)
        data = service.api_key_dict(session, key)
    emit(data, as_json, lambda d: f"revoked API key {d['id']} ({d['name']})")
