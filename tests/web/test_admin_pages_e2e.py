"""The seats issue #19 found missing, in Chromium against the real app: the admin creates a
user and revokes an API key; a joint-defence request is answered by the other town's
commander and the requester sees the answer without a reload; a closed incident offers no
dispatch and a refused action reads in Chinese; a venue manager sees its venue's alarm
live; a keyboard shortcut opens a new call; every role of ``accounts/roles.py`` signs in
to a page (the machine account to a clear refusal)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from firegrid.accounts.roles import Role
from tests.web.test_console_e2e import (  # noqa: F401 - module fixtures
    DESKTOP,
    PASSWORDS,
    PHONE,
    City,
    browser,
    city,
    shot,
)

pytestmark = pytest.mark.browser

#: a password every user created here gets (letters and digits, 10+ characters)
PASSWORD = "firegrid-seat-2026"


def sign_in(browser: Any, site: City, who: str, password: str) -> Any:  # noqa: F811
    """A fresh context (no cookies), signed in as ``who`` through the login page."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(30000)  # the machine is shared: generous, not a speed test

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            site.console_errors.append(f"[{who}] {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: site.console_errors.append(f"[{who}] pageerror {exc}"))

    def on_response(response: Any) -> None:
        if response.status >= 400:
            request = response.request
            site.console_errors.append(
                f"[{who}] HTTP {response.status} {request.method} {response.url}"
            )

    page.on("response", on_response)
    page.goto(site.base + "/")
    page.fill("#username", who)
    page.fill("#password", password)
    page.click("#login-submit")
    try:
        page.wait_for_selector(".topbar, .login-page [role=alert]:not(:empty)", timeout=30000)
    except Exception:
        shot(page, f"sign-in-{who}-failed")
        raise
    return page


def add_user(site: City, username: str, role: str, scope_code: str, **extra: Any) -> None:
    from firegrid.accounts.models import User
    from firegrid.accounts.principal import system_principal
    from firegrid.accounts.service import create_user

    with site.db.session() as session:
        if session.scalars(select(User.id).where(User.username == username)).first():
            return
        create_user(
            session,
            system_principal("e2e"),
            username=username,
            role=role,
            scope_code=scope_code,
            password=PASSWORD,
            **extra,
        )


@contextmanager
def api_client(site: City, who: str, password: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base, timeout=15) as client:
        login = client.post("/api/v1/auth/login", json={"username": who, "password": password})
        login.raise_for_status()
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        yield client


def codes(site: City) -> dict[str, str]:
    from firegrid.dispatch.incidents import path_prefix
    from firegrid.places.models import Jurisdiction

    with site.db.session() as session:
        city_row = session.scalars(select(Jurisdiction).where(Jurisdiction.level == "city")).one()
        town_path = path_prefix(site.venue_path, 2)
        town = session.scalars(select(Jurisdiction).where(Jurisdiction.path == town_path)).one()
        return {"city": city_row.code, "town": town.code, "town_path": town.path}


def errors_of(site: City, who: str) -> list[str]:
    return [e for e in site.console_errors if e.startswith(f"[{who}]")]


# Admin ------------------------------------------------------------------------------------


def test_admin_creates_a_user_and_revokes_an_api_key(city: City, browser: Any) -> None:  # noqa: F811
    page = sign_in(browser, city, "admin", PASSWORDS["admin"])
    assert page.locator(".nav-link[data-view=admin]").inner_text() == "系统管理"
    page.click(".nav-link[data-view=admin]")
    page.wait_for_selector("[data-testid=user-form]")
    # a problem is shown on its field before anything is sent
    page.click("#user-create")
    assert page.get_attribute("#user-username", "aria-invalid") == "true"
    assert page.inner_text("#user-username-problem") == "必填"
    page.fill("#user-username", "duty.officer")
    page.fill("#user-display_name", "值班长")
    page.select_option("#user-role", "monitor_operator")
    page.click("#user-create")
    secret = page.wait_for_selector("[data-testid=user-created] [data-testid=user-password-once]")
    password = secret.inner_text().strip()
    assert len(password) >= 10
    page.wait_for_selector("[data-testid=users-table] tr[data-username='duty.officer']")
    # the generated password signs the new user in
    with api_client(city, "duty.officer", password) as client:
        assert client.get("/api/v1/auth/me").json()["role"] == "monitor_operator"
    shot(page, "admin-users-desktop")

    # API key: created (secret shown once), used, revoked (two presses), refused afterwards
    page.click(".subnav-link[data-tab=apikeys]")
    page.wait_for_selector("[data-testid=key-form]")
    page.fill("#key-name", "供水公司对接")
    page.select_option("#key-role", "integration")
    page.fill("#key-routes", "changes")
    page.click("#key-create")
    key = page.wait_for_selector("[data-testid=key-secret]").inner_text().strip()
    assert key.startswith("fgk_")
    row = page.locator("[data-testid=keys-table] tr[data-key-name='供水公司对接']")
    row.wait_for()
    key_id = row.get_attribute("data-key-id")
    with httpx.Client(base_url=city.base, timeout=15) as client:
        used = client.get("/api/v1/changes", headers={"X-API-Key": key})
        assert used.status_code == 200, used.text
        revoke = row.locator("[data-action=revoke]")
        revoke.click()
        assert revoke.inner_text() == "确认吊销？"  # the first press only asks
        revoke.click()
        page.wait_for_selector(f"[data-testid=key-state-{key_id}]:has-text('已吊销')")
        assert client.get("/api/v1/changes", headers={"X-API-Key": key}).status_code == 401
    shot(page, "admin-apikeys-desktop")

    # audit search by object: the key's creation and revocation
    page.click(".subnav-link[data-tab=audit]")
    page.wait_for_selector("[data-testid=audit-form]")
    page.fill("#audit-resource_type", "apikey")
    page.fill("#audit-resource_id", str(key_id))
    page.click("#audit-search")
    page.wait_for_selector("[data-testid=audit-table] tr[data-audit-action='apikey.revoke']")
    actions = page.eval_on_selector_all(
        "[data-testid=audit-table] tbody tr", "rows => rows.map(r => r.dataset.auditAction)"
    )
    assert {"apikey.create", "apikey.revoke"} <= set(actions), actions
    # a range that ends before it starts is refused on its field
    page.fill("#audit-since", "2026-02-02T08:00")
    page.fill("#audit-until", "2026-02-01T08:00")
    page.click("#audit-search")
    assert page.inner_text("#audit-until-problem") == "截止时间须晚于起始时间"
    for tab in ("workorders", "quarantine"):
        page.click(f".subnav-link[data-tab={tab}]")
        page.wait_for_selector(f"[data-testid={tab}-table]")
    assert page.locator(".subnav-link[data-tab=policy]").count() == 1
    assert errors_of(city, "admin") == []
    page.context.close()


def test_a_password_the_server_refuses_shows_on_its_field(city: City, browser: Any) -> None:  # noqa: F811
    """The console checks length and letters/digits; the server also refuses a password that
    holds the username. Its 422 names the field (``details.field``): the refusal is shown on
    the password field, in Chinese, and nothing is created."""
    page = sign_in(browser, city, "admin", PASSWORDS["admin"])
    page.click(".nav-link[data-view=admin]")
    page.wait_for_selector("[data-testid=user-form]")
    page.fill("#user-username", "night.clerk")
    page.select_option("#user-role", "monitor_operator")
    page.fill("#user-password", "night.clerk2026")
    page.click("#user-create")
    page.wait_for_selector("#user-password[aria-invalid=true]")
    problem = page.inner_text("#user-password-problem")
    assert "密码" in problem, problem
    assert page.locator("[data-testid=users-table] tr[data-username='night.clerk']").count() == 0
    # Chromium logs the refused request itself (the response and the resource): expected here
    refused = [e for e in errors_of(city, "admin") if "422" in e]
    assert refused, city.console_errors
    for entry in refused:
        city.console_errors.remove(entry)
    assert errors_of(city, "admin") == []
    page.context.close()


# Dispatch: aid requests, closed incidents, refusals -----------------------------------


def open_incident(client: httpx.Client, lon: float, lat: float) -> int:
    call = client.post(
        "/api/v1/calls",
        json={"lon": lon, "lat": lat, "incident_type": "building_fire", "caller_number": "110"},
    )
    assert call.status_code == 201, call.text
    body = call.json()
    if body.get("incident_id"):
        return int(body["incident_id"])
    opened = client.post(
        f"/api/v1/calls/{body['call']['id']}/incident",
        json={"incident_type": "building_fire", "level": 1},
    )
    assert opened.status_code == 201, opened.text
    return int(opened.json()["id"])


def venue_point(site: City) -> tuple[float, float]:
    from firegrid.places.models import Venue

    with site.db.session() as session:
        venue = session.get(Venue, site.venue_id)
        assert venue is not None
        return venue.lon, venue.lat


def test_typed_fields_survive_the_redraw_when_the_map_loads(city: City, browser: Any) -> None:  # noqa: F811
    """The open incident is drawn again once the map's stations arrive (they name the
    units). A dispatcher who started typing a request meanwhile keeps what was typed (that
    redraw had reset the note and the count, and the request went out without them)."""
    with api_client(city, "dispatcher", PASSWORDS["dispatcher"]) as client:
        incident_id = open_incident(client, *venue_point(city))
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="UTC")
    held: list[Any] = []
    context.route("**/map/stations**", lambda route: held.append(route))
    page = context.new_page()
    page.set_default_timeout(30000)
    page.goto(f"{city.base}/")
    page.fill("#username", "dispatcher")
    page.fill("#password", PASSWORDS["dispatcher"])
    page.click("#login-submit")
    page.wait_for_selector(".topbar")
    page.goto(f"{city.base}/#/dispatch")  # the view and its map, whose stations are held
    page.wait_for_selector("[data-testid=map]", state="attached")
    page.goto(f"{city.base}/#/dispatch/incident/{incident_id}")
    title = page.wait_for_selector("#incident-title")
    page.fill("#joint-count", "2")
    page.fill("#joint-note", "厂房火势扩大")
    for _ in range(100):  # the route handler runs while the page is waited on
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the map never asked for its stations"
    for route in held:
        route.continue_()
    page.wait_for_function("el => !el.isConnected", arg=title)  # drawn again
    page.wait_for_selector("#incident-title")
    assert page.input_value("#joint-note") == "厂房火势扩大"
    assert page.input_value("#joint-count") == "2"
    context.close()


