"""SQLAlchemy 2 engine, sessions and the declarative base shared by every context.

SQLite runs in WAL mode with foreign keys on; PostgreSQL through psycopg 3. Timestamps are
stored as UTC and always come back timezone-aware (:class:`UTCDateTime`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec
from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from firegrid.core.settings import normalise_database_url

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that refuses naive input and returns aware values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: every timestamp must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_JSON_ENCODER = msgspec.json.Encoder()


def json_text(value: Any) -> str:
    """JSON columns are encoded with msgspec: several times faster than ``json.dumps`` on
    the hot paths (device state rows, event values, alarm histories), same JSON."""
    return _JSON_ENCODER.encode(value).decode()


def json_value(text: str | bytes) -> Any:
    """Decode a JSON column with msgspec; rows written by ``json.dumps`` may hold ``NaN`` or
    ``Infinity`` tokens, which only the standard library reads."""
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


PG_CONNECT_TIMEOUT_S = 5


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url`` with the per-dialect settings firegrid relies on."""
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        memory = ":memory:" in url or url in ("sqlite://", "sqlite+pysqlite://")
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_serializer=json_text,
            json_deserializer=json_value,
            **({"poolclass": StaticPool} if memory else {}),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        # an unreachable server fails a request in seconds (the API answers 503), never hangs
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S},
        pool_size=10,
        max_overflow=20,
        json_serializer=_JSON_ENCODER.encode,  # psycopg takes the bytes as they are
        json_deserializer=json_value,
    )


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    prefix = "sqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        Path(url[len(prefix) :]).expanduser().parent.mkdir(parents=True, exist_ok=True)


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_database_url(url)
        self.engine = make_engine(self.url, echo=echo)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
