"""Warm start: the API loads the travel-time engine when it starts — restoring the station
trees from their cache after a restart — reports "warming" (503 on readiness) until then,
and the first recommendation builds nothing."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.geo import service
from tests.dispatch.city import DCity
from tests.dispatch.test_api import headers


def _restart() -> None:
    """What a new process starts with: no engine in memory (the disk caches stay)."""
    service._contexts.clear()
    service.BUILDS.clear()


def _first_recommendation(client: TestClient, h: dict[str, str]) -> dict:
    call = client.post(
        "/api/v1/calls",
        json={"lon": 113.25, "lat": 23.075, "incident_type": "building_fire", "auto": True},
        headers=h,
    )
    assert call.status_code == 201, call.text
    rec = client.get(f"/api/v1/incidents/{call.json()['incident_id']}/recommendation", headers=h)
    assert rec.status_code == 200, rec.text
    return rec.json()


def test_the_engine_is_loaded_at_start_and_restored_from_the_cache_after_a_restart(
    dcity: DCity, db: Database, settings: Settings
):
    h = headers(db, settings, dcity, "dispatcher", "city")
    # first start ever: the station trees are computed once and saved
    _restart()
    app = create_app(settings, db)
    # hold the engine lock: the warm-up thread waits, and the service says so
    held = service._lock.acquire()
    try:
        with TestClient(app) as client:
            assert client.get("/healthz").json()["status"] == "warming"
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["error"]["code"] == "warming"
            service._lock.release()
            held = False
            assert app.state.engine_warmup.wait(300)
            assert client.get("/readyz").status_code == 200
    finally:
        if held:
            service._lock.release()
    assert app.state.engine_warmup.state == "ready"
    assert service.BUILDS == {"engine": 1, "station_trees_computed": 1}
    first = service.loaded_context(db)
    assert first is not None
    trees = first.engine.facilities(service.STATIONS).times_s.copy()

    # restart: a new process loads the engine at start, the trees from the cache
    _restart()
    app = create_app(settings, db)
    with TestClient(app) as client:
        assert app.state.engine_warmup.wait(300)
        assert client.get("/healthz").json()["status"] == "ok"
        assert client.get("/readyz").status_code == 200
        assert service.BUILDS == {"engine": 1, "station_trees_restored": 1}
        context = service.loaded_context(db)
        assert context is not None
        np.testing.assert_array_equal(context.engine.facilities(service.STATIONS).times_s, trees)
        # the first recommendation after the restart builds nothing
        body = _first_recommendation(client, h)
        assert body["units"]
        assert service.BUILDS == {"engine": 1, "station_trees_restored": 1}
        assert service.loaded_context(db) is context


def test_without_warm_start_the_engine_is_built_on_first_use(
    dcity: DCity, db: Database, settings: Settings
):
    _restart()
    app = create_app(settings.model_copy(update={"warm_engine": False}), db)
    h = headers(db, settings, dcity, "dispatcher", "city")
    with TestClient(app) as client:
        assert service.loaded_context(db) is None
        assert client.get("/readyz").status_code == 200
        _first_recommendation(client, h)
        assert service.BUILDS["engine"] == 1
