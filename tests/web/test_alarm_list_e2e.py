"""The monitor's alarm list in a storm, in Debian's Chromium (Playwright) against a real server.

A storm of fault events (repeats of open faults and new faults of further venues) runs while
the operator points at the 3rd row of the list and clicks it, several times, leaving the list
in between so it reorders. Every click must open the alarm that was under the pointer when the
pointer came to rest on it: the list holds still under the pointer. The longest main-thread
task (PerformanceObserver ``longtask``) is measured and printed (``-s``), never asserted.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from firegrid.alarms.models import Alarm
from firegrid.core.clock import utcnow
from firegrid.devices.models import Device
from firegrid.ingest.events import Component, DeviceEvent, EventKind
from tests.web.test_console_e2e import DESKTOP, open_page
from tests.web.test_live_e2e import WAIT_MS, LiveCity, _as_city, browser, lcity

pytestmark = pytest.mark.browser
__all__ = ["browser", "lcity"]  # the module's fixtures

CLICKS = 5
STORM_BATCH = 20  # events per batch
STORM_PAUSE_S = 0.05
NEW_EVERY = 3  # batches between new alarms


def _fault_devices(lcity: LiveCity, count: int) -> list[Device]:
    with lcity.db.sessions() as session:
        ids = session.execute(
            select(func.max(Device.id))  # not the fire detectors the live tests use
            .where(Device.deleted_at.is_(None), Device.venue_id.is_not(None))
            .group_by(Device.venue_id)
            .order_by(func.max(Device.id))
            .limit(count)
        ).all()
        rows = list(session.scalars(select(Device).where(Device.id.in_([r[0] for r in ids]))).all())
        session.expunge_all()
    return rows


def _fault(device: Device, serial: int) -> DeviceEvent:
    now = utcnow()
    return DeviceEvent(
        event_id=f"storm:{time.time_ns()}:{device.id}:{serial}",
        device_id=device.id,
        external_id=device.external_id,
        protocol=device.protocol,
        venue_id=device.venue_id,
        jurisdiction_path=device.jurisdiction_path,
        occurred_at=now - timedelta(seconds=1),
        received_at=now,
        kind=EventKind.FAULT,
        component=Component(
            system_type=1, system_address=1, component_type=30, component_address=7, loop=2
        ),
        values={},
    )


def _open_faults(lcity: LiveCity) -> int:
    with lcity.db.sessions() as session:
        return int(
            session.scalar(select(func.count()).select_from(Alarm).where(Alarm.kind == "fault"))
            or 0
        )


class Storm:
    """Fault events in the background: every batch repeats the active venues' faults and
    adds, every ``NEW_EVERY`` batches, the fault of one more venue (a new alarm, placed by
    priority at the top)."""

    def __init__(self, lcity: LiveCity, devices: list[Device], active: int) -> None:
        self.lcity = lcity
        self.devices = devices
        self.active = active
        self.sent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        serial = 0
        batches = 0
        while not self.stop.is_set():
            batches += 1
            if batches % NEW_EVERY == 0:
                self.active = min(len(self.devices), self.active + 1)
            pool = self.devices[: self.active]
            batch = [_fault(pool[-1 - (i % len(pool))], serial + i) for i in range(STORM_BATCH)]
            serial += STORM_BATCH
            self.lcity.services.append(batch)
            self.sent += len(batch)
            time.sleep(STORM_PAUSE_S)

    def __enter__(self) -> Storm:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


# The detail shows the alarm the location names (the click sets the location at once).
DETAIL_SHOWS_HASH = """() => {
  const detail = document.querySelector("[data-testid=alarm-detail]");
  return location.hash.startsWith("#/monitor/alarm/") && detail.querySelector("#alarm-title")
    && detail.dataset.alarmId === location.hash.split("/").pop();
}"""

LONGTASKS = """() => {
  window.__longest = 0; window.__longtasks = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      window.__longtasks += 1;
      window.__longest = Math.max(window.__longest, e.duration);
    }
  }).observe({ type: "longtask", buffered: false });
}"""


def test_the_third_row_opens_what_was_under_the_pointer_in_a_fault_storm(
    lcity: LiveCity, browser: Any
) -> None:
    city = _as_city(lcity)
    devices = _fault_devices(lcity, 120)
    assert len(devices) >= 20
    before = _open_faults(lcity)
    lcity.services.append([_fault(d, 0) for d in devices[:6]])
    page = open_page(browser, city, DESKTOP, "monitor")
    page.wait_for_selector("[data-testid=feed-status][data-state=open]", timeout=WAIT_MS)
    rows = "[data-testid=alarm-list] button.alarm-item"
    page.wait_for_function(
        f'() => document.querySelectorAll("{rows}").length >= 6', timeout=WAIT_MS
    )
    page.evaluate(LONGTASKS)
    opened: list[tuple[int, int]] = []
    with Storm(lcity, devices, active=6) as storm:
        for n in range(CLICKS):
            page.mouse.move(5, 5)  # off the list: it reorders with what arrived meanwhile
            page.wait_for_timeout(600)
            third = page.locator(rows).nth(2)
            box = third.bounding_box()
            assert box is not None
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y, steps=4)  # the pointer comes to rest on the 3rd row
            wanted = int(
                page.evaluate(
                    "([x, y]) => document.elementFromPoint(x, y)"
                    ".closest('button.alarm-item').dataset.alarmId",
                    [x, y],
                )
            )
            page.wait_for_timeout(400)  # the storm goes on while the operator aims
            page.mouse.click(x, y)  # the click handler sets the hash at once
            page.wait_for_function(DETAIL_SHOWS_HASH, timeout=WAIT_MS)
            got = int(page.evaluate("() => location.hash.split('/').pop()"))
            opened.append((wanted, got))
            print(f"\n[storm click {n + 1}] pointed at #{wanted}, opened #{got}")
        sent = storm.sent
    longest_ms = page.evaluate("() => window.__longest")
    long_count = page.evaluate("() => window.__longtasks")
    made = _open_faults(lcity) - before
    print(
        f"\n[alarm list storm] {sent} fault events, {made} fault alarms, {CLICKS} clicks; "
        f"longest main-thread task {longest_ms:.0f} ms, {long_count} long tasks "
        "(2-core machine shared with other work)"
    )
    assert [w for w, _ in opened] == [g for _, g in opened]
    assert len({w for w, _ in opened}) > 1, "the list never reordered between clicks"
    assert made > 6  # the storm made new alarms while the operator clicked
    page.context.close()
