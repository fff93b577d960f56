"""Saving and loading the database itself: SQLite through its online backup API (consistent
while other processes write), PostgreSQL through ``pg_dump``/``pg_restore`` in the custom
format. Also the facts a manifest records: Alembic revisions and row counts per table."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from firegrid.backup.errors import BackupError

PG_TIMEOUT_S = 3600


def backend_of(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {name!r}")


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def revisions(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return []
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return sorted(str(row[0]) for row in rows)
    finally:
        engine.dispose()


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = sorted(inspect(connection).get_table_names())
            return {
                name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
                for name in names
            }
    finally:
        engine.dispose()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (which goes in ``PGPASSWORD``, never on argv)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed",
            hint="install the PostgreSQL client (Debian: apt-get install postgresql-client)",
            not_ready=True,
        )
    return found


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(  # noqa: S603 - fixed tool, arguments built here
        argv, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else done.returncode}")


def save(url: str, target: Path) -> None:
    """Write the database at ``url`` to ``target``."""
    if backend_of(url) == "sqlite":
        source = sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"no SQLite database at {source}")
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return
    uri, env = _libpq(url)
    _run(
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), uri],
        env,
        "pg_dump",
    )


def is_empty(url: str) -> bool:
    """Whether the database holds no tables at all (a fresh target)."""
    if backend_of(url) == "sqlite" and not sqlite_path(url).exists():
        return True
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return not inspect(connection).get_table_names()
    finally:
        engine.dispose()


def load(url: str, source: Path, *, replace: bool) -> None:
    """Load ``source`` into the database at ``url`` (replacing its content when ``replace``)."""
    if backend_of(url) == "sqlite":
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(path) as dst:
            src.backup(dst)
        return
    uri, env = _libpq(url)
    argv = [_pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction"]
    if replace:
        argv += ["--clean", "--if-exists"]
    _run([*argv, "--dbname", uri, str(source)], env, "pg_restore")