def test_ambiguous_address_alternatives_set_the_point(city: City, browser: Any) -> None:  # noqa: F811
    """Two standard addresses fit the typed text equally (the village is not named): the
    dispatcher reads why in Chinese and takes one of the alternatives with a click, which
    sets the call's point and address (the alternatives once came without coordinates and
    the click did nothing)."""
    from firegrid.places.models import StandardAddress

    with city.db.session() as session:
        for n, village, lon in ((1, "东村", 113.7101), (2, "北村", 113.7202)):
            if session.scalars(
                select(StandardAddress).where(StandardAddress.code == f"E2E-ALT-{n}")
            ).first():
                continue
            session.add(
                StandardAddress(
                    code=f"E2E-ALT-{n}",
                    town="试验镇",
                    village=village,
                    road="演练路",
                    number="18",
                    building="",
                    unit="",
                    room="",
                    full_text=f"东莞市试验镇{village}演练路18号",
                    lon=lon,
                    lat=22.9,
                    jurisdiction_path=city.venue_path,
                )
            )
    page = sign_in(browser, city, "dispatcher", PASSWORDS["dispatcher"])
    page.goto(f"{city.base}/#/dispatch")
    page.wait_for_selector("#call-address")
    page.fill("#call-address", "试验镇演练路18号")
    page.click("#geocode-search")
    page.wait_for_selector("[data-testid=geocode-result] .alt-list button")
    assert "请补充村" in page.inner_text("[data-testid=geocode-result] .warn")
    page.click("[data-testid=geocode-result] button[data-address-code=E2E-ALT-2]")
    page.wait_for_selector("#call-point[data-set=true]")
    assert "113.72020, 22.90000" in page.inner_text("#call-point")
    assert page.input_value("#call-address") == "东莞市试验镇北村演练路18号"
    assert errors_of(city, "dispatcher") == []
    page.context.close()


