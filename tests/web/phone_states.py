"""The states an operator opens on a phone, for tests/web/test_phone_a11y_e2e.py.

Each state is a generator: it brings the page into a state (through the product's own
paths: a fire appended to the durable event log as an ingest adapter does, the API a
colleague uses, clicks and keys on the page) and yields ``(name, must_fit)``; the caller
checks the screen (overflow, axe-core) while the generator waits. ``must_fit`` is a
selector of an element (a banner, an overlay) that must lie within the phone's width, since
an overflowing fixed or absolute element does not widen the document.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import msgspec
from sqlalchemy import select

from tests.web.test_console_e2e import PASSWORDS, City, colleague_task, fire_event

#: a view has settled once none of its requests has been pending for this long (seconds)
QUIET = 0.15
#: ...or, at the latest, after this long (a view that never settles is checked as it is)
SETTLE_LIMIT = 5.0


class Inflight:
    """The page's requests still pending, long-lived streams (the live feed) left out.

    Playwright delivers a page's events while the test waits on it (``wait_for_timeout``),
    so :meth:`settle` polls with short waits.
    """

    def __init__(self, page: Any) -> None:
        self.page = page
        self.pending: set[Any] = set()
        self.last = time.monotonic()  # when a request last started or ended
        page.on("request", self._started)
        page.on("response", self._answered)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Any) -> None:
        self.last = time.monotonic()
        if request.resource_type != "eventsource":  # an EventSource never finishes
            self.pending.add(request)

    def _answered(self, response: Any) -> None:
        # a stream by fetch: its headers arrive, its body never ends
        if (response.headers.get("content-type") or "").startswith("text/event-stream"):
            self.pending.discard(response.request)

    def _ended(self, request: Any) -> None:
        self.last = time.monotonic()
        self.pending.discard(request)

    def settle(self, since: float | None = None) -> None:
        """Wait until no request has been pending for ``QUIET`` s (``SETTLE_LIMIT`` at most):
        the view's data has come and been drawn, as a person looking at it would see it.

        The quiet is counted from ``since`` at the earliest (``time.monotonic()``; by
        default now): from when the view was asked for, its first request may be a moment
        away."""
        start = time.monotonic()
        self.last = max(self.last, start if since is None else since)
        while time.monotonic() - start < SETTLE_LIMIT:
            if not self.pending and time.monotonic() - self.last >= QUIET:
                return
            self.page.wait_for_timeout(15)


#: each signed-in page's requests in flight (``sign_in`` of the test module registers)
INFLIGHT: weakref.WeakKeyDictionary[Any, Inflight] = weakref.WeakKeyDictionary()


def settle(page: Any, since: float | None = None) -> None:
    """Wait for the page's requests to settle (see :meth:`Inflight.settle`)."""
    INFLIGHT[page].settle(since)


Opened = Iterator[tuple[str, str | None]]
State = Callable[[Any, City], Opened]

#: venues a state has raised a fire at, per server (a venue's fire alarms fold into one)
_claimed: dict[str, set[int]] = {}


def _spare_venue(city: City) -> tuple[int, int, str]:
    """A venue of the grid worker's grid with a device and no open alarm, not used yet.

    ``city.venue_id`` is left to the other tests of the module (a fire there must open a
    new alarm for them). Returns (venue id, device id, venue's jurisdiction path).
    """
    from firegrid.alarms.models import Alarm
    from firegrid.devices.models import Device
    from firegrid.places.models import Venue

    claimed = _claimed.setdefault(city.base, {city.venue_id})
    with city.db.session() as session:
        busy = set(
            session.scalars(
                select(Alarm.venue_id).where(
                    Alarm.status.in_(("new", "acknowledged", "verifying", "confirmed"))
                )
            )
        )
        rows = session.execute(
            select(Venue.id, Device.id, Venue.jurisdiction_path)
            .join(Device, Device.venue_id == Venue.id)
            .where(Venue.jurisdiction_path == city.venue_path, Device.deleted_at.is_(None))
            .order_by(Venue.id, Device.id)
        ).all()
    for venue_id, device_id, path in rows:
        if venue_id not in claimed and venue_id not in busy:
            claimed.add(venue_id)
            return venue_id, device_id, path
    raise AssertionError("no spare venue with a device left in the demo grid")


def raise_fire(city: City) -> int:
    """A fire alarm at a spare venue, appended to the durable log; returns the venue id."""
    from firegrid.devices.models import Device

    venue_id, device_id, path = _spare_venue(city)
    with city.db.session() as session:
        device = session.get(Device, device_id)
        assert device is not None
        external_id, protocol = device.external_id, device.protocol
    event = msgspec.structs.replace(
        fire_event(city),
        device_id=device_id,
        external_id=external_id,
        protocol=protocol,
        venue_id=venue_id,
        jurisdiction_path=path,
    )
    city.services.append([event])
    return venue_id


@contextmanager
def _client(city: City, who: str) -> Iterator[httpx.Client]:
    """An API client signed in as ``who`` (a bearer token, as a colleague's tool uses)."""
    with httpx.Client(base_url=city.base + "/api/v1", timeout=15) as client:
        login = client.post("/auth/login", json={"username": who, "password": PASSWORDS[who]})
        login.raise_for_status()
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        yield client


