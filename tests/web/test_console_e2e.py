"""End to end: the built console in Debian's Chromium (Playwright) against the real app.

One small demo city, one uvicorn server on 127.0.0.1, the alarm services (event-log
consumer, correlator, timers) in a background loop, one browser. Each role signs in through
the login page; a fire alarm appended to the durable event log (as an ingest adapter does)
arrives on the live feed; the operator verifies and forwards it; the
grid worker answers the on-site check on a phone; the dispatcher takes a call, opens an
incident and sends the recommended units; a crew moves its status; the analyst views
coverage. Every view is screenshot at desktop and phone size; the map must not be blank and
the browser console must stay free of errors.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from tests.conftest import service_missing

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("FIREGRID_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
PASSWORDS = {
    "admin": "firegrid-chief-2026",
    "monitor": "firegrid-alarms-2026",
    "supervisor": "firegrid-policy-2026",
    "dispatcher": "firegrid-119-call-2026",
    "gridworker": "firegrid-patrol-2026",
    "analyst": "firegrid-risk-2026",
}
DOCS_PICTURES = (
    "monitor-alarm-desktop",
    "monitor-new-fire-desktop",
    "dispatch-recommend-desktop",
    "dispatch-incident-desktop",
    "planning-desktop",
    "task-check-phone",
    "crew-phone",
)
# A 1x1 PNG: the grid worker's "photo".
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5d3b6a60000000049454e44ae426082"
)


@dataclass
class City:
    base: str
    db: Database
    settings: Settings
    venue_id: int
    device_id: int
    venue_path: str
    address: str
    services: AlarmServices
    console_errors: list[str] = field(default_factory=list)


def _build_city(tmp: Path) -> tuple[Database, Settings, dict[str, Any]]:
    from firegrid.accounts.demo import create_demo_users
    from firegrid.core.migrate import upgrade
    from firegrid.demo import DemoSpec, build_demo_city, demo_road_network
    from firegrid.demo.run import demo_scope_codes
    from firegrid.devices.models import Device
    from firegrid.geo.store import save_network
    from firegrid.places.models import Jurisdiction, StandardAddress, Venue
    from tests.accounts.city import use_cheap_hasher

    use_cheap_hasher()
    url = f"sqlite:///{tmp / 'console.db'}"
    settings = Settings(env="test", database_url=url, data_dir=tmp / "data")
    upgrade(url)
    db = Database(url)
    spec = DemoSpec.tiny()
    network = demo_road_network(spec, 7)
    build_demo_city(db, spec, 7, network=network)
    save_network(db, network, source="demo seed=7", cache_dir=settings.data_dir)
    codes = demo_scope_codes(db)
    with db.session() as session:
        create_demo_users(session, **codes, settings=settings)
        grid = session.scalars(
            select(Jurisdiction).where(Jurisdiction.code == codes["grid_code"])
        ).one()
        row = session.execute(
            select(Venue.id, Venue.jurisdiction_path, Device.id)
            .join(Device, Device.venue_id == Venue.id)
            .where(Venue.jurisdiction_path.startswith(grid.path), Device.deleted_at.is_(None))
            .order_by(Device.kind.desc(), Venue.id)
            .limit(1)
        ).first()
        assert row is not None, "the demo grid has no venue with a device"
        address = session.scalars(
            select(StandardAddress.full_text).order_by(StandardAddress.id).limit(1)
        ).one()
    return db, settings, {"venue": row, "address": address}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    if not Path(CHROMIUM).exists():
        service_missing("chromium (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        service_missing("playwright (pip install playwright)")
    from firegrid.api.app import create_app
    from tests.alarms.live import live_server

    tmp = tmp_path_factory.mktemp("console")
    db, settings, found = _build_city(tmp)
    app = create_app(settings, db)
    venue_id, venue_path, device_id = found["venue"]
    services = AlarmServices(db, settings)
    try:
        with live_server(app) as base:
            yield City(
                base, db, settings, venue_id, device_id, venue_path, found["address"], services
            )
    finally:
        services.close()
        db.dispose()


@pytest.fixture(scope="module")
def browser(city: City) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def open_page(browser: Any, city: City, viewport: dict[str, int], who: str) -> Any:
    """A fresh context (no cookies), signed in as ``who`` through the login page."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(30000)  # the machine is shared (CI runs two passes): not a speed test

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            city.console_errors.append(f"[{who}] {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: city.console_errors.append(f"[{who}] pageerror {exc}"))
    page.goto(city.base + "/")
    page.fill("#username", who)
    page.fill("#password", PASSWORDS[who])
    page.click("#login-submit")
    page.wait_for_selector(".topbar")
    return page


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def wait_map(page: Any) -> None:
    page.wait_for_selector("[data-testid=map][data-ready=true]")
    page.wait_for_timeout(300)


def canvas_colours(page: Any) -> int:
    """Distinct colours among sampled pixels of the map's canvas (a blank map has 1)."""
    result: int = page.evaluate(
        """() => {
          const canvas = document.querySelector('[data-testid=map] .leaflet-overlay-pane canvas');
          if (!canvas || !canvas.width) return 0;
          const ctx = canvas.getContext('2d');
          const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          const seen = new Set();
          const step = 4 * 37;
          for (let i = 0; i < data.length; i += step) {
            if (data[i + 3] === 0) continue;
            seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
          }
          return seen.size;
        }"""
    )
    return result


class AlarmServices:
    """The monitoring centre's services in a background event loop, as `firegrid` runs
    them: the durable event log, its consumer (the correlator) and the alarm timers."""

    def __init__(self, db: Database, settings: Settings) -> None:
        from firegrid.alarms.consumer import run_alarm_services
        from firegrid.ingest.log_db import DatabaseEventLog

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.log = DatabaseEventLog(db)
        self._run(self.log.start())
        self.stop_event: asyncio.Event = self._run(self._event())
        self.task = asyncio.run_coroutine_threadsafe(
            run_alarm_services(db, settings, self.stop_event, event_log=self.log, poll_s=0.02),
            self.loop,
        )

    async def _event(self) -> asyncio.Event:
        return asyncio.Event()

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def append(self, events: list[Any]) -> None:
        """Events as an ingest adapter hands them over: appended to the durable log."""
        self._run(self.log.append_batch(events))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.task.result(15)
        self._run(self.log.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def colleague_task(city: City, alarm_id: int) -> None:
    """The admin, through the API, asks the grid worker for an on-site check of the alarm."""
    import httpx

    with httpx.Client(base_url=city.base, timeout=15) as client:
        login = client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]}
        )
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        sent = client.post(f"/api/v1/alarms/{alarm_id}/tasks", json={"note": ""}, headers=headers)
        assert sent.status_code == 201, sent.text


