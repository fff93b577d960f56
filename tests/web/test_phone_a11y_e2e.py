"""Every view at 390 px, for every demo role, in Chromium: no horizontal overflow, a hint
when the navigation scrolls, and no serious or critical axe-core violation.

The views and who sees them are read from the console's own table (web/src/nav.ts
VIEW_ROLES), so a page added there is checked here without editing this test.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from firegrid.accounts.demo import DEMO_USERS
from tests.web.test_console_e2e import (  # noqa: F401 - module fixtures
    CHROMIUM_ARGS,
    PHONE,
    City,
    browser,
    city,
    fire_event,
    shot,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NAV_TS = ROOT / "web" / "src" / "nav.ts"
AXE_JS = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORDS = {username: password for username, _role, _level, password, _note in DEMO_USERS}
ROLES = {username: role for username, role, _level, _password, _note in DEMO_USERS}


def view_roles() -> dict[str, list[str]]:
    """``VIEW_ROLES`` of web/src/nav.ts: view -> the roles that see it."""
    text = NAV_TS.read_text(encoding="utf-8")
    block = text.split("export const VIEW_ROLES", 1)[1].split("};", 1)[0]
    table: dict[str, list[str]] = {}
    for view, roles in re.findall(r"^\s*(\w+):\s*\[([^\]]*)\]", block, flags=re.M):
        table[view] = re.findall(r'"(\w+)"', roles)
    assert table, "VIEW_ROLES not found in nav.ts"
    return table


def views_of(username: str) -> list[str]:
    role = ROLES[username]
    return [view for view, roles in view_roles().items() if role in roles]


# Every person's account (the integration account is a machine: refused by the console).
PEOPLE = [u for u in PASSWORDS if ROLES[u] != "integration" and views_of(u)]


def sign_in(browser: Any, city: City, who: str) -> Any:  # noqa: F811
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        timezone_id="UTC",
        bypass_csp=True,  # axe is injected
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("pageerror", lambda exc: city.console_errors.append(f"[{who}] pageerror {exc}"))
    page.goto(city.base + "/")
    page.fill("#username", who)
    page.fill("#password", PASSWORDS[who])
    page.click("#login-submit")
    page.wait_for_selector(".topbar")
    return page


def open_view(page: Any, city: City, view: str) -> None:  # noqa: F811
    page.goto(f"{city.base}/#/{view}")
    page.wait_for_function(
        "(v) => (document.querySelector('main.view-' + v)?.children.length ?? 0) > 0", arg=view
    )
    page.wait_for_timeout(700)  # let the view's first requests land (not an assertion)


def overflow(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        """() => {
          const doc = document.scrollingElement;
          const wide = [...document.querySelectorAll('main *')]
            .filter((el) => el.getBoundingClientRect().right > innerWidth + 1
              && getComputedStyle(el).position !== 'fixed'
              && !el.closest('.table-wrap, .leaflet-container, .nav'))
            .slice(0, 3)
            .map((el) => el.tagName.toLowerCase() + '.' + [...el.classList].join('.')
              + (el.dataset.testid ? '[' + el.dataset.testid + ']' : ''));
          const nav = document.querySelector('nav.nav');
          return {
            scroll_width: doc.scrollWidth,
            inner_width: innerWidth,
            wide,
            nav_overflows: nav.scrollWidth > nav.clientWidth + 1
              && nav.scrollLeft + nav.clientWidth < nav.scrollWidth - 1,
            nav_flag: nav.dataset.overflow === 'true',
            nav_hint: !!document.querySelector('[data-testid=nav-more]:not([hidden])'),
          };
        }"""
    )
    return result


def axe_problems(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE_JS))
    found: list[str] = page.evaluate(
        """async () => {
          const r = await axe.run(document, { resultTypes: ['violations'] });
          return r.violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => v.id + ' (' + v.impact + '): '
              + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | '));
        }"""
    )
    return found


@pytest.mark.parametrize("who", PEOPLE)
def test_every_view_fits_a_phone_and_passes_axe(city: City, browser: Any, who: str) -> None:  # noqa: F811
    if not AXE_JS.exists():
        pytest.fail("axe-core missing: ln -s the node_modules or run npm ci in web/")
    page = sign_in(browser, city, who)
    problems: list[str] = []
    views = views_of(who)
    for view in views:
        open_view(page, city, view)
        seen = overflow(page)
        if seen["scroll_width"] > seen["inner_width"]:
            problems.append(f"{view}: {seen['scroll_width']} px wide > {seen['inner_width']}")
            problems.append(f"{view}: too wide: {seen['wide']}")
        if seen["nav_overflows"] and not (seen["nav_flag"] and seen["nav_hint"]):
            problems.append(f"{view}: the navigation overflows without a hint")
        problems.extend(f"{view}: {p}" for p in axe_problems(page))
        shot(page, f"phone-{who}-{view}")
    page.context.close()
    assert not problems, "\n".join(problems)
    assert views, who


def contrast(page: Any, selector: str) -> float:
    ratio: float = page.evaluate(
        """(sel) => {
          const el = document.querySelector(sel);
          const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
          const lum = ([r, g, b]) => {
            const c = [r, g, b].map((v) => {
              v /= 255;
              return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
            });
            return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
          };
          let bgEl = el, bg = [0, 0, 0, 0];
          while (bgEl) {
            const c = rgb(getComputedStyle(bgEl).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) { bg = c; break; }
            bgEl = bgEl.parentElement;
          }
          const fg = lum(rgb(getComputedStyle(el).color));
          const back = lum(bg);
          return (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05);
        }""",
        selector,
    )
    return ratio


def test_topbar_buttons_keep_their_contrast_on_hover(city: City, browser: Any) -> None:  # noqa: F811
    page = sign_in(browser, city, "monitor")
    for selector in ("#logout", ".who button.btn-ghost"):
        page.hover(selector)
        page.wait_for_timeout(100)
        assert contrast(page, selector) >= 4.5, selector
    page.context.close()


def test_focus_stays_on_the_alarm_opened_with_enter(city: City, browser: Any) -> None:  # noqa: F811
    page = sign_in(browser, city, "monitor")
    page.wait_for_selector("[data-testid=feed-status][data-state=open]")
    city.services.append([fire_event(city)])
    item = page.locator("button.alarm-item.kind-fire").first
    item.wait_for()
    alarm_id = item.get_attribute("data-alarm-id")
    banner = page.locator("[data-testid=fire-banner]")
    banner.wait_for()
    box = banner.bounding_box()
    assert box is not None
    assert box["width"] >= 300, box  # not squeezed into a column
    item.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#alarm-title")
    page.wait_for_timeout(500)  # the list and the detail re-render after the open
    focused = page.evaluate(
        "() => document.activeElement && document.activeElement.dataset.alarmId || null"
    )
    assert focused == alarm_id
    # on the phone the opened alarm's detail is on screen, not below the map and the list
    title = page.locator("#alarm-title").bounding_box()
    assert title is not None
    assert 0 <= title["y"] < PHONE["height"], title
    page.context.close()