def _open_alarm_at(city: City, venue_id: int) -> int:
    """The id of the venue's open fire alarm, once the correlator has folded the event."""
    with _client(city, "admin") as client:
        for _ in range(150):
            page = client.get("/alarms", params={"limit": 50}).json()
            for alarm in page["items"]:
                if alarm["venue_id"] == venue_id and alarm["kind"] == "fire":
                    return int(alarm["alarm_id"])
            time.sleep(0.1)
    raise AssertionError(f"no fire alarm opened at venue {venue_id}")


def monitor_fire(page: Any, city: City) -> Opened:
    """A new fire: the banner over the map, then the alarm's detail with its actions."""
    page.goto(f"{city.base}/#/monitor")
    page.wait_for_selector("[data-testid=feed-status][data-state=open]")
    raise_fire(city)
    page.locator("[data-testid=fire-banner]").wait_for()
    # the top bar's flash ends (2.5 s; on a phone the banner does not pulse)
    page.wait_for_function("() => !document.body.classList.contains('flash')")
    settle(page)
    yield "fire-banner", "[data-testid=fire-banner]"
    page.click("[data-testid=banner-open]")
    page.wait_for_selector("[data-testid=alarm-actions]")
    # the false-alarm outcome shows its reason field: the longest form of the call fieldset
    page.select_option("#call-outcome", "false_alarm")
    settle(page)
    yield "alarm-detail", None


def dispatcher_incident(page: Any, city: City) -> Opened:
    """A call and its incident (opened through the API a colleague's seat uses): the
    incident's detail with its actions, the shortcut help overlay ("?"), units sent."""
    from firegrid.places.models import StandardAddress

    with city.db.session() as session:
        lon, lat = session.execute(
            select(StandardAddress.lon, StandardAddress.lat).where(
                StandardAddress.full_text == city.address
            )
        ).one()
    with _client(city, "dispatcher") as client:
        call = client.post(
            "/calls",
            json={
                "caller_number": "13800000000",
                "address_text": city.address,
                "lon": lon,
                "lat": lat,
                "incident_type": "building_fire",
                "description": "3F smoke",
            },
        )
        assert call.status_code == 201, call.text
        opened = client.post(
            f"/calls/{call.json()['call']['id']}/incident",
            json={"incident_type": "building_fire", "level": 1},
        )
        assert opened.status_code == 201, opened.text
        incident_id = opened.json()["id"]
    page.goto(f"{city.base}/#/dispatch/incident/{incident_id}")
    page.wait_for_selector("#incident-title")
    page.wait_for_selector("[data-testid=recommendation] tbody tr")
    settle(page)
    yield "incident-detail", None
    page.locator("#incident-title").click()  # focus out of any field: "?" is a shortcut
    page.keyboard.press("?")
    page.wait_for_selector("[data-testid=shortcut-help]:not([hidden])")
    yield "shortcut-help", ".shortcut-card"
    page.keyboard.press("Escape")
    page.wait_for_selector("[data-testid=shortcut-help]", state="hidden")
    page.click("[data-action=dispatch]")
    page.wait_for_selector("[data-testid=assigned-units] tbody tr")
    settle(page)
    yield "incident-units-sent", None


def gridworker_task(page: Any, city: City) -> Opened:
    """A new on-site check arrives live (banner), then the task's form on the phone."""
    page.goto(f"{city.base}/#/tasks")
    page.wait_for_selector("[data-testid=tasks-page] h2")
    settle(page)  # the page's first look at the open tasks
    alarm_id = _open_alarm_at(city, raise_fire(city))
    colleague_task(city, alarm_id)
    page.locator("[data-testid=task-banner]").wait_for()
    settle(page)
    yield "task-banner", "[data-testid=task-banner]"
    page.click("[data-testid=task-banner-open]")
    page.wait_for_selector("#task-submit")
    page.check("#result-false_alarm")
    page.fill("#task-note", "smoke from cooking, no fire")
    settle(page)
    yield "task-detail", None


def admin_user_form(page: Any, city: City) -> Opened:
    """The new-user form filled wrongly and submitted: each field shows its problem."""
    page.goto(f"{city.base}/#/admin/users")
    page.wait_for_selector("[data-testid=user-form]")
    page.fill("#user-username", "No Spaces Allowed!")
    page.fill("#user-scope_code", "")
    page.fill("#user-password", "short")
    page.select_option("#user-role", "venue_manager")
    page.fill("#user-venue_ids", "12, x")
    page.click("#user-create")
    page.wait_for_selector("#user-username[aria-invalid=true]")
    settle(page)
    yield "user-form-problems", "[data-testid=user-form]"


#: role's demo user -> the states opened after its views
STATES: dict[str, tuple[State, ...]] = {
    "monitor": (monitor_fire,),
    "dispatcher": (dispatcher_incident,),
    "gridworker": (gridworker_task,),
    "admin": (admin_user_form,),
}