def test_aid_request_is_answered_by_the_other_town_live(city: City, browser: Any) -> None:  # noqa: F811
    from firegrid.dispatch.command import neighbours
    from firegrid.dispatch.models import Station, Vehicle

    found = codes(city)
    with city.db.session() as session:
        towns = neighbours(session, found["town_path"])
        assert towns, "the demo town has no neighbour"
        # the town asked: a neighbour with an available unit (it accepts the second request)
        rows = session.execute(
            select(Station.jurisdiction_path, Vehicle.vehicle_type)
            .join(Vehicle, Vehicle.station_id == Station.id)
            .where(Vehicle.status == "available_in_station")
        ).all()
        available = [(str(path), str(kind)) for path, kind in rows]
        town_kind = {
            t.code: next((k for p, k in available if p.startswith(t.path)), None) for t in towns
        }
        other = next((t for t in towns if town_kind[t.code]), None)
        assert other is not None, f"no neighbour of the demo town has a unit: {town_kind}"
        other_code, other_name, kind = other.code, other.name_zh, town_kind[other.code]
    add_user(city, "commander_b", "commander", other_code)
    with api_client(city, "dispatcher", PASSWORDS["dispatcher"]) as client:
        incident_id = open_incident(client, *venue_point(city))

    requester = sign_in(browser, city, "dispatcher", PASSWORDS["dispatcher"])
    requester.goto(f"{city.base}/#/dispatch/incident/{incident_id}")
    requester.wait_for_selector("#incident-title")
    # the live channel's catch-up re-renders the incident when it opens: fill the form after
    # it (a CI run on a loaded machine clicked into a form being replaced, and no request left)
    requester.wait_for_selector("[data-testid=live-status][data-state=open]")
    requester.wait_for_selector(f"#joint-town option[value='{other_code}']", state="attached")
    requester.select_option("#joint-town", other_code)
    requester.fill("#joint-count", "2")
    requester.fill("#joint-note", "厂房火势扩大")
    requester.click("[data-action=joint-defence]")
    mine = requester.locator(
        f"[data-testid=aid-requests] li[data-kind=joint_defence]:has-text('{other_name}')"
    )
    mine.wait_for()  # named by its town, not its code
    assert mine.get_attribute("data-status") == "pending"
    aid_id = mine.get_attribute("data-aid-id")

    answerer = sign_in(browser, city, "commander_b", PASSWORD)
    answerer.goto(f"{city.base}/#/dispatch")
    item = answerer.locator(f"[data-testid=aid-inbox] li[data-aid-id='{aid_id}']")
    item.wait_for()
    assert "厂房火势扩大" in item.inner_text()
    # a decline needs a reason: refused on the field before anything is sent
    item.locator("[data-action=aid-decline]").click()
    assert answerer.get_attribute(f"#aid-{aid_id}-reason", "aria-invalid") == "true"
    answerer.fill(f"#aid-{aid_id}-reason", "本镇车辆均在执勤")
    started = time.monotonic()
    item.locator("[data-action=aid-decline]").click()
    # the requester sees the answer without reloading (the live channel)
    requester.wait_for_selector(
        f"[data-testid=aid-requests] li[data-aid-id='{aid_id}'][data-status=declined]",
        timeout=10000,
    )
    seen_s = time.monotonic() - started
    answer = requester.inner_text(f"[data-testid=aid-requests] li[data-aid-id='{aid_id}']")
    assert "本镇车辆均在执勤" in answer
    assert "已拒绝" in answer
    assert seen_s < 10
    shot(requester, "dispatch-aid-answered-desktop")
    answerer.wait_for_selector(
        f"[data-testid=aid-inbox] li[data-aid-id='{aid_id}']", state="detached"
    )

    # a second request, accepted: the other town's units are sent and the requester sees it
    requester.select_option("#joint-town", other_code)
    requester.select_option("#joint-vehicle", kind)
    requester.fill("#joint-count", "1")
    requester.fill("#joint-note", "需要水罐车")
    requester.click("[data-action=joint-defence]")
    second = requester.locator(
        "[data-testid=aid-requests] li[data-status=pending]:has-text('需要水罐车')"
    )
    second.wait_for()
    second_id = second.get_attribute("data-aid-id")
    offer = answerer.locator(f"[data-testid=aid-inbox] li[data-aid-id='{second_id}']")
    offer.wait_for()
    offer.locator("[data-action=aid-accept]").click()
    accepted = requester.wait_for_selector(
        f"[data-testid=aid-requests] li[data-aid-id='{second_id}'][data-status=accepted]",
        timeout=10000,
    )
    assert "派出 1 辆" in accepted.inner_text()
    requester.click("#tab-units")
    requester.wait_for_selector(f"[data-testid=units-table] td:has-text('#{incident_id}')")
    requester.click("#tab-incident")

    # escalate one level; once the city commands it, a further escalation is refused in
    # Chinese, not in the server's English
    requester.fill("#escalate-cause", "火势蔓延")
    requester.click("[data-action=escalate]")
    requester.wait_for_selector("[data-testid=timeline] td:has-text('升级指挥')")
    with api_client(city, "dispatcher", PASSWORDS["dispatcher"]) as client:
        for _ in range(3):
            if (
                client.post(
                    f"/api/v1/incidents/{incident_id}/escalate", json={"cause": "e2e"}
                ).status_code
                == 409
            ):
                break
        else:
            pytest.fail("the incident never reached the city level")
    requester.fill("#escalate-cause", "再次升级")
    requester.click("[data-action=escalate]")
    toast = requester.wait_for_selector(".toast-error")
    assert toast.inner_text() == "无法升级：警情已结案，或已由市级指挥。"

    # a closed incident offers neither "一键调派" nor status buttons
    with api_client(city, "dispatcher", PASSWORDS["dispatcher"]) as client:
        closed = client.post(
            f"/api/v1/incidents/{incident_id}/status", json={"status": "closed", "confirm": True}
        )
        assert closed.status_code == 200, closed.text
    requester.wait_for_selector("[data-testid=incident-closed]")
    assert requester.locator("[data-testid=incident-detail] [data-action=dispatch]").count() == 0
    assert requester.locator("[data-testid=incident-detail] [data-action^=status-]").count() == 0
    assert requester.locator("[data-action=escalate]").count() == 0
    errors = errors_of(city, "dispatcher") + errors_of(city, "commander_b")
    # the refused escalation is an expected 409 the page explains; nothing else may fail
    assert all("409" in e for e in errors), errors
    requester.context.close()
    answerer.context.close()


