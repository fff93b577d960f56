"""A station plan from the console in Debian's Chromium (Playwright) against a real server:
the planner's "run" starts a background job (``POST /planning/stations``), the status line
follows it until it is done, and the stored plan opens with its before/after table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from firegrid.planning.models import PlanningJob
from tests.web.test_console_e2e import DESKTOP, City, browser, city, open_page, shot

pytestmark = pytest.mark.browser
__all__ = ["browser", "city"]  # the fixtures, shared with the console test
WAIT_MS = 90000  # a shared, loaded 2-core machine


def test_a_station_plan_runs_as_a_job_from_the_console(city: City, browser: Any) -> None:
    admin = open_page(browser, city, DESKTOP, "admin")
    admin.goto(city.base + "/#/planning")
    admin.wait_for_selector("#siting-run")
    admin.fill("#siting-add", "1")
    admin.fill("#siting-spacing", "3000")
    admin.click("#siting-run")
    status = admin.locator("[data-testid=siting-job-status]")
    # the job's line: its kind, number and status (zh-CN: 消防站选址 #N: 已完成)
    admin.wait_for_function(
        "() => (document.querySelector('[data-testid=siting-job-status]')?.textContent ?? '')"
        ".includes('已完成')",
        timeout=WAIT_MS,
    )
    assert "消防站选址" in status.inner_text()
    admin.wait_for_selector("[data-testid=siting-before-after] tbody tr", timeout=WAIT_MS)
    admin.wait_for_selector("[data-testid=siting-plan-list] tbody tr")
    shot(admin, "planning-station-job-desktop")
    admin.context.close()
    with city.db.session() as session:  # the job is stored done, with the plan it made
        rows = session.scalars(select(PlanningJob).where(PlanningJob.kind == "stations")).all()
        assert [(r.status, r.attempts, r.plan_id is not None) for r in rows] == [("done", 1, True)]
    assert not city.console_errors, city.console_errors


@pytest.fixture(autouse=True)
def _stop_matrix_workers(city: City) -> Iterator[None]:
    """The plan forks the engine's matrix workers in this (the server's) process; stop them
    before Playwright shuts down (its child watcher waits for every child otherwise)."""
    yield
    from firegrid.geo.service import geo_context

    geo_context(city.db, city.settings).engine.search_pool.close()
