"""The shared kernel: settings, URLs, migrations in sync with the models, timestamps."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import text

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings, normalise_database_url
from firegrid.places.models import Jurisdiction
from firegrid.schema import metadata


def test_plain_postgresql_urls_use_psycopg() -> None:
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIREGRID_DATABASE_URL", "postgresql://x@127.0.0.1/y")
    monkeypatch.setenv("FIREGRID_METRIC_EPSG", "4526")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://x@127.0.0.1/y"
    assert settings.metric_epsg == 4526


def test_default_database_is_a_sqlite_file_in_the_user_data_dir() -> None:
    url = Settings().database_url
    assert url.startswith("sqlite:///")
    assert url.endswith("firegrid.db")


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_device_state_maps_compression(db: Database) -> None:
    """PostgreSQL compresses the device-state alarm/fault maps with lz4 (migration 0009)."""
    with db.engine.connect() as connection:
        if db.is_sqlite:
            assert connection.execute(text("SELECT count(*) FROM device_state")).scalar() == 0
            return
        rows = connection.execute(
            text(
                "SELECT attname, attcompression FROM pg_attribute "
                "WHERE attrelid = 'device_state'::regclass AND attname IN ('alarms', 'faults')"
            )
        ).all()
    assert dict(rows) == {"alarms": "l", "faults": "l"}


def test_naive_timestamps_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="timezone-aware"), db.session() as session:
        session.add(
            Jurisdiction(
                code="1",
                level="city",
                path="/1/",
                name_zh="市",
                name_en="City",
                center_lon=113.0,
                center_lat=23.0,
                created_at=datetime(2026, 1, 1),  # noqa: DTZ001
            )
        )


def test_timestamps_come_back_aware(db: Database) -> None:
    with db.session() as session:
        session.add(
            Jurisdiction(
                code="1",
                level="city",
                path="/1/",
                name_zh="市",
                name_en="City",
                center_lon=113.0,
                center_lat=23.0,
            )
        )
    with db.session() as session:
        row = session.query(Jurisdiction).one()
        assert row.created_at.tzinfo is not None


def test_health_ready_and_error_envelope(settings: Settings, db: Database) -> None:
    client = TestClient(create_app(settings, db))
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["schema_revision"]
    missing = client.get("/api/v1/no-such-route")
    assert missing.status_code == 404
    assert set(missing.json()["error"]) == {
        "code",
        "message",
        "details",
        "message_code",
        "message_params",
    }
    assert client.get("/api/docs").status_code == 200


def test_ready_reports_a_database_without_schema(tmp_path: object) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/empty.db")
    client = TestClient(create_app(settings))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_ready"


def test_json_columns_round_trip_with_msgspec_and_read_old_nan_rows() -> None:
    import math

    from firegrid.core.db import json_text, json_value

    value = {"名称": "三楼", "n": 3, "x": 1.5, "nested": [1, None, True]}
    assert json_value(json_text(value)) == value
    assert json_value(b'{"a": 1}') == {"a": 1}
    assert math.isnan(json_value('{"v": NaN}')["v"])  # written by json.dumps before msgspec
