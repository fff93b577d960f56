"""With the database down, the API answers 503 with the error envelope and a Retry-After —
never a 500 or a hang — and /readyz says not ready."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from firegrid.api.app import create_app
from firegrid.core.settings import Settings

DOWN = "postgresql+psycopg://postgres@127.0.0.1:1/firegrid"


def test_a_request_while_the_database_is_down_is_503_with_the_envelope(tmp_path: Path) -> None:
    settings = Settings(database_url=DOWN, data_dir=tmp_path, warm_engine=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        login = client.post("/api/v1/auth/login", json={"username": "a", "password": "b" * 12})
        assert login.status_code == 503, login.text
        assert login.json()["error"]["code"] == "database_unavailable"
        assert login.headers["Retry-After"] == "5"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "error" in ready.json()