# Venue manager ----------------------------------------------------------------------------


def manager_device(site: City) -> tuple[int, int]:
    """A venue of the demo venue manager and a device there (one is registered if none)."""
    from firegrid.accounts.models import User
    from firegrid.accounts.service import venue_ids_of
    from firegrid.devices.models import Device
    from firegrid.places.models import Venue

    with site.db.session() as session:
        user = session.scalars(select(User).where(User.username == "venue")).one()
        venues = sorted(venue_ids_of(session, user.id))
        assert venues, "the demo venue manager has no venue"
        row = session.execute(
            select(Device.venue_id, Device.id)
            .where(Device.venue_id.in_(venues), Device.deleted_at.is_(None))
            .order_by(Device.id)
        ).first()
        if row is not None:
            return int(row[0]), int(row[1])
        venue = session.get(Venue, venues[0])
        assert venue is not None
        device = Device(
            code="E2E-SMOKE-1",
            kind="smoke_alarm",
            protocol="mqtt",
            external_id="e2e-smoke-1",
            venue_id=venue.id,
            install_location="",
            jurisdiction_path=venue.jurisdiction_path,
        )
        session.add(device)
        session.flush()
        return venue.id, device.id


def fire_at(site: City, device_id: int) -> Any:
    from firegrid.core.clock import utcnow
    from firegrid.devices.models import Device
    from firegrid.ingest.events import Component, DeviceEvent, EventKind

    now = utcnow()
    with site.db.session() as session:
        device = session.get(Device, device_id)
        assert device is not None
        return DeviceEvent(
            event_id=f"e2e-venue:{time.time_ns()}",
            device_id=device.id,
            external_id=device.external_id,
            protocol=device.protocol,
            venue_id=device.venue_id,
            jurisdiction_path=device.jurisdiction_path,
            occurred_at=now - timedelta(seconds=1),
            received_at=now,
            kind=EventKind.FIRE_ALARM,
            component=Component(
                system_type=1, system_address=1, component_type=30, component_address=7, loop=1
            ),
            values={},
        )


