"""The map at city scale, in Debian's Chromium against the real app (issue 19).

The tiny demo city (600 venues, 300 hydrants, a 3,000-node road network) on a live
uvicorn server; the monitoring-centre operator's monitor view. Checked: the first load's
compressed bytes stay under the 500 KB budget and every layer is fetched once; the venues
come as clusters at city zoom and as single venues at zoom 16; town names are drawn as
labels; a layer the server cut shows the translated notice with "n of m".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firegrid.core.db import Database
from tests.conftest import service_missing
from tests.web.console_load import measure_first_load, sign_in
from tests.web.test_console_e2e import CHROMIUM, CHROMIUM_ARGS, PASSWORDS, SHOTS, _build_city

pytestmark = pytest.mark.browser

BUDGET_BYTES = 500_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Database]]:
    if not Path(CHROMIUM).exists():
        service_missing("chromium (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        service_missing("playwright (pip install playwright)")
    from firegrid.api.app import create_app
    from tests.alarms.live import live_server

    db, settings, _ = _build_city(tmp_path_factory.mktemp("consolemap"))
    _name_a_road(db)
    try:
        with live_server(create_app(settings, db)) as base:
            yield base, db
    finally:
        db.dispose()


ROAD_NAME = "宏图路"
ROAD_AT = (113.75, 23.02)


def _name_a_road(db: Database) -> None:
    """The demo network has no names; give the active one a named road, as an OSM import does."""
    from firegrid.geo.models import RoadLabelRow
    from firegrid.geo.store import active_record

    with db.session() as session:
        network_id = active_record(session).id
        session.add(
            RoadLabelRow(
                network_id=network_id,
                label_index=0,
                name=ROAD_NAME,
                road_class=4,
                lon=ROAD_AT[0],
                lat=ROAD_AT[1],
                length_m=800.0,
            )
        )
        session.commit()


@pytest.fixture(scope="module")
def browser(server: tuple[str, Database]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def monitor_page(browser: Any, base: str) -> tuple[Any, list[str]]:
    context = browser.new_context(
        viewport={"width": 1600, "height": 1000}, locale="zh-CN", timezone_id="UTC"
    )
    sign_in(context, base, "monitor", PASSWORDS["monitor"])
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/#/monitor")
    page.wait_for_selector("[data-testid=map][data-ready=true]")
    return page, errors


def map_data(page: Any) -> dict[str, str]:
    data: dict[str, str] = page.evaluate(
        "() => ({...document.querySelector('[data-testid=map]').dataset})"
    )
    return data


def set_view(page: Any, lat: float, lon: float, zoom: int) -> None:
    """Move the map (through the page's own Leaflet) and wait for the layers of that view."""
    page.evaluate(
        """([lat, lon, zoom]) => {
          const el = document.querySelector('[data-testid=map]');
          el.dataset.ready = 'false';
          el.firegridMap.setView([lat, lon], zoom, {animate: false});
        }""",
        [lat, lon, zoom],
    )
    page.wait_for_selector("[data-testid=map][data-ready=true]")


def test_first_load_stays_under_the_budget_and_fetches_each_layer_once(
    browser: Any, server: tuple[str, Database]
) -> None:
    base, _ = server
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    sign_in(context, base, "monitor", PASSWORDS["monitor"])
    load = measure_first_load(context, base, settle_ms=800)
    context.close()
    report = json.dumps(load.as_dict(), indent=1)
    assert 0 < load.bytes_total <= BUDGET_BYTES, report
    for layer in ("roads", "venues", "stations", "extent"):
        assert load.fetch_counts.get(f"/api/v1/map/{layer}") == 1, report
    # no map layer asked twice (one boundary request per level drawn at this zoom)
    assert not [url for url in load.repeated if "/api/v1/map/" in url], report
    assert load.fetch_counts.get("/api/v1/map/boundaries", 0) <= 3, report
    # the monitor does not ship the other views' code
    scripts = [p for p in load.by_path if p.endswith(".js") and p.startswith("/assets/")]
    assert not any("/dispatch-" in p or "/planning-" in p for p in scripts), scripts


def test_clusters_at_city_zoom_split_at_street_zoom_and_labels(
    browser: Any, server: tuple[str, Database]
) -> None:
    base, _ = server
    page, errors = monitor_page(browser, base)
    city = map_data(page)
    assert int(city.get("venueClusters", "0")) > 0, city
    clusters = page.locator(".map-cluster-venue")
    assert clusters.count() == int(city["venueClusters"])
    counts = [int(text) for text in clusters.all_inner_texts()]
    assert min(counts) >= 2
    # every venue of the city is in a cluster or shown alone: nothing is dropped
    assert sum(counts) + int(city["venuePoints"]) == 600
    assert int(city.get("labels", "0")) >= 1, city  # the town names
    labels = page.locator(".map-label-town").all_inner_texts()
    assert labels
    assert all(labels)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "map-city-clusters-desktop.png"))
    # a click on a cluster zooms to its members
    zoom_before = page.evaluate(
        "() => document.querySelector('[data-testid=map]').firegridMap.getZoom()"
    )
    page.evaluate("() => { document.querySelector('[data-testid=map]').dataset.ready = 'false'; }")
    clusters.first.click()
    page.wait_for_selector("[data-testid=map][data-ready=true]")
    zoom_after = page.evaluate(
        "() => document.querySelector('[data-testid=map]').firegridMap.getZoom()"
    )
    assert zoom_after > zoom_before
    # at street zoom the same place shows single venues, no clusters
    centre = page.evaluate(
        "() => { const c = document.querySelector('[data-testid=map]').firegridMap.getCenter();"
        " return [c.lat, c.lng]; }"
    )
    set_view(page, centre[0], centre[1], 16)
    street = map_data(page)
    assert street.get("venueClusters") == "0", street
    assert int(street.get("venuePoints", "0")) > 0, street
    assert page.locator(".map-cluster-venue").count() == 0
    assert errors == []
    page.context.close()