def fire_event(city: City) -> Any:
    """A fire alarm (火警) of the venue's device, as the ingest adapters normalise it."""
    from datetime import timedelta

    from firegrid.core.clock import utcnow
    from firegrid.devices.models import Device
    from firegrid.ingest.events import Component, DeviceEvent, EventKind

    now = utcnow()
    with city.db.session() as session:
        device = session.get(Device, city.device_id)
        assert device is not None
        return DeviceEvent(
            event_id=f"e2e:{time.time_ns()}",
            device_id=device.id,
            external_id=device.external_id,
            protocol=device.protocol,
            venue_id=city.venue_id,
            jurisdiction_path=city.venue_path,
            occurred_at=now - timedelta(seconds=1),
            received_at=now,
            kind=EventKind.FIRE_ALARM,
            component=Component(
                system_type=1,
                system_address=1,
                component_type=30,
                component_address=12,
                loop=1,
            ),
            values={},
        )


def test_console_end_to_end(city: City, browser: Any) -> None:
    # Monitoring centre: a fire alarm arrives live; verify it and forward it. ------------
    monitor = open_page(browser, city, DESKTOP, "monitor")
    assert monitor.locator(".nav-link").all_inner_texts()[:1] == ["监控中心"]
    wait_map(monitor)
    monitor.wait_for_selector("[data-testid=feed-status][data-state=open]")
    assert canvas_colours(monitor) >= 4, "the monitoring map is blank"
    shot(monitor, "monitor-desktop")
    city.services.append([fire_event(city)])
    item = monitor.locator(".alarm-item.kind-fire").first
    item.wait_for()
    assert monitor.locator("[data-testid=fire-banner]").is_visible()
    assert monitor.evaluate("() => Number(document.body.dataset.beeps || 0)") >= 1
    shot(monitor, "monitor-new-fire-desktop")
    item.click()
    monitor.wait_for_selector("#alarm-title")
    alarm_id = int(item.get_attribute("data-alarm-id"))
    assert monitor.locator("[data-testid=alarm-events] tbody tr").count() >= 1
    assert monitor.locator("[data-testid=alarm-devices] tbody tr").count() >= 1
    monitor.click("[data-action=acknowledge]")
    monitor.wait_for_selector(".detail-head .badge-alarmStatus-acknowledged")
    monitor.select_option("#call-outcome", "no_answer")
    monitor.click("[data-action=call]")
    monitor.wait_for_selector(".detail-head .badge-alarmStatus-verifying")
    monitor.click("[data-action=task]")
    monitor.wait_for_selector("text=网格员核查任务")
    monitor.uncheck("#confirm-forward")
    # A colleague sends another on-site check while the operator decides: the live update
    # re-renders the alarm but must keep the operator's choice (no forward to 119 yet).
    rows = "[data-testid=alarm-detail] [data-testid=alarm-tasks] tbody tr"
    before = monitor.locator(rows).count()
    colleague_task(city, alarm_id)
    monitor.wait_for_function(f"() => document.querySelectorAll('{rows}').length > {before}")
    assert not monitor.is_checked("#confirm-forward")
    monitor.click("[data-action=confirm]")
    monitor.wait_for_selector(".detail-head .badge-alarmStatus-confirmed")
    monitor.click("[data-action=forward]")
    monitor.wait_for_selector(".detail-head .badge-flag-forwarded")
    assert monitor.locator("[data-testid=alarm-transitions] tbody tr").count() >= 3
    shot(monitor, "monitor-alarm-desktop")

    # Grid worker on a phone: the on-site check with a note and a photo. ----------------
    worker = open_page(browser, city, PHONE, "gridworker")
    worker.wait_for_selector("[data-testid=task-list] [data-task-id]")
    shot(worker, "tasks-phone")
    worker.locator("[data-task-id]").first.click()
    worker.wait_for_selector("#task-submit")
    worker.check("#result-fire")
    worker.fill("#task-note", "现场确有烟雾，已疏散")
    worker.set_input_files(
        "#task-photo", files=[{"name": "scene.png", "mimeType": "image/png", "buffer": PNG_1X1}]
    )
    shot(worker, "task-check-phone")
    worker.click("#task-submit")
    worker.wait_for_selector("[data-testid=tasks-page] h2")
    worker.wait_for_function("() => location.hash === '#/tasks'")
    monitor.wait_for_selector("[data-testid=alarm-detail] >> text=已完成")
    worker.context.close()

    # Command centre: the forwarded fire and a new call, dispatch, units. ---------------
    dispatcher = open_page(browser, city, DESKTOP, "dispatcher")
    wait_map(dispatcher)
    dispatcher.click("#consume-forwards")
    dispatcher.wait_for_selector("[data-incident-id]")
    dispatcher.click("#map-pick")
    box = dispatcher.locator("#dispatch-map").bounding_box()
    dispatcher.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    dispatcher.wait_for_selector("#call-point[data-set=true]")
    dispatcher.fill("#call-number", "13800000000")
    dispatcher.fill("#call-address", city.address)
    dispatcher.click("#geocode-search")
    dispatcher.wait_for_selector("[data-testid=geocode-result] .ok")
    dispatcher.select_option("#call-type", "building_fire")
    dispatcher.fill("#call-description", "三楼冒烟")
    dispatcher.click("#call-submit")
    dispatcher.wait_for_selector("[data-action=open-incident]")
    shot(dispatcher, "dispatch-call-desktop")
    dispatcher.click("[data-action=open-incident]")
    dispatcher.wait_for_selector("#incident-title")
    dispatcher.wait_for_selector("[data-testid=recommendation] tbody tr")
    assert dispatcher.locator("[data-testid=recommendation] tbody tr").count() >= 1
    shot(dispatcher, "dispatch-recommend-desktop")
    dispatcher.click("[data-action=dispatch]")
    dispatcher.wait_for_selector("[data-testid=assigned-units] tbody tr")
    assert dispatcher.locator("[data-testid=timeline] >> text=调派").count() >= 1
    assert canvas_colours(dispatcher) >= 4, "the dispatch map is blank"
    shot(dispatcher, "dispatch-incident-desktop")
    dispatcher.click("#tab-units")
    dispatcher.wait_for_selector("[data-testid=units-table] .badge-unitStatus-dispatched")
    shot(dispatcher, "dispatch-units-desktop")
    incident_hash = dispatcher.evaluate("() => location.hash")
    dispatcher.context.close()

    # A crew on a phone: its assignment, route and status buttons. -----------------------
    crew = open_page(browser, city, PHONE, "dispatcher")
    crew.goto(city.base + "/#/crew")
    crew.wait_for_selector("#crew-vehicle option >> nth=1", state="attached")
    busy_unit = crew.locator("#crew-vehicle option", has_text="#").first.get_attribute("value")
    crew.goto(city.base + f"/#/crew/{busy_unit}")
    crew.wait_for_selector("[data-testid=crew-status] [data-status=en_route]")
    crew.click("[data-status=en_route]")
    crew.wait_for_selector("[data-status=en_route][aria-pressed=true]")
    wait_map(crew)
    shot(crew, "crew-phone")
    crew.context.close()

    # Planning: isochrones for chosen stations and bands, area tables. -------------------
    analyst = open_page(browser, city, DESKTOP, "analyst")
    wait_map(analyst)
    analyst.wait_for_selector("[data-testid=station-checks] input")
    analyst.wait_for_selector("[data-testid=area-table] tbody tr")
    analyst.click("#coverage-run")
    analyst.wait_for_selector("[data-testid=isochrone-table] tbody tr")
    analyst.wait_for_selector("[data-testid=coverage-bands] tbody tr")
    analyst.wait_for_selector("[data-testid=coverage-towns] tbody tr")
    assert canvas_colours(analyst) >= 4, "the planning map is blank"
    shot(analyst, "planning-desktop")
    analyst.click("#gaps-run")
    analyst.wait_for_selector("[data-testid=gaps-summary] tbody tr")
    # the gaps come as a heat grid with its legend, not thousands of street lines
    assert analyst.locator("[data-testid=gaps-legend] .gap-class").count() == 4
    shot(analyst, "planning-hydrant-gaps-desktop")
    analyst.context.close()

    # City data (admin): search, and an import whose row errors show in a table. --------
    admin = open_page(browser, city, DESKTOP, "admin")
    admin.goto(city.base + "/#/data/venues")
    admin.wait_for_selector("[data-testid=table-venues] tbody tr")
    admin.goto(city.base + "/#/data/import")
    admin.select_option("#import-kind", "hydrants")
    admin.set_input_files(
        "#import-file",
        files=[
            {
                "name": "hydrants.csv",
                "mimeType": "text/csv",
                "buffer": b"code,lon,lat,status\nHX-1,not-a-number,22.9,in_service\n",
            }
        ],
    )
    errors_before = len(city.console_errors)
    admin.click("#import-submit")
    admin.wait_for_selector("[data-testid=import-errors] tbody tr")
    # Chromium logs every 4xx response; the refused import is the one expected here.
    expected = [e for e in city.console_errors[errors_before:] if "422" in e]
    assert len(expected) == 1, city.console_errors[errors_before:]
    city.console_errors.remove(expected[0])
    shot(admin, "data-import-desktop")
    admin.goto(city.base + "/" + incident_hash)
    admin.wait_for_selector("#incident-title")
    admin.click("[data-testid=lang-switch]")
    admin.wait_for_selector(".nav-link >> text=Dispatch")
    admin.wait_for_selector("#incident-title")
    shot(admin, "dispatch-incident-en-desktop")
    admin.context.close()

    # Phone sizes of the desk views, and the monitor in English. -------------------------
    phone = open_page(browser, city, PHONE, "monitor")
    phone.goto(city.base + f"/#/monitor/alarm/{alarm_id}")
    phone.wait_for_selector("#alarm-title")
    wait_map(phone)
    assert canvas_colours(phone) >= 4, "the phone map is blank"
    shot(phone, "monitor-phone")
    phone.context.close()

    monitor.context.close()

    # Every view at both sizes (the administrator sees them all). -----------------------
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(browser, city, viewport, "admin")
        for view in ("monitor", "dispatch", "planning", "data", "tasks", "crew"):
            page.goto(f"{city.base}/#/{view}")
            page.wait_for_selector(f".view-{view}")
            if view in ("monitor", "dispatch", "planning"):
                wait_map(page)
            else:
                page.wait_for_timeout(400)
            shot(page, f"all-{view}-{size}")
        page.context.close()

    assert city.console_errors == [], city.console_errors
    if os.environ.get("FIREGRID_UPDATE_SCREENSHOTS") == "1":  # refresh the README's pictures
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        for name in DOCS_PICTURES:
            shutil.copyfile(SHOTS / f"{name}.png", DOCS_SHOTS / f"{name}.png")


