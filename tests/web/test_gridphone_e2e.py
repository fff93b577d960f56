"""End to end on a phone (390×844, Chromium): the grid worker sees today's due list, fills
an inspection offline (checklist, hazard, photo, GPS), goes back online — the first answer
is lost on the way, so the phone sends it again — and the server holds exactly one
inspection. Then a town leader's performance and installation pages."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from tests.conftest import service_missing
from tests.web.test_console_e2e import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORDS,
    PHONE,
    PNG_1X1,
    _build_city,
    shot,
)

pytestmark = pytest.mark.browser

POSITION = {"latitude": 22.95, "longitude": 113.85, "accuracy": 14}
AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"


def overflow_px(page: Any) -> int:
    """How far the page is wider than the phone's screen (0: it fits)."""
    width: int = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
    return width


def axe_violations(page: Any) -> list[str]:
    """Serious and critical axe-core findings in the view (``#main``; the shell is not ours)."""
    if not AXE.exists():
        return []
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run('#main', {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))"
    )
    return [f"{v['id']}: {v['nodes']}" for v in found]


@dataclass
class Site:
    base: str
    db: Database
    settings: Settings


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not Path(CHROMIUM).exists():
        service_missing("chromium (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        service_missing("playwright (pip install playwright)")
    from firegrid.api.app import create_app
    from tests.alarms.live import live_server

    tmp = tmp_path_factory.mktemp("gridphone")
    db, settings, _found = _build_city(tmp)
    from firegrid.installations.demo import generate_installations

    generate_installations(db, 7)  # the synthetic year: 3,156 smoke alarms
    try:
        with live_server(create_app(settings, db)) as base:
            yield Site(base, db, settings)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def sign_in(
    browser: Any, site: Site, who: str, init_script: str | None = None, **context_options: Any
) -> tuple[Any, Any]:
    # bypass_csp: only so the axe-core script can be injected for the accessibility check
    context = browser.new_context(
        locale="zh-CN", timezone_id="UTC", bypass_csp=True, **context_options
    )
    if init_script is not None:
        context.add_init_script(init_script)
    page = context.new_page()
    # a bound, not a speed check: on a loaded CI host a first navigation to a new origin
    # (a renderer to start, the shell to fetch) once took over 15 s
    page.set_default_timeout(30000)
    page.goto(site.base + "/")
    page.fill("#username", who)
    page.fill("#password", PASSWORDS[who])
    page.click("#login-submit")
    page.wait_for_selector(".topbar")
    return context, page


def _inspections(db: Database) -> list[Any]:
    from firegrid.inspections.models import Inspection

    with db.session() as session:
        return list(session.scalars(select(Inspection).order_by(Inspection.id)).all())


def test_offline_inspection_syncs_once(browser: Any, site: Site) -> None:
    from firegrid.inspections.models import Hazard, SubmissionKey

    context, page = sign_in(
        browser,
        site,
        "gridworker",
        viewport=PHONE,
        geolocation=POSITION,
        permissions=["geolocation"],
    )
    try:
        page.goto(site.base + "/#/rounds")
        page.wait_for_selector("[data-testid=due-list] li")
        assert page.locator("[data-testid=outbox-status]").inner_text() == "已全部同步"
        first = page.locator("[data-testid=due-list] a.card-link").first
        venue_id = int(first.get_attribute("data-venue-id") or 0)
        # the list is ordered red status first, then by risk grade
        colours = page.locator("[data-testid=due-list] a.card-link").evaluate_all(
            "els => els.map(e => [...e.classList].find(c => c.startsWith('colour-')))"
        )
        rank = {"colour-red": 0, "colour-yellow": 1, "colour-green": 2}
        assert [rank[c] for c in colours] == sorted(rank[c] for c in colours)
        shot(page, "rounds-due-phone")
        assert axe_violations(page) == []
        assert overflow_px(page) <= 0
        first.click()
        page.wait_for_selector("[data-testid=checklist] fieldset")
        page.wait_for_selector("[data-testid=gps-status][data-state=recorded]")
        assert axe_violations(page) == []
        assert overflow_px(page) <= 0

        context.set_offline(True)
        page.locator("[data-testid=checklist] input[value=fail]").first.check()
        page.select_option("#hz-category", "blocked_exit")
        page.select_option("#hz-severity", "major")
        page.fill("#hz-description", "后门上锁")
        page.click("#hz-add")
        page.fill("#visit-note", "离线检查")
        page.set_input_files(
            "#visit-photo", {"name": "site.png", "mimeType": "image/png", "buffer": PNG_1X1}
        )
        shot(page, "rounds-visit-phone")
        page.click("#visit-submit")
        page.wait_for_selector("[data-testid=due-list]")
        status = page.locator("[data-testid=outbox-status]")
        assert status.inner_text() == "1 待同步"
        assert _inspections(site.db) == []

        # back online: the first answer is lost after the server stored the inspection
        lost: list[str] = []

        def lose_first_answer(route: Any) -> None:
            if route.request.method == "POST" and not lost:
                route.fetch()  # reaches the server, which stores it
                lost.append(route.request.headers.get("idempotency-key", ""))
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/api/v1/inspections", lose_first_answer)
        context.set_offline(False)
        page.wait_for_selector(".outbox-status[data-pending='0'][data-failed='0']", timeout=30000)
        assert lost
        assert lost[0].startswith("insp-")
        assert status.inner_text() == "已全部同步"
    finally:
        context.close()

    rows = _inspections(site.db)
    assert len(rows) == 1, [r.id for r in rows]
    inspection = rows[0]
    assert inspection.venue_id == venue_id
    assert inspection.result == "hazards_found"
    assert inspection.gps_status == "recorded"
    assert inspection.gps_accuracy_m == 14
    assert inspection.evidence_photo.endswith(".png")
    assert "fail" in inspection.checklist_answers.values()
    with site.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Hazard)) == 1
        kinds = sorted(session.scalars(select(SubmissionKey.kind)).all())
    assert kinds == ["inspection", "inspection_photo"]


