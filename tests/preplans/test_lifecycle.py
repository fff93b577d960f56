"""The life cycle of a plan: draft → reviewed → published, every version kept and audited,
the review due date by risk grade, and the overdue list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from firegrid.accounts.models import AuditEntry
from firegrid.accounts.principal import system_principal
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from firegrid.places.models import Building
from firegrid.preplans import service
from firegrid.preplans.cycle import parse_cycle, review_intervals
from tests.preplans.conftest import PCity, document

pytestmark = pytest.mark.postgres


def test_draft_review_publish_keeps_every_version(db: Database, pcity: PCity):
    officer = pcity.dcity.principal("commander", "town:east")
    venue_id = pcity.venues["east"]
    now = utcnow()
    with db.session() as session:
        plan, v1 = service.save_draft(session, officer, venue_id, document(pcity), note="first")
        plan_id = plan.id
        assert (v1.version, v1.status) == (1, "draft")
        with pytest.raises(Conflict):  # a draft is reviewed before it is published
            service.publish(session, officer, plan_id, 1)
    with db.session() as session:
        service.review(session, officer, plan_id, 1)
        plan, row = service.publish(session, officer, plan_id, 1, now=now)
        assert row.status == "published"
        assert plan.published_version == 1
        assert plan.risk_grade == "unassessed"  # no risk run in this city
        days = review_intervals()["unassessed"]
        assert plan.review_due_at == now + timedelta(days=days)
    with db.session() as session:  # a second draft: v1 stays published until v2 is
        changed = document(pcity, tactics="改为南侧进攻")
        _plan, v2 = service.save_draft(session, officer, venue_id, changed)
        assert v2.version == 2
    with db.session() as session:
        plan = service.get_plan(session, officer, plan_id)
        assert plan.published_version == 1
        service.review(session, officer, plan_id, 2)
        service.publish(session, officer, plan_id, 2)
    with db.session() as session:
        plan = service.get_plan(session, officer, plan_id)
        statuses = {v.version: v.status for v in service.list_versions(session, plan)}
        assert statuses == {1: "superseded", 2: "published"}
        assert service.get_version(session, plan, 1).document["tactics"] == "登高车停北侧广场"
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.resource_type == "preplan")
        ).all()
        assert actions.count("preplan.publish") == 2
        assert actions.count("preplan.draft") == 2
        assert actions.count("preplan.review") == 2


def test_new_draft_supersedes_an_unpublished_one(db: Database, pcity: PCity):
    officer = pcity.dcity.principal("commander", "town:east")
    with db.session() as session:
        plan, _ = service.save_draft(session, officer, pcity.venues["east"], document(pcity))
        service.review(session, officer, plan.id, 1)
        service.save_draft(session, officer, pcity.venues["east"], document(pcity))
        with pytest.raises(Conflict):
            service.publish(session, officer, plan.id, 1)
        assert service.get_version(session, plan, 1).status == "superseded"


def test_overdue_list(db: Database, pcity: PCity):
    officer = pcity.dcity.principal("commander", "town:east")
    long_ago = utcnow() - timedelta(days=800)
    with db.session() as session:
        plan, _ = service.save_draft(session, officer, pcity.venues["east"], document(pcity))
        service.review(session, officer, plan.id, 1)
        service.publish(session, officer, plan.id, 1, now=long_ago)
        west = pcity.dcity.principal("commander", "town:west")
        fresh, _ = service.save_draft(session, west, pcity.venues["west"], document_west())
        service.review(session, west, fresh.id, 1)
        service.publish(session, west, fresh.id, 1)
    with db.session() as session:
        city = system_principal()
        due = [p.id for p, _v in service.list_plans(session, city, due=True)]
        assert due == [plan.id]
        every = [p.id for p, _v in service.list_plans(session, city)]
        assert set(every) == {plan.id, fresh.id}
        ((p, v),) = service.list_plans(session, city, due=True)
        out = service.plan_dict(p, v)
        assert out["review_overdue"]
        assert out["days_overdue"] >= 800 - 366
        # a town only sees its own
        assert service.list_plans(session, west, due=True) == []


def document_west() -> dict:
    return {"summary": "西镇", "tactics": "x"}


def test_document_checks_name_the_field(db: Database, pcity: PCity):
    officer = pcity.dcity.principal("commander", "town:east")
    bad = document(pcity)
    bad["hazmats"][0]["un_number"] = "12"
    bad["map_features"][0]["geometry"]["coordinates"] = [114.5, 23.075]  # 130 km away
    with db.session() as session:
        with pytest.raises(ValidationFailed) as err:
            service.save_draft(session, officer, pcity.venues["east"], bad)
        assert "hazmats.0.un_number" in str(err.value.details)
    with db.session() as session:
        bad = document(pcity)
        bad["map_features"][0]["geometry"]["coordinates"] = [114.5, 23.075]
        bad["fire_protection"]["alarm_panels"][0]["device_id"] = 999_999
        with pytest.raises(ValidationFailed) as err:
            service.save_draft(session, officer, pcity.venues["east"], bad)
        text = str(err.value.details)
        assert "map_features[0]" in text
        assert "device 999999" in text


def test_linked_buildings_and_devices_must_be_the_venues(db: Database, pcity: PCity):
    officer = pcity.dcity.principal("commander", "town:east")
    with db.session() as session:
        building_of = dict(session.execute(select(Building.venue_id, Building.id)).all())
    own, other = building_of[pcity.venues["east"]], building_of[pcity.venues["west"]]
    with db.session() as session:
        linked = document(pcity)
        linked["buildings"][0]["building_id"] = own
        _plan, row = service.save_draft(session, officer, pcity.venues["east"], linked)
        assert row.document["buildings"][0]["building_id"] == own
    with db.session() as session:
        bad = document(pcity)
        bad["buildings"][0]["building_id"] = other
        bad["fire_protection"]["alarm_panels"][0]["device_id"] = 999_999
        with pytest.raises(ValidationFailed) as err:
            service.save_draft(session, officer, pcity.venues["east"], bad)
    problems = err.value.details["problems"]
    assert problems == [
        {
            "field": "fire_protection.alarm_panels",
            "message": "device 999999 is not registered at this venue",
        },
        {"field": "buildings", "message": f"building {other} is not at this venue"},
    ]


def test_permissions_in_the_service(db: Database, pcity: PCity):
    east, west = pcity.venues["east"], pcity.venues["west"]
    from firegrid.accounts.principal import Principal

    manager = Principal(
        "user:m", "m", "venue_manager", pcity.dcity.paths["town:east"], "", frozenset({east})
    )
    dispatcher = pcity.dcity.principal("dispatcher", "town:east")
    with db.session() as session:
        plan, v1 = service.save_draft(session, manager, east, document(pcity))
        assert v1.created_role == "venue_manager"
        with pytest.raises(Forbidden):
            service.review(session, manager, plan.id, 1)
        with pytest.raises(Forbidden):
            service.save_draft(session, dispatcher, east, document(pcity))
        with pytest.raises(NotFound):  # another venue, even in its town, does not exist
            service.save_draft(session, manager, west, document(pcity))
        west_officer = pcity.dcity.principal("commander", "town:west")
        with pytest.raises(NotFound):
            service.review(session, west_officer, plan.id, 1)


def test_review_cycle_is_data_and_checked():
    assert review_intervals()["red"] <= 365
    with pytest.raises(ValidationFailed):
        parse_cycle(
            {
                "review_interval_days": {
                    "red": 400,
                    "orange": 1,
                    "yellow": 1,
                    "blue": 1,
                    "unassessed": 1,
                }
            }
        )
    with pytest.raises(ValidationFailed):
        parse_cycle({"review_interval_days": {"red": 100}})


def test_confirming_a_review_moves_the_due_date(db: Database, pcity: PCity):
    officer = pcity.dcity.principal("commander", "town:east")
    long_ago = utcnow() - timedelta(days=800)
    with db.session() as session:
        plan, _ = service.save_draft(session, officer, pcity.venues["east"], document(pcity))
        with pytest.raises(Conflict):  # nothing published yet
            service.confirm_review(session, officer, plan.id)
        service.review(session, officer, plan.id, 1)
        service.publish(session, officer, plan.id, 1, now=long_ago)
        now = utcnow()
        confirmed = service.confirm_review(
            session, officer, plan.id, note="checked on site", now=now
        )
        assert confirmed.review_due_at == now + timedelta(days=review_intervals()["unassessed"])
        assert confirmed.published_version == 1
        assert service.list_plans(session, officer, due=True) == []
        manager = pcity.dcity.principal("venue_manager", "town:east")
        with pytest.raises(Forbidden):
            service.confirm_review(session, manager, plan.id)


def test_due_date_follows_the_grade():
    from datetime import UTC, datetime

    from firegrid.preplans.cycle import review_due

    at = datetime(2026, 1, 1, tzinfo=UTC)
    days = review_intervals()
    assert review_due(at, "red") == at + timedelta(days=days["red"])
    assert review_due(at, "blue") == at + timedelta(days=days["blue"])
    assert review_due(at, "weird") == at + timedelta(days=days["unassessed"])
    assert days["red"] < days["yellow"]