def test_venue_manager_sees_their_venue_alarm(city: City, browser: Any) -> None:  # noqa: F811
    venue_id, device_id = manager_device(city)
    page = sign_in(browser, city, "venue", "firegrid-owner-2026")
    # the venue manager lands on its own page, not "no page for your role"
    page.wait_for_selector("[data-testid=venue-page]")
    assert page.locator(".nav-link").first.get_attribute("data-view") == "venue"
    page.goto(f"{city.base}/#/venue/{venue_id}")
    page.wait_for_selector("[data-testid=venue-devices]")
    page.wait_for_selector("[data-testid=live-status][data-state=open]")
    before = page.locator("[data-testid=venue-alarms] tr[data-kind=fire]").count()
    city.services.append([fire_at(city, device_id)])
    page.wait_for_function(
        "n => document.querySelectorAll("
        "'[data-testid=venue-alarms] tr[data-kind=fire]').length > n",
        arg=before,
        timeout=10000,
    )
    assert page.locator("[data-testid=venue-preplan]").get_attribute("href") == (
        f"#/preplans/venue/{venue_id}"
    )
    shot(page, "venue-manager-desktop")
    assert errors_of(city, "venue") == []
    page.context.close()


# Shortcuts --------------------------------------------------------------------------------


def test_shortcut_opens_a_new_call(city: City, browser: Any) -> None:  # noqa: F811
    page = sign_in(browser, city, "dispatcher", PASSWORDS["dispatcher"])
    page.wait_for_selector("[data-testid=incident-list]")
    page.click("h2#call-title")  # focus out of any field
    page.keyboard.press("n")
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == (
        "call-number"
    )
    # typing in a field is typing, not a shortcut
    page.click("#call-address")
    page.keyboard.type("n?d")
    assert page.input_value("#call-address") == "n?d"
    assert page.evaluate("() => document.activeElement.id") == "call-address"
    assert page.locator("[data-testid=shortcut-help]").is_hidden()
    page.click("h2#call-title")
    page.keyboard.press("?")
    help_box = page.locator("[data-testid=shortcut-help]")
    assert help_box.is_visible()
    assert "一键调派推荐车辆" in help_box.inner_text()
    shot(page, "dispatch-shortcuts-desktop")
    page.keyboard.press("Escape")
    assert help_box.is_hidden()
    page.context.close()