def test_denied_location_is_recorded_as_such(browser: Any, site: Site) -> None:
    context, page = sign_in(browser, site, "gridworker", viewport=PHONE)
    try:
        page.goto(site.base + "/#/rounds")
        page.wait_for_selector("[data-testid=due-list] li")
        page.locator("[data-testid=due-list] a.card-link").nth(1).click()
        gps = page.wait_for_selector("[data-testid=gps-status][data-state]")
        assert gps.get_attribute("data-state") in {"denied", "unavailable"}
        before = len(_inspections(site.db))
        page.click("#visit-submit")
        page.wait_for_selector("[data-testid=due-list]")
        for _ in range(100):  # sent at once (online): wait for the server's row
            if len(_inspections(site.db)) > before:
                break
            page.wait_for_timeout(100)
        page.wait_for_selector(".outbox-status[data-pending='0']")
    finally:
        context.close()
    assert len(_inspections(site.db)) == before + 1
    latest = _inspections(site.db)[-1]
    assert latest.gps_status in {"denied", "unavailable"}
    assert latest.gps_lon is None


def test_leaders_see_performance_and_installations(browser: Any, site: Site) -> None:
    context, page = sign_in(browser, site, "analyst", viewport=PHONE)
    try:
        page.goto(site.base + "/#/performance")
        page.wait_for_selector("[data-testid=performance-page] h2")
        page.wait_for_selector("[data-testid=perf-table]")
        assert axe_violations(page) == []
        assert overflow_px(page) <= 0
        shot(page, "performance-phone")
        href = page.get_attribute("[data-testid=perf-xlsx]", "href") or ""
        assert "/api/v1/inspections/performance.xlsx?period=" in href
        page.goto(site.base + "/#/installations")
        page.wait_for_selector("[data-testid=inst-table]")
        programmes = page.inner_text("[data-testid=inst-programmes]")
        assert "DEMO-SMOKE" in programmes
        assert "3156" in programmes
        assert page.locator(".bar-chart rect.bar").count() >= 1
        assert "report.csv" in (page.get_attribute("[data-testid=inst-csv]", "href") or "")
        assert axe_violations(page) == []
        assert overflow_px(page) <= 0
        shot(page, "installations-phone")
    finally:
        context.close()


