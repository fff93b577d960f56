"""Pre-incident plans in Debian's Chromium (Playwright) against a real server:

* a fire officer (the admin here) opens a key unit's plan in the console, edits the
  tactics, draws a staging area on the map, saves a draft, reviews and publishes it, and
  attaches a floor plan;
* a unit is dispatched to that planned venue and the crew's phone page (390 px) shows the
  plan: the new tactics, the control room, the live devices, the floor plan image.

The demo city's plans are synthetic (``firegrid.preplans.demo``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from tests.conftest import service_missing
from tests.web.test_console_e2e import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PASSWORDS,
    PHONE,
    PNG_1X1,
    shot,
)

pytestmark = pytest.mark.browser
WAIT_MS = 45000  # a shared, loaded 2-core machine


@dataclass
class PlanCity:
    base: str
    db: Database
    settings: Settings
    venue_id: int
    venue_lon: float
    venue_lat: float
    console_errors: list[str]


@pytest.fixture(scope="module")
def pcity(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlanCity]:
    if not Path(CHROMIUM).exists():
        service_missing("chromium (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        service_missing("playwright (pip install playwright)")
    from firegrid.api.app import create_app
    from firegrid.places.models import Venue
    from firegrid.preplans.demo import generate_preplans
    from firegrid.preplans.models import Preplan
    from tests.alarms.live import live_server
    from tests.web.test_console_e2e import _build_city

    tmp = tmp_path_factory.mktemp("preplans")
    db, settings, _found = _build_city(tmp)
    assert generate_preplans(db, seed=7)["plans"] > 0
    with db.session() as session:
        venue = session.scalars(
            select(Venue).join(Preplan, Preplan.venue_id == Venue.id).order_by(Venue.id)
        ).first()
        assert venue is not None
        venue_id, lon, lat = venue.id, venue.lon, venue.lat
    app = create_app(settings, db)
    try:
        with live_server(app) as base:
            yield PlanCity(base, db, settings, venue_id, lon, lat, [])
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def browser(pcity: PlanCity) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def signed_in(browser: Any, pcity: PlanCity, viewport: dict[str, int], who: str) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("pageerror", lambda exc: pcity.console_errors.append(f"[{who}] pageerror {exc}"))
    page.goto(pcity.base + "/")
    page.fill("#username", who)
    page.fill("#password", PASSWORDS[who])
    page.click("#login-submit")
    page.wait_for_selector(".topbar")
    return page


def token(pcity: PlanCity, who: str) -> dict[str, str]:
    login = httpx.post(
        pcity.base + "/api/v1/auth/login",
        json={"username": who, "password": PASSWORDS[who]},
        timeout=15,
    )
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_officer_publishes_and_a_dispatched_crew_sees_the_plan(
    browser: Any, pcity: PlanCity, tmp_path: Path
):
    officer = signed_in(browser, pcity, DESKTOP, "admin")
    officer.goto(f"{pcity.base}/#/preplans/venue/{pcity.venue_id}")
    officer.wait_for_selector("#plan-tactics")
    officer.fill("#plan-tactics", "一号车占北侧消火栓，二号车登高")
    officer.click("[data-kind=staging_area]")
    officer.wait_for_selector(
        "#preplan-map.picking, #preplan-map .picking, .picking", state="attached"
    )
    box = officer.locator("#preplan-map").bounding_box()
    officer.mouse.click(box["x"] + box["width"] / 2 + 30, box["y"] + box["height"] / 2)
    officer.wait_for_selector("[data-testid=plan-features] li >> nth=1", state="attached")
    officer.fill("#plan-note", "浏览器测试修改")
    officer.click("#plan-save")
    officer.wait_for_selector("#plan-review")
    officer.click("#plan-review")
    officer.wait_for_selector("#plan-publish")
    officer.click("#plan-publish")
    officer.wait_for_selector("[data-testid=plan-versions] >> text=v2")
    floor_plan = tmp_path / "一层平面图.png"
    floor_plan.write_bytes(PNG_1X1)
    # The editor re-renders after publishing; the file chosen meanwhile stays chosen.
    officer.set_input_files("#plan-file", str(floor_plan))
    officer.click("#plan-upload")
    officer.wait_for_selector(".plan-image, .toast-error", state="attached")
    errors = [e for e in officer.locator(".toast-error").all_inner_texts() if "保存" not in e]
    assert not errors, errors
    officer.wait_for_selector(".plan-image", state="attached")
    shot(officer, "preplans-editor-desktop")
    with pcity.db.session() as session:
        from firegrid.preplans.models import Preplan

        plan = session.scalars(select(Preplan).where(Preplan.venue_id == pcity.venue_id)).one()
        assert plan.published_version == 2

    # a 119 call at the planned venue, the recommended units sent
    h = token(pcity, "dispatcher")
    call = httpx.post(
        pcity.base + "/api/v1/calls",
        headers=h,
        json={
            "lon": pcity.venue_lon,
            "lat": pcity.venue_lat,
            "incident_type": "building_fire",
            "level": 1,
            "venue_id": pcity.venue_id,
            "auto": True,
        },
        timeout=30,
    )
    assert call.status_code == 201, call.text
    incident_id = call.json()["incident_id"]
    sent = httpx.post(
        f"{pcity.base}/api/v1/incidents/{incident_id}/dispatch", headers=h, json={}, timeout=60
    )
    assert sent.status_code == 200, sent.text
    vehicle_id = sent.json()["assignments"][0]["vehicle_id"]

    crew = signed_in(browser, pcity, PHONE, "dispatcher")
    crew.goto(f"{pcity.base}/#/crew/{vehicle_id}")
    plan_el = crew.wait_for_selector("[data-testid=crew-plan]")
    text = plan_el.inner_text()
    assert "一号车占北侧消火栓" in text  # the version just published
    assert "首层消防控制室" in text
    crew.wait_for_selector("[data-testid=crew-plan] .plan-image")
    crew.locator("[data-testid=crew-plan] .plan-image").first.scroll_into_view_if_needed()
    # the floor plan loads through the crew's own route (a broken image never gets a width)
    crew.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=crew-plan] .plan-image')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    width = crew.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the crew page scrolls sideways ({width} px)"
    shot(crew, "crew-preplan-phone")
    assert not pcity.console_errors, pcity.console_errors