def test_road_names_are_written_at_street_zoom(browser: Any, server: tuple[str, Database]) -> None:
    base, _ = server
    page, errors = monitor_page(browser, base)
    assert page.locator(".map-label-road").count() == 0  # not at city zoom
    set_view(page, ROAD_AT[1], ROAD_AT[0], 16)
    assert page.locator(".map-label-road").all_inner_texts() == [ROAD_NAME]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "map-street-labels-desktop.png"))
    assert errors == []
    page.context.close()


def test_the_notice_says_what_a_cut_layer_left_out(
    browser: Any, server: tuple[str, Database]
) -> None:
    base, _ = server
    context = browser.new_context(
        viewport={"width": 1600, "height": 1000}, locale="zh-CN", timezone_id="UTC"
    )
    sign_in(context, base, "monitor", PASSWORDS["monitor"])

    def cut(route: Any) -> None:
        # the real answer, then cut as the server cuts a crowded view (limit reached)
        response = route.fetch()
        body = response.json()
        body["features"] = [f for f in body["features"] if not f["properties"].get("cluster")][:3]
        body.update(truncated=True, total=12345, clustered=False)
        route.fulfill(response=response, body=json.dumps(body))

    context.route("**/api/v1/map/venues?*", cut)
    page = context.new_page()
    page.goto(base + "/#/monitor")
    page.wait_for_selector("[data-testid=map][data-ready=true]")
    notice = page.locator("[data-testid=map-notice]")
    notice.wait_for(state="visible")
    text = notice.inner_text()
    for part in ("3 / 12345", "单位/场所", "放大"):
        assert part in text, text
    context.unroute("**/api/v1/map/venues?*")
    context.close()


def test_layer_routes_answer_304_to_a_known_etag(server: tuple[str, Database]) -> None:
    import httpx

    base, _ = server
    with httpx.Client(base_url=base) as client:
        token = client.post(
            "/api/v1/auth/login", json={"username": "monitor", "password": PASSWORDS["monitor"]}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        extent = client.get("/api/v1/map/extent", headers=auth).json()
        bbox = ",".join(str(v) for v in extent["bbox"])
        for path in (
            f"/api/v1/map/roads?bbox={bbox}&zoom=12",
            f"/api/v1/map/venues?bbox={bbox}&zoom=11",
            "/api/v1/map/boundaries?level=town&zoom=11",
            f"/api/v1/map/hydrants?bbox={bbox}&zoom=11",
        ):
            first = client.get(path, headers=auth)
            assert first.status_code == 200, path
            assert first.headers["cache-control"] == "private, no-cache", path
            if len(first.content) >= 1024:
                assert first.headers["content-encoding"] == "gzip", path
            again = client.get(path, headers={**auth, "If-None-Match": first.headers["etag"]})
            assert again.status_code == 304, path
            assert again.content == b""