def test_rectification_order_on_the_phone(browser: Any, site: Site) -> None:
    from firegrid.accounts.principal import system_principal
    from firegrid.demo.run import demo_scope_codes
    from firegrid.inspections import service
    from firegrid.inspections.models import Hazard
    from firegrid.places.models import Jurisdiction, Venue

    grid_code = demo_scope_codes(site.db)["grid_code"]
    with site.db.session() as session:
        grid_path = session.scalars(
            select(Jurisdiction.path).where(Jurisdiction.code == grid_code)
        ).one()
        venue_id = session.scalars(
            select(Venue.id).where(Venue.jurisdiction_path.startswith(grid_path)).limit(1)
        ).one()
        _, (hazard,) = service.record_inspection(
            session,
            system_principal("tests"),
            venue_id=venue_id,
            hazards=[service.HazardSpec("electrical_wiring", description="插线板串接")],
        )
        hazard_id = hazard.id
    context, page = sign_in(browser, site, "gridworker", viewport=PHONE)
    try:
        page.goto(site.base + "/#/rounds/hazards")
        page.click(f"[data-testid=hazard-list] a[data-hazard-id='{hazard_id}']")
        page.wait_for_selector("#rectify-note")
        assert "插线板串接" in page.inner_text("#main")
        assert axe_violations(page) == []
        context.set_offline(True)
        page.fill("#rectify-note", "已拆除串接插线板")
        page.set_input_files(
            "#rectify-photo", {"name": "fixed.png", "mimeType": "image/png", "buffer": PNG_1X1}
        )
        page.click("#rectify-submit")
        page.wait_for_selector("[data-testid=hazard-list]")
        page.wait_for_selector("[data-testid=rounds-offline]")  # the phone's copy of the list
        assert page.locator("[data-testid=outbox-status]").inner_text() == "1 待同步"
        context.set_offline(False)
        page.wait_for_selector(".outbox-status[data-pending='0'][data-failed='0']")
        # synced: the list is read again from the server, without the rectified hazard
        page.wait_for_selector("[data-testid=rounds-offline]", state="detached")
        page.wait_for_selector(f"a[data-hazard-id='{hazard_id}']", state="detached")
        shot(page, "rounds-hazards-phone")
    finally:
        context.close()
    with site.db.session() as session:
        row = session.get(Hazard, hazard_id)
        assert row is not None
        assert row.status == "rectified"
        assert row.evidence_note == "已拆除串接插线板"
        assert row.evidence_photo.endswith(".png")


OLD_SHELL = "firegrid-shell-0ld0ld0ld0ld0ld0"

# An older build's cache on the phone before this build's worker registers: planted by the
# first page (before its own scripts run) and the registration waits until it is written.
PLANT_OLD_SHELL = """(() => {
  if (location.origin === "null" || !("serviceWorker" in navigator)) return;
  if (sessionStorage.getItem("old-shell-planted")) return;
  sessionStorage.setItem("old-shell-planted", "planting");
  const planted = caches.open("{old}")
    .then((cache) => cache.put("/assets/index-0ld0ld0l.js", new Response("old build")))
    .then(() => sessionStorage.setItem("old-shell-planted", "written"));
  const container = navigator.serviceWorker;
  const register = container.register.bind(container);
  container.register = (...args) => planted.then(() => register(...args));
})();""".replace("{old}", OLD_SHELL)