# Every role -------------------------------------------------------------------------------


def test_every_role_signs_in_to_a_page(city: City, browser: Any) -> None:  # noqa: F811
    from firegrid.accounts.models import User
    from firegrid.accounts.service import venue_ids_of

    found = codes(city)
    with city.db.session() as session:
        manager = session.scalars(select(User).where(User.username == "venue")).one()
        venues = sorted(venue_ids_of(session, manager.id))
    for role in Role:
        username = f"seat.{role.value}".replace("_", "-")
        scope = found["town"] if role is Role.VENUE_MANAGER else found["city"]
        extra = {"venue_ids": venues} if role is Role.VENUE_MANAGER else {}
        add_user(city, username, role.value, scope, **extra)
        page = sign_in(browser, city, username, PASSWORD)
        if role is Role.INTEGRATION:
            refusal = page.inner_text("[role=alert]")
            assert "机器账号" in refusal, refusal
            assert page.locator(".nav-link").count() == 0
        else:
            links = page.locator(".nav-link")
            assert links.count() >= 1, role
            assert page.locator("main#main.view").count() == 1, role
            assert "没有可用的页面" not in page.inner_text("body"), role
        page.context.close()
        assert errors_of(city, username) == [], role


# Phone width and accessibility of the new pages -------------------------------------------

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page: Any) -> list[str]:
    if not AXE.exists():
        pytest.skip("axe-core is not installed (cd web && npm ci)")
    page.evaluate(AXE.read_text(encoding="utf-8"))  # as a DevTools script: not subject to CSP
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))"
        ".filter(t => t !== '.lang').slice(0, 3)}))"
    )
    # the shell's language button is the console-wide check's (consoletexts), not these pages'
    return [f"{v['id']}: {v['nodes']}" for v in found if v["nodes"]]


