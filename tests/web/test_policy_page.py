"""The console's policy page in Chromium: the supervisor sees the policy in force, a
refused edit shows the server's problem on its field (in Chinese), an accepted one becomes
the next version in the history."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_console_e2e import (  # noqa: F401 - module fixtures
    DESKTOP,
    City,
    browser,
    city,
    open_page,
    shot,
)

pytestmark = pytest.mark.browser


def test_supervisor_edits_the_timers(city: City, browser: Any) -> None:  # noqa: F811
    page = open_page(browser, city, DESKTOP, "supervisor")
    page.goto(city.base + "/#/policy")
    page.wait_for_selector("[data-testid=policy-form]")
    assert page.get_attribute("[data-testid=policy-version]", "data-version") == "1"
    assert "危化品火灾" in page.inner_text("[data-testid=policy-forwarding]")
    page.fill("#policy-task_due_s", "900")
    page.fill("#policy-cause", "网格员到场较慢")
    page.click("[data-testid=policy-form] button[type=submit]")
    problem = page.wait_for_selector("[data-problem='policy.task_due_s']")
    assert "900 秒不早于最短的自动转警时限" in problem.inner_text()
    assert page.get_attribute("#policy-task_due_s", "aria-invalid") == "true"
    shot(page, "policy-refused-desktop")
    page.check("#policy-task_pauses_auto_forward")
    page.click("[data-testid=policy-form] button[type=submit]")
    page.wait_for_selector("[data-testid=policy-version][data-version='2']")
    history = page.inner_text("[data-testid=policy-history]")
    assert "网格员到场较慢" in history
    assert "900" in history
    shot(page, "policy-desktop")
    errors = [e for e in city.console_errors if e.startswith("[supervisor]")]
    # the refused save is an expected 422 the page shows; nothing else may fail
    assert all("422" in e for e in errors), errors
    page.context.close()