# True once this page is controlled and the phone holds exactly one shell cache: `name`.
SHELL_ALONE = """async (name) => {
  if (!navigator.serviceWorker.controller) return false;
  const shells = (await caches.keys()).filter((n) => n.startsWith("firegrid-shell-"));
  return shells.length === 1 && shells[0] === name;
}"""

SHELL_CONTENTS = """async (name) => {
  const cache = await caches.open(name);
  const cached = (await cache.keys()).map((r) => r.url);
  const loaded = performance.getEntriesByType("resource").map((e) => e.name)
    .filter((n) => n.startsWith(location.origin + "/assets/"));
  return {cached, loaded};
}"""


def wait_until_true(page: Any, predicate: str, arg: Any, timeout_s: float = 20.0) -> None:
    """Poll an async predicate until it answers true. (``page.wait_for_function`` does not
    await a returned promise: any async predicate would pass at once.)"""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(predicate, arg):
        assert time.monotonic() < deadline, f"still false after {timeout_s} s: {predicate}"
        page.wait_for_timeout(200)


def built_shell() -> tuple[str, list[str]]:
    """The build id and precache list of the built worker (``static/sw.js``)."""
    from firegrid.web.serve import STATIC_DIR

    worker = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    build_id = re.search(r'^const BUILD_ID = "([0-9a-f]+)";$', worker, re.MULTILINE)
    listed = re.search(r"^const PRECACHE_URLS = \[(.*?)\];$", worker, re.MULTILINE | re.DOTALL)
    assert build_id, "static/sw.js is not a generated worker: run npm run build in web/"
    assert listed, "static/sw.js is not a generated worker: run npm run build in web/"
    return build_id.group(1), re.findall(r'"([^"]+)"', listed.group(1))


def test_the_phone_opens_its_rounds_with_the_server_unreachable(browser: Any, site: Site) -> None:
    """A grid worker opens the console once with a signal; later, with none at all (the
    server is stopped here, not just the page's network), the page still opens on the
    rounds list from the offline shell and the last known sign-in, and queues work.
    The worker precaches every file of this build, views never opened included, in a
    cache named after the build, and deletes an older build's cache when it activates."""
    from firegrid.api.app import create_app
    from tests.alarms.live import live_server

    server = live_server(create_app(site.settings, site.db))
    own = Site(server.__enter__(), site.db, site.settings)  # its own origin: its own worker
    stopped = False
    build_id, precached = built_shell()
    shell = f"firegrid-shell-{build_id}"
    context, page = sign_in(browser, own, "gridworker", init_script=PLANT_OLD_SHELL, viewport=PHONE)
    try:
        page.goto(own.base + "/#/rounds")
        page.wait_for_selector("[data-testid=due-list] li")
        # the worker is active: this build's cache alone, the older build's one deleted
        wait_until_true(page, SHELL_ALONE, shell)
        assert page.evaluate("sessionStorage.getItem('old-shell-planted')") == "written"
        contents = page.evaluate(SHELL_CONTENTS, shell)
        cached, loaded = set(contents["cached"]), set(contents["loaded"])
        assert cached == {own.base + url for url in [*precached, "/console-config.js"]}
        assert loaded
        assert loaded <= cached
        assert any("/assets/dispatch-" in url for url in cached - loaded)  # never opened here
        listed = page.locator("[data-testid=due-list] a.card-link").count()
        who = page.locator("[data-testid=whoami]").inner_text()
        server.__exit__(None, None, None)  # no server: nothing answers on that port
        stopped = True
        response = page.reload()
        assert response is not None
        assert response.from_service_worker
        page.wait_for_selector("[data-testid=due-list] li")
        assert page.locator("[data-testid=due-list] a.card-link").count() == listed
        assert page.locator("[data-testid=rounds-offline]").count() == 1
        assert page.locator("[data-testid=whoami]").inner_text() == who
        assert page.locator("#login-submit").count() == 0
        assert overflow_px(page) <= 0
    finally:
        context.close()
        if not stopped:
            server.__exit__(None, None, None)