def overflow_px(page: Any) -> int:
    width: int = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
    return width


@pytest.mark.parametrize(
    ("who", "password", "route", "ready"),
    [
        ("admin", PASSWORDS["admin"], "#/admin/users", "[data-testid=users-table]"),
        ("admin", PASSWORDS["admin"], "#/admin/apikeys", "[data-testid=key-form]"),
        ("admin", PASSWORDS["admin"], "#/admin/audit", "[data-testid=audit-table]"),
        ("admin", PASSWORDS["admin"], "#/admin/workorders", "[data-testid=workorders-list] > *"),
        ("admin", PASSWORDS["admin"], "#/admin/quarantine", "[data-testid=quarantine-list] > *"),
        ("venue", "firegrid-owner-2026", "#/venue", "[data-testid=venue-devices]"),
    ],
)
def test_new_pages_fit_a_phone_and_pass_axe(
    city: City,  # noqa: F811
    browser: Any,  # noqa: F811
    who: str,
    password: str,
    route: str,
    ready: str,
) -> None:
    page = sign_in(browser, city, who, password)
    page.set_viewport_size(PHONE)
    page.goto(f"{city.base}/{route}")
    page.wait_for_selector(ready)
    assert overflow_px(page) <= 0, f"{route} overflows at 390 px"
    assert serious_violations(page) == [], route
    shot(page, f"{route.strip('#/').replace('/', '-')}-phone")
    page.context.close()


def test_admin_adopts_a_quarantined_device(city: City, browser: Any) -> None:  # noqa: F811
    from firegrid.core.clock import utcnow
    from firegrid.devices.models import Device
    from firegrid.ingest.models import QuarantineDevice, QuarantinedMessage
    from firegrid.places.models import Venue

    now = utcnow()
    with city.db.session() as session:
        session.add(
            QuarantineDevice(
                protocol="mqtt",
                external_id="e2e-unknown-7",
                first_seen=now - timedelta(minutes=5),
                last_seen=now,
                message_count=1,
                last_peer="127.0.0.1",
            )
        )
        session.add(
            QuarantinedMessage(
                protocol="mqtt",
                external_id="e2e-unknown-7",
                received_at=now,
                raw_hex="7b7d",
                summary={"kind": "fire_alarm"},
            )
        )
        venue = session.get(Venue, city.venue_id)
        assert venue is not None
        venue_name = venue.name
    page = sign_in(browser, city, "admin", PASSWORDS["admin"])
    page.goto(f"{city.base}/#/admin/quarantine")
    row = page.locator("[data-testid=quarantine-table] tr[data-external-id='e2e-unknown-7']")
    row.wait_for()
    row.locator("[data-action=messages]").click()
    assert "fire_alarm" in page.inner_text("[data-testid=quarantine-messages]")
    row.locator("[data-action=adopt]").click()
    page.fill("#adopt-code", "")
    page.click("#adopt-submit")
    assert page.inner_text("#adopt-venue_id-problem") == "必填"
    assert page.inner_text("#adopt-code-problem") == "必填"
    # the venue found by name fills its id
    page.fill("#adopt-venue-search", venue_name[:4])
    page.locator("[data-testid=adopt-venue-hits] button").first.wait_for()
    page.locator(f"[data-testid=adopt-venue-hits] button:has-text('#{city.venue_id} ')").click()
    assert page.input_value("#adopt-venue_id") == str(city.venue_id)
    page.fill("#adopt-code", "E2E-ADOPT-7")
    page.select_option("#adopt-kind", "smoke_alarm")
    page.click("#adopt-submit")
    page.wait_for_selector("[data-testid=quarantine-table], [data-testid=quarantine-list] .empty")
    page.wait_for_selector(
        "[data-testid=quarantine-table] tr[data-external-id='e2e-unknown-7']", state="detached"
    )
    with city.db.session() as session:
        device = session.scalars(select(Device).where(Device.code == "E2E-ADOPT-7")).one()
        assert device.venue_id == city.venue_id
        assert device.external_id == "e2e-unknown-7"
    assert errors_of(city, "admin") == []
    page.context.close()
