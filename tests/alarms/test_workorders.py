"""Work orders for faults: assignment, reminders, overdue work turns the venue yellow."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.accounts.principal import system_principal
from firegrid.alarms.colours import Metrics, colour_of, colours, default_colour_rules
from firegrid.alarms.models import Alarm, AlarmNotification
from firegrid.alarms.rules import Policy
from firegrid.alarms.service import Correlator
from firegrid.alarms.timers import fire_due_timers
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from tests.accounts.city import City, bearer, make_user, token_for
from tests.alarms.conftest import FrozenClock, Site, Users, feed_events


def _venue_colour(client: TestClient, headers: dict[str, str], venue_id: int) -> str:
    items = client.get("/api/v1/alarms/colours?level=venue", headers=headers).json()["items"]
    return next(i["colour"] for i in items if i["venue_id"] == venue_id)


def test_overdue_work_order_raises_the_colour(
    client: TestClient,
    db: Database,
    site: Site,
    correlator: Correlator,
    users: Users,
    clock: FrozenClock,
    policy: Policy,
) -> None:
    assert _venue_colour(client, users.operator, site.venue_id) == "green"
    feed_events(db, correlator, site.ev(K.LOW_BATTERY, "smoke"))
    orders = client.get("/api/v1/alarms/workorders", headers=users.worker).json()["items"]
    (order,) = orders
    assert order["kind"] == "low_battery"
    assert order["assignee_kind"] == "grid_worker"
    assert order["overdue"] is False
    # an unresolved fault: yellow
    assert _venue_colour(client, users.operator, site.venue_id) == "yellow"
    # a day before due: nothing fires; at due time: a reminder and overdue
    clock.advance(policy.work_order_due_s["low_battery"] - 1)
    assert fire_due_timers(db, policy, clock) == []
    clock.advance(1)
    assert [o for _, o in fire_due_timers(db, policy, clock)] == ["reminder 1 sent"]
    clock.advance(1)  # overdue: past the due time
    overdue = client.get("/api/v1/alarms/workorders?overdue=true", headers=users.operator)
    assert [o["id"] for o in overdue.json()["items"]] == [order["id"]]
    items = client.get("/api/v1/alarms/colours?level=venue", headers=users.operator).json()
    venue = next(i for i in items["items"] if i["venue_id"] == site.venue_id)
    assert venue["overdue_work_orders"] == 1
    assert "overdue_work_orders >= 1" in venue["reasons"]
    clock.advance(policy.reminder_interval_s)
    assert [o for _, o in fire_due_timers(db, policy, clock)] == ["reminder 2 sent"]
    # closing needs evidence; then the fault alarm closes and the venue is green again
    r = client.post(f"/api/v1/alarms/workorders/{order['id']}/close", headers=users.worker)
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/alarms/workorders/{order['id']}/close",
        headers=users.worker,
        data={"note": "battery replaced"},
        files={"photo": ("b.jpg", b"\xff\xd8\xff" + b"0" * 10, "image/jpeg")},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done"
    assert r.json()["closure_photo"]
    with db.session() as session:
        alarm = session.scalars(select(Alarm)).one()
        assert alarm.status == "closed"
        reminders = session.scalars(
            select(AlarmNotification).where(AlarmNotification.kind == "reminder")
        ).all()
        assert len(reminders) == 2
    clock.advance(policy.reminder_interval_s)
    assert [o for _, o in fire_due_timers(db, policy, clock)] == [
        "nothing to do: work order closed"
    ]
    assert _venue_colour(client, users.operator, site.venue_id) == "green"


def test_venue_manager_gets_the_work(
    client: TestClient,
    db: Database,
    city: City,
    site: Site,
    correlator: Correlator,
    settings: object,
) -> None:
    manager = make_user(
        db, "manager_in", "venue_manager", city.code("town", "in"), venue_ids=(site.venue_id,)
    )
    feed_events(db, correlator, site.ev(K.FAULT, "sprinkler"))
    headers = bearer(token_for(db, settings, manager))  # type: ignore[arg-type]
    (order,) = client.get("/api/v1/alarms/workorders", headers=headers).json()["items"]
    assert order["assignee_kind"] == "venue_manager"
    assert order["assignee_id"] == manager


def test_fire_alarm_is_red_at_every_level(
    db: Database, site: Site, correlator: Correlator, clock: FrozenClock
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    with db.session() as session:
        for level in ("venue", "grid", "village", "town"):
            items = colours(session, system_principal(), level, clock())  # type: ignore[arg-type]
            assert items[0]["colour"] == "red", level
            assert items[0]["open_fire_alarms"] == 1


def test_colour_rules_are_data() -> None:
    rules = default_colour_rules()
    assert colour_of(Metrics(), "grid", rules) == ("green", [])
    assert colour_of(Metrics(devices=10, offline_devices=5), "town", rules)[0] == "red"
    assert colour_of(Metrics(devices=10, offline_devices=2), "town", rules)[0] == "yellow"
    assert colour_of(Metrics(unresolved_faults=1), "venue", rules)[0] == "yellow"
    assert colour_of(Metrics(unresolved_faults=1), "grid", rules)[0] == "green"
