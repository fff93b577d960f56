"""Hazards and fire tasks out: each change of a hazard or task in a town the grid platform
serves becomes one message, valid against the schema, delivered in order and acknowledged
by the platform (deduplicated there by message id); nothing goes out for another town."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.accounts.principal import system_principal
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.gridlink.messages import problems_of
from firegrid.gridlink.peer_sim import GridPlatformSimulator
from firegrid.gridlink.worker import gridlink_worker
from firegrid.inspections import service
from firegrid.links.models import LinkOutbox
from tests.accounts.city import City
from tests.gridlink.conftest import ServerThread, hazard_event, post_event, run_gridlink

pytestmark = pytest.mark.postgres


def _hazard(db: Database, city: City, side: str) -> int:
    with db.session() as session:
        _inspection, hazards = service.record_inspection(
            session,
            system_principal("tests"),
            venue_id=city.id("venue", side),
            inspected_at=utcnow() - timedelta(hours=2),
            hazards=(service.HazardSpec("blocked_exit", description="exit blocked"),),
        )
        return hazards[0].id


def _rectify(db: Database, hazard_id: int) -> None:
    with db.session() as session:
        principal = system_principal("tests")
        hazard = service.get_hazard(session, principal, hazard_id)
        service.rectify_hazard(session, principal, hazard, note="cleared")


def test_hazards_go_to_the_platform_and_are_acknowledged(
    db: Database,
    city: City,
    grid_settings: Settings,
    sim: GridPlatformSimulator,
    platform: ServerThread,
) -> None:
    inside = _hazard(db, city, "in")
    _hazard(db, city, "out")  # a town the platform does not serve
    run_gridlink(db, grid_settings)
    _rectify(db, inside)
    sim.faults.duplicate = 1.0  # the platform handles every message twice: deduped by id
    run_gridlink(db, grid_settings)
    with db.session() as session:
        rows = session.scalars(select(LinkOutbox).where(LinkOutbox.link == "gridlink")).all()
        assert [r.status for r in rows] == ["acked", "acked"]
        bodies = [json.loads(r.body) for r in rows]
    assert all(problems_of(body) == [] for body in bodies)  # every message we emit is valid
    state = sim.state.as_dict()
    assert state["invalid"] == 0
    assert state["bad_signatures"] == 0
    assert list(state["items"]) == [f"hazard:{inside}"]
    item = state["items"][f"hazard:{inside}"]
    assert item["actions"] == ["created", "rectified"]
    assert item["status"] == "rectified"
    assert state["applied"] == 2
    assert state["duplicates"] == 1


def test_a_grid_hazard_goes_back_with_its_event_id_and_a_retry_after_an_outage(
    client: TestClient,
    db: Database,
    city: City,
    grid_settings: Settings,
    secret: bytes,
    key: str,
    sim: GridPlatformSimulator,
    platform: ServerThread,
) -> None:
    answer = post_event(client, secret, key, hazard_event(city, "GE-9", "2026-12-01T09:00:00Z"))
    assert answer.status_code == 200, answer.text
    sim.faults.drop = 1.0  # the platform is down: nothing acknowledged

    async def rounds() -> None:
        async with gridlink_worker(db, grid_settings) as worker:
            for _ in range(3):
                await worker.deliver_once()
                await asyncio.sleep(0.25)

    asyncio.run(rounds())
    with db.session() as session:
        row = session.scalars(select(LinkOutbox).where(LinkOutbox.link == "gridlink")).one()
        assert row.status == "pending"
        assert row.attempts >= 2
    sim.faults.drop = 0.0
    run_gridlink(db, grid_settings)
    state = sim.state.as_dict()
    (item,) = state["items"].values()
    assert item["event_id"] == "GE-9"
    assert item["actions"] == ["created"]
    assert state["dropped"] >= 2
    assert state["applied"] == 1


def test_a_task_from_a_grid_report_goes_out_created_then_closed(
    client: TestClient,
    db: Database,
    city: City,
    grid_settings: Settings,
    secret: bytes,
    key: str,
    sim: GridPlatformSimulator,
    platform: ServerThread,
) -> None:
    report = {
        "schema": "firegrid.gridlink/1",
        "type": "grid_event",
        "event_id": "GR-7",
        "category": "report",
        "status": "open",
        "updated_at": "2026-12-01T09:00:00Z",
        "venue_code": city.code("venue", "in"),
        "description": "smell of smoke reported by residents",
    }
    opened = post_event(client, secret, key, report)
    assert opened.status_code == 200, opened.text
    closed = post_event(
        client, secret, key, {**report, "status": "closed", "updated_at": "2026-12-01T10:00:00Z"}
    )
    assert closed.json()["outcome"] == "updated"
    run_gridlink(db, grid_settings)
    with db.session() as session:
        bodies = [
            json.loads(r.body)
            for r in session.scalars(select(LinkOutbox).where(LinkOutbox.link == "gridlink"))
        ]
    assert [b["action"] for b in bodies] == ["created", "closed"]
    assert all(problems_of(b, "task_message") == [] for b in bodies)
    item = sim.state.as_dict()["items"][f"task:{opened.json()['id']}"]
    assert item["event_id"] == "GR-7"
    assert item["status"] == "done"
    assert bodies[0]["venue"]["code"] == city.code("venue", "in")
