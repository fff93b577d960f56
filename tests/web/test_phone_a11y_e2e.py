"""Every view at 390 px, for every demo role, in Chromium, in Simplified Chinese (the
default) and in English (chosen with the console's own language button; English strings are
longer and are where overflow hides): no horizontal overflow, a hint when the navigation
scrolls, and no serious or critical axe-core violation.

The views and who sees them are read from the console's own table (web/src/nav.ts
VIEW_ROLES), so a page added there is checked here without editing this test. After its
views, a role's opened states are checked the same way (tests/web/phone_states.py): a new
fire's banner and the alarm's detail, an incident's detail with its actions, the shortcut
help overlay and units sent, a new task and its form on the grid worker's phone, a form
showing its problems.

A view is checked once its requests have settled (none pending for a moment, the live feed
left out; tests/web/phone_states.py ``settle``). A screenshot (test-artifacts/screenshots/
phone-*.png) is taken of each screen that has a problem; set ``FIREGRID_SHOTS=1`` for one of
every screen.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from firegrid.accounts.demo import DEMO_USERS
from tests.web.phone_states import INFLIGHT, STATES, Inflight, settle
from tests.web.test_console_e2e import (  # noqa: F401 - module fixtures
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
# a bound per step, not a speed check: CI's host has run ~1.7x slower than usual
STEP_MS = 30000


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
#: FIREGRID_SHOTS=1: a screenshot of every screen checked, not only of those with a problem
ALL_SHOTS = os.environ.get("FIREGRID_SHOTS") == "1"
PEOPLE = [u for u in PASSWORDS if ROLES[u] != "integration" and views_of(u)]
#: the console's languages: the default first, then the one chosen with its button
LANGUAGES = ("zh-CN", "en")


def sign_in(browser: Any, city: City, who: str, lang: str = "zh-CN") -> Any:  # noqa: F811
    """A fresh context signed in as ``who`` through the login page, in ``lang``."""
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        timezone_id="UTC",
        bypass_csp=True,  # axe is injected
    )
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    page.on("pageerror", lambda exc: city.console_errors.append(f"[{who}] pageerror {exc}"))
    INFLIGHT[page] = Inflight(page)
    page.goto(city.base + "/")
    page.wait_for_selector("#username")
    if lang != "zh-CN":  # the product's switch: the login page's language button
        page.click("[data-testid=lang-switch]")
        page.wait_for_function("(l) => document.documentElement.lang === l", arg=lang)
    page.fill("#username", who)
    page.fill("#password", PASSWORDS[who])
    page.click("#login-submit")
    page.wait_for_selector(".topbar")
    assert page.evaluate("() => document.documentElement.lang") == lang
    return page


def open_view(page: Any, city: City, view: str) -> None:  # noqa: F811
    asked = time.monotonic()
    page.goto(f"{city.base}/#/{view}")
    page.wait_for_function(
        "(v) => (document.querySelector('main.view-' + v)?.children.length ?? 0) > 0", arg=view
    )
    settle(page, asked)  # the view's first requests land and are drawn


def overflow(page: Any, must_fit: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        r"""(mustFit) => {
          const doc = document.scrollingElement;
          const wide = [...document.querySelectorAll('main *')]
            .filter((el) => el.getBoundingClientRect().right > innerWidth + 1
              && getComputedStyle(el).position !== 'fixed'
              && !el.closest('.table-wrap, .leaflet-container, .nav'))
            .slice(0, 3)
            .map((el) => el.tagName.toLowerCase() + '.' + [...el.classList].join('.')
              + (el.dataset.testid ? '[' + el.dataset.testid + ']' : ''));
          // On a phone the view itself scrolls (.view overflow: auto), so content wider than
          // the screen widens the view, not the document: find what sticks out of the
          // screen, leaving out what sits in its own sideways scroller (a table's wrap)
          const main = document.querySelector('main');
          const inScroller = (el) => {
            for (let up = el.parentElement; up && up !== main; up = up.parentElement) {
              if (getComputedStyle(up).overflowX !== 'visible') return true;
            }
            return false;
          };
          const cut = main ? [...main.querySelectorAll('*')]
            .filter((el) => el.getClientRects().length > 0
              && el.getBoundingClientRect().right > innerWidth + 1
              && !el.closest('.leaflet-container')
              && !inScroller(el))
            .slice(0, 3)
            .map((el) => el.tagName.toLowerCase() + '.' + [...el.classList].join('.')
              + (el.id ? '#' + el.id : '')
              + (el.dataset.testid ? '[' + el.dataset.testid + ']' : '')
              + ' right ' + Math.round(el.getBoundingClientRect().right)) : [];
          // a box whose content runs out of it (a panel held to half the screen while its
          // cards go on below, over the page's grey)
          const spilled = main ? [...main.querySelectorAll('*')]
            .filter((el) => {
              const cs = getComputedStyle(el);
              return cs.overflowY === 'visible' && cs.display !== 'inline'
                && cs.backgroundColor !== 'rgba(0, 0, 0, 0)'
                && el.clientHeight > 0 && el.scrollHeight > el.clientHeight + 2
                && !el.closest('.leaflet-container');
            })
            .slice(0, 3)
            .map((el) => el.tagName.toLowerCase() + '.' + [...el.classList].join('.')
              + ' ' + el.clientHeight + ' px holds ' + el.scrollHeight) : [];
          // a drop-down too narrow for its chosen option ("False alarr")
          const pen = document.createElement('canvas').getContext('2d');
          const clippedSelects = main ? [...main.querySelectorAll('select')]
            .filter((el) => el.getClientRects().length > 0 && el.selectedIndex >= 0)
            .filter((el) => {
              const cs = getComputedStyle(el);
              pen.font = cs.font;
              const text = el.options[el.selectedIndex].text.trim();
              const room = el.clientWidth - parseFloat(cs.paddingLeft)
                - parseFloat(cs.paddingRight) - 16;  // the arrow
              return pen.measureText(text).width > room + 1;
            })
            .slice(0, 3)
            .map((el) => 'select#' + el.id + ' "' + el.options[el.selectedIndex].text.trim()
              + '" in ' + el.clientWidth + ' px') : [];
          const nav = document.querySelector('nav.nav');
          // a fixed or absolute element (a banner, an overlay) does not widen the page:
          // it and its content must lie within the screen themselves
          const box = mustFit ? document.querySelector(mustFit) : null;
          const outside = box ? [box, ...box.querySelectorAll('*')]
            .filter((el) => el.getClientRects().length > 0)
            .filter((el) => {
              const r = el.getBoundingClientRect();
              return r.left < -1 || r.right > innerWidth + 1;
            })
            .slice(0, 3)
            .map((el) => el.tagName.toLowerCase() + '.' + [...el.classList].join('.')
              + ' ' + Math.round(el.getBoundingClientRect().left) + '..'
              + Math.round(el.getBoundingClientRect().right)) : [];
          // ...and nothing may lie over it (a map's zoom buttons over a fire banner): points
          // at the left, middle and right of each of its innermost parts must hit it
          const covered = [];
          if (box) {
            const leaves = [...box.querySelectorAll('*')]
              .filter((el) => {
                const r = el.getBoundingClientRect();
                return el.children.length === 0 && r.width > 6 && r.height > 0
                  && r.top >= 0 && r.bottom <= innerHeight;
              });
            for (const el of (leaves.length ? leaves : [box])) {
              const r = el.getBoundingClientRect();
              const y = r.top + r.height / 2;
              for (const x of [r.left + 3, r.left + r.width / 2, r.right - 3]) {
                const hit = document.elementFromPoint(x, y);
                if (hit && !box.contains(hit)) {
                  covered.push(el.tagName.toLowerCase() + ' under ' + hit.tagName.toLowerCase()
                    + '.' + [...hit.classList].join('.'));
                  break;
                }
              }
            }
          }
          // a control squeezed into a sliver ("中" over "文", "停" over "用"): one of its
          // texts runs over more lines than it has words, none of them 3 letters wide
          const texts = (el) => {
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            const found = [];
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
              if (n.textContent.trim()) found.push(n);
            }
            return found;
          };
          const squeezed = (node) => {
            const range = document.createRange();
            range.selectNodeContents(node);
            const rects = [...range.getClientRects()].filter((r) => r.width > 0);
            const lines = new Set(rects.map((r) => Math.round(r.top))).size;
            const widest = Math.max(0, ...rects.map((r) => r.width));
            const em = parseFloat(getComputedStyle(node.parentElement).fontSize);
            return lines > node.textContent.trim().split(/\s+/).length && widest < 3 * em;
          };
          const cutWords = [...document.querySelectorAll(
              'button, .btn, .nav-link, .badge, .tab, [role=tab], label, legend')]
            .filter((el) => el.getClientRects().length > 0 && !el.closest('.leaflet-container'))
            .filter((el) => texts(el).some(squeezed))
            .slice(0, 3)
            .map((el) => el.tagName.toLowerCase() + '.' + [...el.classList].join('.')
              + ' "' + el.textContent.trim().slice(0, 30) + '"');
          // text too small to read: a font under 10 px, or an SVG laid out wider than the
          // phone and scaled down with its text (a chart drawn for 640 units at 350 px)
          const tinyText = [...document.querySelectorAll('body *')]
            .filter((el) => !el.closest('.leaflet-container') && el.getClientRects().length > 0)
            .filter((el) => [...el.childNodes]
              .some((n) => n.nodeType === 3 && n.textContent.trim()))
            .map((el) => {
              const m = el instanceof SVGGraphicsElement ? el.getScreenCTM() : null;
              const px = parseFloat(getComputedStyle(el).fontSize) * (m ? Math.hypot(m.a, m.b) : 1);
              return [el, px];
            })
            .filter(([, px]) => px < 10)
            .slice(0, 3)
            .map(([el, px]) => el.tagName.toLowerCase() + '.' + [...el.classList].join('.')
              + ' "' + el.textContent.trim().slice(0, 20) + '" ' + px.toFixed(1) + ' px');
          return {
            clipped_selects: clippedSelects,
            tiny_text: tinyText,
            spilled,
            covered,
            cut_words: cutWords,
            view_scroll_width: main ? main.scrollWidth : 0,
            view_width: main ? main.clientWidth : 0,
            cut,
            must_fit_found: !mustFit || !!box,
            outside,
            scroll_width: doc.scrollWidth,
            inner_width: innerWidth,
            wide,
            nav_overflows: !!nav && nav.scrollWidth > nav.clientWidth + 1
              && nav.scrollLeft + nav.clientWidth < nav.scrollWidth - 1,
            nav_flag: !!nav && nav.dataset.overflow === 'true',
            nav_hint: !!document.querySelector('[data-testid=nav-more]:not([hidden])'),
          };
        }""",
        must_fit,
    )
    return result


def axe_problems(page: Any) -> list[str]:
    run = """async () => {
          if (typeof axe !== 'object' || typeof axe.run !== 'function') return null;
          const r = await axe.run(document, { resultTypes: ['violations'] });
          return r.violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => v.id + ' (' + v.impact + '): '
              + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | '));
        }"""
    found: list[str] | None = page.evaluate(run)
    if found is None:  # once per document: the views are opened by their hash, axe stays
        page.add_script_tag(path=str(AXE_JS))
        found = page.evaluate(run)
    assert found is not None, "axe-core did not load"
    return found


def check_screen(page: Any, where: str, must_fit: str | None = None) -> list[str]:
    """What is wrong with the screen as it is: overflow, the navigation's hint, axe-core."""
    problems: list[str] = []
    seen = overflow(page, must_fit)
    if seen["scroll_width"] > seen["inner_width"]:
        problems.append(f"{where}: {seen['scroll_width']} px wide > {seen['inner_width']}")
        problems.append(f"{where}: too wide: {seen['wide']}")
    if seen["view_scroll_width"] > seen["view_width"] + 1 or seen["cut"]:
        problems.append(
            f"{where}: the view is {seen['view_scroll_width']} px wide > {seen['view_width']}"
            f", sticking out: {seen['cut']}"
        )
    if seen["nav_overflows"] and not (seen["nav_flag"] and seen["nav_hint"]):
        problems.append(f"{where}: the navigation overflows without a hint")
    if not seen["must_fit_found"]:
        problems.append(f"{where}: {must_fit} not found")
    if seen["clipped_selects"]:
        problems.append(f"{where}: a choice cut short: {seen['clipped_selects']}")
    if seen["spilled"]:
        problems.append(f"{where}: content runs out of its box: {seen['spilled']}")
    if seen["covered"]:
        problems.append(f"{where}: {must_fit} covered: {seen['covered'][:3]}")
    if seen["cut_words"]:
        problems.append(f"{where}: squeezed, a word cut over two lines: {seen['cut_words']}")
    if seen["tiny_text"]:
        problems.append(f"{where}: text too small to read: {seen['tiny_text']}")
    if seen["outside"]:
        problems.append(f"{where}: off the screen: {seen['outside']}")
    problems.extend(f"{where}: {p}" for p in axe_problems(page))
    return problems


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("who", PEOPLE)
def test_every_view_fits_a_phone_and_passes_axe(
    city: City,  # noqa: F811
    browser: Any,  # noqa: F811
    who: str,
    lang: str,
) -> None:
    if not AXE_JS.exists():
        pytest.fail("axe-core missing: ln -s the node_modules or run npm ci in web/")
    page = sign_in(browser, city, who, lang)
    problems: list[str] = []
    views = views_of(who)
    for view in views:
        open_view(page, city, view)
        found = check_screen(page, f"{view} [{lang}]")
        if found or ALL_SHOTS:
            shot(page, f"phone-{who}-{view}-{lang}")
        problems.extend(found)
    opened: list[str] = []
    for state in STATES.get(who, ()):
        for name, must_fit in state(page, city):
            opened.append(name)
            found = check_screen(page, f"{name} [{lang}]", must_fit)
            if found or ALL_SHOTS:
                shot(page, f"phone-{who}-{name}-{lang}")
            problems.extend(found)
    page.context.close()
    assert not problems, "\n".join(problems)
    assert views, who
    assert bool(opened) == (who in STATES), (who, opened)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_sign_in_page_with_its_error_fits_a_phone(
    city: City,  # noqa: F811
    browser: Any,  # noqa: F811
    lang: str,
) -> None:
    """The sign-in page, its language chosen with its own button, after a wrong password."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    page.goto(city.base + "/")
    page.wait_for_selector("#username")
    if lang != "zh-CN":
        page.click("[data-testid=lang-switch]")
        page.wait_for_function("(l) => document.documentElement.lang === l", arg=lang)
    page.fill("#username", "monitor")
    page.fill("#password", "not-the-password")
    page.click("#login-submit")
    page.wait_for_function("() => document.getElementById('login-error')?.textContent !== ''")
    problems = check_screen(page, f"sign-in [{lang}]", ".login-card")
    if problems or ALL_SHOTS:
        shot(page, f"phone-sign-in-error-{lang}")
    context.close()
    assert not problems, "\n".join(problems)


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
