"""Shared fixtures: a migrated database on SQLite or PostgreSQL, and an app client.

``FIREGRID_TEST_DB=sqlite`` (default) or ``postgres`` selects the database the suite runs
on; CI runs the suite once with each. PostgreSQL tests create their own database on
127.0.0.1:5432 and drop it afterwards. In CI (``CI=true``) a missing service is a failure.
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from firegrid.alarms.feed import LISTENER_APPLICATION_NAME
from firegrid.core.db import Database
from firegrid.core.migrate import upgrade
from firegrid.core.settings import Settings

PG_ADMIN_URL = os.environ.get(
    "FIREGRID_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Caches and files the code under test writes (the ingest registry snapshot, the travel-time
# engine's station trees, archives) go to a directory of this run, never the user's own
# data directory; subprocesses inherit it.
_DATA_DIR = tempfile.mkdtemp(prefix="firegrid-test-data-")
os.environ.setdefault("FIREGRID_DATA_DIR", _DATA_DIR)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


#: the accepted spellings of ``FIREGRID_TEST_DB``
_BACKENDS = {"sqlite": "sqlite", "postgres": "postgres", "postgresql": "postgres"}


def test_backend() -> str:
    value = os.environ.get("FIREGRID_TEST_DB", "sqlite").strip().lower()
    if value not in _BACKENDS:  # a typo must not quietly run the suite on SQLite
        raise pytest.UsageError(
            f"FIREGRID_TEST_DB={value!r} is not a test database: use sqlite or postgres"
        )
    return _BACKENDS[value]


test_backend.__test__ = False  # type: ignore[attr-defined]


def service_missing(what: str) -> None:
    """Fail in CI, skip on a developer machine without the service."""
    if IN_CI:
        pytest.fail(f"{what} is not reachable, and CI needs it")
    pytest.skip(f"{what} is not reachable")


def _create_pg_database() -> tuple[str, str]:
    name = f"firegrid_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001
        service_missing(f"PostgreSQL at {PG_ADMIN_URL} ({type(exc).__name__})")
    return name, _pg_url(name)


def _pg_url(name: str) -> str:
    """The URL of database ``name`` on the test server."""
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_pg_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_database_url(tmp_path: Path) -> Iterator[str]:
    if test_backend() == "postgres":
        name, url = _create_pg_database()
        try:
            yield url
        finally:
            _drop_pg_database(name)
    else:
        yield f"sqlite:///{tmp_path / 'firegrid.db'}"


_templates: dict[str, str] = {}


def _template(backend: str) -> str:
    """A database migrated once per session (much faster than running every migration
    per test): the shared PostgreSQL test database, or a SQLite file copied per test."""
    if backend not in _templates:
        if backend == "postgres":
            name, url = _create_pg_database()
            upgrade(url)
            _templates[backend] = name
        else:
            path = Path(tempfile.mkdtemp(prefix="firegrid-template-")) / "template.db"
            upgrade(f"sqlite:///{path}")
            _templates[backend] = str(path)
    return _templates[backend]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from firegrid.alarms.feed import stop_listeners

    stop_listeners()  # before their database is dropped under them
    for engine in _resetters.values():
        engine.dispose()
    _resetters.clear()
    template = _templates.pop("postgres", None)
    if template is not None:
        _drop_pg_database(template)
    sqlite_template = _templates.pop("sqlite", None)
    if sqlite_template is not None:
        shutil.rmtree(Path(sqlite_template).parent, ignore_errors=True)


#: one connection per test database for the resets (connecting took a third of a reset)
_resetters: dict[str, Engine] = {}


def _reset_pg_database(name: str) -> str:
    """Empty every table of the shared PostgreSQL test database (sequences restarted).

    Far cheaper than a database per test, and done in one round trip of one kept
    connection. Connections a test left behind are closed first (not the process's
    alarm-feed listener: a LISTEN holds no rows, and killing it only made it log a
    reconnection, into a finished test's closed capture); only the tables that hold rows
    are emptied (a DELETE of each of the ~90 empty tables was most of a reset); every
    sequence is restarted; ``session_replication_role = replica`` lets the DELETE pass the
    audit log's append-only trigger, which refuses it for everyone else.
    """
    url = _pg_url(name)
    engine = _resetters.get(name)
    if engine is None:
        engine = _resetters[name] = create_engine(
            url, isolation_level="AUTOCOMMIT", pool_size=1, pool_pre_ping=True
        )
    with engine.connect() as connection:
        connection.exec_driver_sql(_reset_sql(name))
    return url


@functools.cache
def _reset_sql(name: str) -> str:
    from firegrid.schema import metadata

    # children first, though the replica role skips the foreign keys' checks anyway
    tables = ", ".join(f"'{t.name}'" for t in reversed(metadata.sorted_tables))
    listener = LISTENER_APPLICATION_NAME.replace("'", "''")
    return f"""
DO $$
DECLARE
    t text;
    found boolean;
    s record;
BEGIN
    -- the connections a test left behind, waited for (up to 5 s each) until gone: one
    -- dying mid-insert would take an id from a sequence restarted below
    PERFORM pg_terminate_backend(pid, 5000) FROM pg_stat_activity
        WHERE datname = '{name}' AND pid <> pg_backend_pid()
        AND application_name <> '{listener}';
    SET LOCAL session_replication_role = replica;
    FOREACH t IN ARRAY ARRAY[{tables}]::text[] LOOP
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || quote_ident(t) || ')' INTO found;
        IF found THEN
            EXECUTE 'DELETE FROM ' || quote_ident(t);
        END IF;
    END LOOP;
    -- every sequence (pg_sequences cannot pick the used ones: a bulk load's
    -- setval(…, false) leaves its last_value null)
    FOR s IN SELECT c.oid::regclass AS seq FROM pg_class c WHERE c.relkind = 'S' LOOP
        PERFORM setval(s.seq, 1, false);
    END LOOP;
END $$
"""


#: Held by every test that subscribes through the machine's Mosquitto. A subscriber takes
#: the whole device topic tree (``firegrid/devices/+/+/events``), and CI runs the SQLite and
#: PostgreSQL passes side by side: without the lock one pass's subscriber also records the
#: other pass's messages (same simulated device ids), and counts of stored rows go wrong.
MQTT_LOCK_PATH = Path(tempfile.gettempdir()) / "firegrid-tests-mqtt-broker.lock"


@pytest.fixture
def mqtt_broker() -> Iterator[None]:
    """Mosquitto on 127.0.0.1:1883, used by this test alone among this machine's test runs."""
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
    except OSError:
        service_missing("Mosquitto at 127.0.0.1:1883")
    with MQTT_LOCK_PATH.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """URL of an empty, migrated database on the selected backend.

    PostgreSQL: one database migrated per session and emptied before each test. SQLite: a
    copy of a file migrated once per session.
    """
    if test_backend() == "postgres":
        yield _reset_pg_database(_template("postgres"))
    else:
        target = tmp_path / "firegrid.db"
        shutil.copyfile(_template("sqlite"), target)
        yield f"sqlite:///{target}"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(env="test", database_url=database_url, data_dir=tmp_path / "data")


DB_FIXTURES = {"database_url", "db", "settings", "client", "demo_db"}


#: Backend-independent test files (their city is always SQLite) that run on the PostgreSQL
#: pass instead of the SQLite one when both passes run side by side (CI): the SQLite pass
#: holds every pure test and was the longer one by minutes. Alone, SQLite runs them too.
ON_THE_POSTGRES_PASS = frozenset(
    {"tests/web/test_phone_a11y_e2e.py", "tests/web/test_console_e2e.py"}
)


def _moved(item: pytest.Item) -> bool:
    return item.nodeid.split("::", 1)[0] in ON_THE_POSTGRES_PASS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests that touch a database (and the files of
    ``ON_THE_POSTGRES_PASS`` when the passes are split, ``FIREGRID_TEST_SPLIT=1``).

    Pure tests (codecs, engines, transforms) do not depend on the backend and already ran
    on the SQLite pass; running them twice would only double CI time. The moved files run
    first on the PostgreSQL pass: the SQLite pass's own browser tests (``tests/web``) run at
    its end, so the two passes never drive a browser each at the same time.
    """
    split = os.environ.get("FIREGRID_TEST_SPLIT") == "1"
    keep, drop = [], []
    if test_backend() != "postgres":
        if not split:
            return
        for item in items:
            (drop if _moved(item) else keep).append(item)
    else:
        for item in items:
            names = set(getattr(item, "fixturenames", ()))
            wanted = names & DB_FIXTURES or item.get_closest_marker("postgres")
            (keep if wanted or (split and _moved(item)) else drop).append(item)
        if split:
            keep.sort(key=lambda item: not _moved(item))  # stable: files stay in order
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
