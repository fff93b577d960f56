"""``FIREGRID_MAP_TILE_URL`` turns on the console's extra XYZ layer: it is a real setting
(listed by ``firegrid settings``), reaches ``window.FIREGRID_CONFIG`` and opens the image CSP
to the tile host only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.api.headers import console_csp
from firegrid.core.settings import Settings
from firegrid.web.serve import install_console

TILES = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"


def test_the_tile_url_setting_reaches_the_console_and_its_csp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIREGRID_MAP_TILE_URL", TILES)
    monkeypatch.setenv("FIREGRID_MAP_TILE_ATTRIBUTION", "© example")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}")
    root = tmp_path / "static"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>console</title>", encoding="utf-8")
    app = FastAPI()
    app.state.settings = settings
    install_console(app, static_dir=root)
    text = TestClient(app).get("/console-config.js").text
    config = json.loads(text.removeprefix("window.FIREGRID_CONFIG = ").rstrip(";\n"))
    assert config == {"tileUrl": TILES, "tileAttribution": "© example"}
    assert "img-src 'self' data: blob: https://*.tiles.example.org" in console_csp(settings)


def test_without_the_setting_there_is_no_extra_layer(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}")
    assert settings.map_tile_url == ""
    assert "example" not in console_csp(settings)