def test_check_post_from_the_monitoring_view(city: City, browser: Any) -> None:
    """The operator starts a check post (查岗) for one venue and sees who answered and when."""
    from datetime import timedelta

    from firegrid.core.clock import utcnow
    from firegrid.devices.models import Device
    from firegrid.ingest.commands.models import DeviceCommand
    from firegrid.places.models import Venue

    with city.db.session() as session:
        code, venue_id = session.execute(
            select(Venue.code, Venue.id)
            .join(Device, Device.venue_id == Venue.id)
            .where(Device.protocol == "gb26875", Device.deleted_at.is_(None))
            .order_by(Venue.id)
            .limit(1)
        ).one()
    monitor = open_page(browser, city, DESKTOP, "monitor")
    monitor.fill("#checkpost-venue", code)
    monitor.click("[data-testid=checkpost-start]")
    monitor.wait_for_selector("[data-testid=checkpost-table] .badge-commandStatus-queued")
    # The ingest process holding the transmitter's connection records the operator's answer.
    now = utcnow()
    with city.db.session() as session:
        rows = session.scalars(
            select(DeviceCommand).where(DeviceCommand.venue_id == venue_id)
        ).all()
        assert rows
        assert {(r.kind, r.status, r.cause) for r in rows} == {
            ("check_post", "queued", "check_post")
        }
        assert all(r.requested_by.startswith("user:") for r in rows)
        for row in rows:
            row.status = "answered"
            row.sent_at = now - timedelta(seconds=13)
            row.answered_at = row.finished_at = now
            row.result = {"answered": True, "operator_number": 4, "answered_in_s": 12.5}
    monitor.wait_for_selector("[data-testid=checkpost-table] .badge-commandStatus-answered")
    table_text = monitor.locator("[data-testid=checkpost-table]").inner_text()
    assert "已应答" in table_text
    assert "12.5 s" in table_text
    assert "查岗结束" in monitor.locator("[data-testid=checkpost-summary]").inner_text()
    shot(monitor, "monitor-check-post-desktop")
    monitor.context.close()
    assert not [e for e in city.console_errors if "[monitor]" in e], city.console_errors
