"""Recording, rectifying, overdue derivation, scoping and audit of the service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from firegrid.accounts.models import AuditEntry
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import Conflict, NotFound, ValidationFailed
from firegrid.inspections import service
from firegrid.inspections.models import Hazard, HazardTransition, Inspection
from firegrid.inspections.service import HazardSpec
from tests.accounts.city import City
from tests.inspections.conftest import principal, record

pytestmark = pytest.mark.postgres


def test_record_an_inspection_with_hazards(db: Database, city: City) -> None:
    worker = principal(city, "grid_worker")
    at = utcnow() - timedelta(hours=2)
    with db.session() as session:
        inspection, hazards = service.record_inspection(
            session,
            worker,
            venue_id=city.id("venue", "in"),
            inspected_at=at,
            grid_worker_id=city.id("grid_worker", "in"),
            note="night check",
            hazards=[
                HazardSpec("ebike_indoor_charging", "major", "3 e-bikes charging in the hall"),
                HazardSpec("missing_extinguisher"),
                HazardSpec("electrical_wiring", deadline=at + timedelta(days=2)),
            ],
        )
        inspection_id = inspection.id
        assert inspection.result == "hazards_found"
        assert inspection.jurisdiction_path == city.paths["grid:in"]
        assert inspection.inspector_name.startswith("IN-worker")
        assert [h.deadline - at for h in hazards] == [
            timedelta(days=3),  # e-bikes, major
            timedelta(days=15),  # extinguishers, general
            timedelta(days=2),  # given
        ]
        assert {h.status for h in hazards} == {"open"}
    with db.session() as session:
        stored = session.get(Inspection, inspection_id)
        assert stored is not None
        assert stored.inspected_at == at
        assert stored.inspected_at.tzinfo is not None
        hazard_ids = session.scalars(
            select(Hazard.id).where(Hazard.inspection_id == inspection_id)
        ).all()
        assert len(hazard_ids) == 3
        transitions = session.scalars(
            select(HazardTransition).where(HazardTransition.hazard_id.in_(hazard_ids))
        ).all()
        assert {(t.from_status, t.to_status) for t in transitions} == {("", "open")}
        assert all(t.at == at and "grid_worker-in" in t.actor for t in transitions)
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.resource_type.in_(["inspection", "hazard"]))
        ).all()
        assert sorted((a.resource_type, a.action) for a in audit) == [
            ("hazard", "create"),
            ("hazard", "create"),
            ("hazard", "create"),
            ("inspection", "create"),
        ]
        assert all(a.actor_role == "grid_worker" and a.before is None for a in audit)


def test_a_passed_inspection_and_refusals(db: Database, city: City) -> None:
    worker = principal(city, "grid_worker")
    venue = city.id("venue", "in")
    with db.session() as session:
        inspection, hazards = service.record_inspection(session, worker, venue_id=venue)
        assert inspection.result == "passed"
        assert hazards == []
        bad: list[dict[str, object]] = [
            {"result": "hazards_found"},
            {"result": "passed", "hazards": [HazardSpec("blocked_exit")]},
            {"hazards": [HazardSpec("no_such_category")]},
            {"inspected_at": utcnow() + timedelta(days=1)},
            {"grid_worker_id": city.id("grid_worker", "out")},  # another grid's worker
            {
                "inspected_at": utcnow() - timedelta(days=1),
                "hazards": [HazardSpec("blocked_exit", deadline=utcnow() - timedelta(days=2))],
            },
        ]
        for kwargs in bad:
            with pytest.raises(ValidationFailed):
                service.record_inspection(session, worker, venue_id=venue, **kwargs)  # type: ignore[arg-type]


def test_rectify_with_evidence_is_recorded_and_audited(db: Database, city: City) -> None:
    _, (hazard_id,) = record(db, city, "in")
    manager = principal(city, "venue_manager", venue_ids=(city.id("venue", "in"),))
    with db.session() as session:
        hazard = service.get_hazard(session, manager, hazard_id)
        with pytest.raises(ValidationFailed):
            service.rectify_hazard(session, manager, hazard, note="  ")
    with db.session() as session:
        hazard = service.get_hazard(session, manager, hazard_id)
        service.rectify_hazard(session, manager, hazard, note="exit cleared", photo_path="p.jpg")
    with db.session() as session:
        hazard = service.get_hazard(session, manager, hazard_id)
        assert hazard.status == "rectified"
        assert hazard.rectified_at is not None
        assert hazard.evidence_note == "exit cleared"
        assert hazard.evidence_photo == "p.jpg"
        assert "venue_manager-in" in hazard.rectified_by
        with pytest.raises(Conflict):
            service.rectify_hazard(session, manager, hazard, note="again")
        history = service.transitions_of(session, hazard_id)
        assert [(t.from_status, t.to_status) for t in history] == [
            ("", "open"),
            ("open", "rectified"),
        ]
        assert history[1].cause == "rectified with evidence"
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.resource_type == "hazard", AuditEntry.action == "rectify"
            )
        ).one()
        assert entry.resource_id == str(hazard_id)
        assert entry.before is not None
        assert entry.before["status"] == "open"
        assert entry.after is not None
        assert entry.after["status"] == "rectified"
        assert entry.actor_role == "venue_manager"


def test_overdue_is_derived_from_the_deadline(db: Database, city: City) -> None:
    # found 20 days ago: blocked exit (general, 7 days) is overdue; fire system (60 days) not
    _, (late, on_time) = record(
        db,
        city,
        "in",
        days_ago=20,
        hazards=(HazardSpec("blocked_exit"), HazardSpec("fire_system_fault")),
    )
    admin = principal(city, "admin")
    now = utcnow()
    with db.session() as session:
        assert [h.id for h in service.list_overdue(session, admin, now=now)] == [late]
        listed = service.list_hazards(session, admin, now=now, status="overdue")
        assert [h.id for h in listed] == [late]
        not_overdue = service.list_hazards(session, admin, now=now, overdue=False)
        assert [h.id for h in not_overdue] == [on_time]
        assert [h.id for h in service.list_hazards(session, admin, now=now, status="open")] == [
            late,
            on_time,
        ]
        hazard = service.get_hazard(session, admin, late)
        shown = service.hazard_dict(hazard, now)
        assert shown["status"] == "overdue"
        assert shown["overdue"] is True
        assert hazard.status == "open"  # never stored
        # in the past, before the deadline, it was not overdue yet
        assert service.hazard_dict(hazard, now - timedelta(days=15))["status"] == "open"
        service.rectify_hazard(session, admin, hazard, note="done late")
        assert "after the deadline" in service.transitions_of(session, late)[-1].cause
    with db.session() as session:
        assert service.list_overdue(session, admin, now=now) == []
        summary = service.venue_summary(session, admin, city.id("venue", "in"), now=now)
        assert summary["open_hazards"] == 1
        assert summary["rectified_hazards"] == 1
        assert summary["overdue_rectifications"] == 0
        assert summary["inspections"] == 1
        assert summary["days_since_inspection"] == 20.0


def test_scoping_another_towns_hazard_is_not_found(db: Database, city: City) -> None:
    inside_inspection, (inside,) = record(db, city, "in")
    outside_inspection, (outside,) = record(db, city, "out")
    commander = principal(city, "commander")
    now = utcnow()
    with db.session() as session:
        assert service.get_hazard(session, commander, inside).id == inside
        with pytest.raises(NotFound):
            service.get_hazard(session, commander, outside)
        with pytest.raises(NotFound):
            service.get_inspection(session, commander, outside_inspection)
        with pytest.raises(NotFound):
            service.venue_summary(session, commander, city.id("venue", "out"))
        with pytest.raises(NotFound):  # recording in another town: the venue is not found
            service.record_inspection(session, commander, venue_id=city.id("venue", "out"))
        assert [h.id for h in service.list_hazards(session, commander, now=now)] == [inside]
        assert [i.id for i in service.list_inspections(session, commander)] == [inside_inspection]
        # a venue manager sees only its own venues, even inside its town
        stranger = principal(city, "venue_manager", venue_ids=(999_999,))
        assert service.list_hazards(session, stranger, now=now) == []
        with pytest.raises(NotFound):
            service.get_hazard(session, stranger, inside)
