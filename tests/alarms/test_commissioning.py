"""Commissioning: a device that never reported is "not commissioned", not offline — until
its install date plus the grace period has passed. Counted so in the device health route,
the monitoring centre's statistics and the risk inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.devices.commissioning import Health, classify, health_counts
from firegrid.devices.models import Device
from firegrid.devices.state import DeviceRef, DeviceStateTracker
from tests.accounts.city import City
from tests.alarms.conftest import Site, Users, add_device


def _install(db: Database, device_id: int, days_ago: float) -> None:
    with db.session() as session:
        device = session.get(Device, device_id)
        assert device is not None
        device.installed_at = utcnow() - timedelta(days=days_ago)


def _report(db: Database, site: Site, *device_ids: int, offline: tuple[int, ...] = ()) -> None:
    """The devices report through the real state tracker (flushed to device_state);
    those in ``offline`` then go silent past the offline grace."""
    now = utcnow()
    tracker = DeviceStateTracker(offline_grace_s=60, clock=lambda: now)
    for device_id in device_ids:
        ref = DeviceRef(device_id, f"X{device_id}", "http", site.venue_id, site.path)
        at = now - timedelta(seconds=600) if device_id in offline else now
        tracker.seen(ref, at)
    assert len(tracker.check_offline(now)) == len(offline)
    tracker.flush(db)


def test_never_reported_devices_are_not_commissioned_until_install_plus_grace(
    db: Database, city: City, site: Site
):
    # the site's three devices: the smoke alarm reports, the transmitter reported then
    # went silent, the sprinkler never reported; plus two more never heard from
    late = add_device(db, city, "in", "smoke_alarm", site.venue_id)  # installed 30 days ago
    fresh = add_device(db, city, "in", "smoke_alarm", site.venue_id)  # installed yesterday
    _install(db, late, 30)
    _install(db, fresh, 1)
    _report(db, site, site.smoke, site.transmitter, offline=(site.transmitter,))
    ours = Device.id.in_([site.smoke, site.transmitter, site.sprinkler, late, fresh])
    with db.session() as session:
        counts = health_counts(session, ours)
    assert counts == {"registered": 5, "online": 1, "offline": 2, "not_commissioned": 2}
    # with no grace period left at all, the one installed yesterday is overdue too
    with db.session() as session:
        strict = health_counts(session, ours, grace=timedelta(0))
    assert strict == {"registered": 5, "online": 1, "offline": 3, "not_commissioned": 1}


def test_one_device_reporting_does_not_make_the_others_offline(
    db: Database, site: Site, users: Users, client: TestClient
):
    _report(db, site, site.smoke)
    # the town's devices: the site's three and the test city's own one (never reported)
    body = client.get("/api/v1/devices/health", headers=users.operator).json()
    assert body["counts"] == {"registered": 4, "online": 1, "offline": 0, "not_commissioned": 3}
    by_id = {i["device_id"]: i for i in body["items"]}
    assert by_id[site.smoke]["health"] == "online"
    assert by_id[site.sprinkler]["health"] == "not_commissioned"
    assert by_id[site.sprinkler]["commissioned"] is False
    only = client.get(
        "/api/v1/devices/health", params={"health": "not_commissioned"}, headers=users.operator
    ).json()
    listed = {i["device_id"] for i in only["items"]}
    assert {site.transmitter, site.sprinkler} <= listed
    assert site.smoke not in listed
    assert len(listed) == 3
    # another town's operator sees only that town's device
    outside = client.get("/api/v1/devices/health", headers=users.outsider).json()
    assert outside["counts"]["registered"] == 1
    assert not {i["device_id"] for i in outside["items"]} & {site.smoke, site.sprinkler}
    # the operator's venue dossier says which devices are not commissioned
    from firegrid.alarms.directory import venue_dossier

    with db.session() as session:
        dossier = venue_dossier(session, site.venue_id)
    health = {d["id"]: d["health"] for d in dossier["devices"]}
    assert health[site.smoke] == "online"
    assert health[site.sprinkler] == health[site.transmitter] == "not_commissioned"
    # the monitoring centre's statistics report them separately
    stats = client.get("/api/v1/alarms/stats", headers=users.operator).json()
    assert stats["devices"] == {"registered": 4, "online": 1, "offline": 0, "not_commissioned": 3}


def test_classify_rule():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    grace = timedelta(days=7)
    never = {"reported": False, "online": False, "now": now, "grace": grace}
    assert classify(**never, installed_at=None) is Health.NOT_COMMISSIONED
    assert classify(**never, installed_at=now - timedelta(days=6)) is Health.NOT_COMMISSIONED
    assert classify(**never, installed_at=now - timedelta(days=8)) is Health.OFFLINE
    seen = {"reported": True, "installed_at": None, "now": now, "grace": grace}
    assert classify(**seen, online=True) is Health.ONLINE
    assert classify(**seen, online=False) is Health.OFFLINE


def test_the_install_date_is_part_of_the_registry(
    db: Database, city: City, site: Site, users: Users, client: TestClient
):
    response = client.patch(
        f"/api/v1/devices/{site.sprinkler}",
        json={"installed_at": "2026-01-05T08:00:00+08:00"},
        headers=users.admin,
    )
    assert response.status_code == 200, response.text
    with db.session() as session:
        stored = session.scalars(select(Device.installed_at).where(Device.id == site.sprinkler))
        assert stored.one() == datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    naive = client.patch(
        f"/api/v1/devices/{site.sprinkler}",
        json={"installed_at": "2026-01-05T08:00:00"},
        headers=users.admin,
    )
    assert naive.status_code == 422
