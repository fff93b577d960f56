"""Objects of the alarms and dispatch contexts for the authorisation matrix, built with their
models directly (one per side, or a fresh one per state-changing request)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from firegrid.alarms.models import (
    Alarm,
    AlarmRuleRow,
    FeedEntry,
    MaintenanceWindow,
    VerificationTask,
    WorkOrder,
)
from firegrid.core.clock import utcnow
from firegrid.devices.models import Device
from firegrid.dispatch.incident_models import AidRequest, Incident, IncidentCall, ResponsePlan
from firegrid.inspections.models import Hazard, Inspection
from firegrid.installations.models import InstallationProgramme
from firegrid.places.models import Venue
from firegrid.preplans.models import Preplan, PreplanVersion
from firegrid.records.models import FireRecord
from tests.accounts.city import CENTRE, SIDE_PREFIX, City

_serial = itertools.count(1)

DOMAIN_KINDS = (
    "feed",
    "alarm",
    "task",
    "workorder",
    "window",
    "incident",
    "call",
    "aid_request",
    "plan",
    "rule",
    "inspection",
    "hazard",
    "transmitter",
    "preplan",
    "preplan_venue",
    "fire_record",
    "planning_plan",
    "planning_job",
    "installation_programme",
)


def add_domain_object(session: Any, city: City, kind: str, side: str) -> Any:
    """A fresh object of ``kind`` in the grid of ``side`` (flushed)."""
    n = next(_serial)
    now = utcnow()
    path = city.paths[f"grid:{side}"]
    lon, lat = CENTRE[side]
    venue_id = city.id("venue", side)
    row: Any
    if kind == "feed":  # one entry per side, so a feed reader with max_events=1 returns
        row = FeedEntry(
            at=now,
            type="alarm.matrix",
            jurisdiction_path=path,
            payload={"matrix": n, "venue_id": venue_id},
        )
    elif kind == "alarm":
        row = Alarm(
            kind="fire",
            status="new",
            fold_key=f"matrix:{side}:{n}",
            venue_id=venue_id,
            jurisdiction_path=path,
            lon=lon,
            lat=lat,
            opened_at=now,
            first_received_at=now,
            last_event_at=now,
            event_count=1,
        )
    elif kind == "task":
        alarm = add_domain_object(session, city, "alarm", side)
        row = VerificationTask(
            alarm_id=alarm.id,
            venue_id=venue_id,
            grid_worker_id=city.id("grid_worker", side),
            jurisdiction_path=path,
            created_at=now,
            created_by="matrix",
            due_at=now + timedelta(minutes=10),
        )
    elif kind == "workorder":
        row = WorkOrder(
            kind="fault",
            venue_id=venue_id,
            device_id=city.id("device", side),
            jurisdiction_path=path,
            assignee_kind="venue_manager",
            title=f"matrix {n}",
            opened_at=now,
            due_at=now + timedelta(days=1),
        )
    elif kind == "window":
        row = MaintenanceWindow(
            venue_id=venue_id,
            jurisdiction_path=path,
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            reason="test",
        )
    elif kind == "incident":
        row = Incident(
            incident_type="building_fire",
            source="call_119",
            lon=lon,
            lat=lat,
            jurisdiction_path=path,
            command_path=city.paths[f"town:{side}"],
            command_level="town",
            venue_id=venue_id,
            call_received_at=now,
            last_call_at=now,
        )
    elif kind == "call":
        row = IncidentCall(
            source="call_119",
            lon=lon,
            lat=lat,
            jurisdiction_path=path,
            received_at=now,
            caller_number="13800000000",
        )
    elif kind == "aid_request":  # a reinforcement request inside one town
        incident = add_domain_object(session, city, "incident", side)
        row = AidRequest(
            incident_id=incident.id,
            kind="reinforcement",
            from_path=city.paths[f"town:{side}"],
            to_path=city.paths[f"town:{side}"],
            requested_at=now,
            requested_by="matrix",
        )
    elif kind == "planning_plan":  # a stored siting plan made by a planner of the side
        from firegrid.planning.models import PlanningPlan

        row = PlanningPlan(
            kind="stations",
            model="mclp",
            name=f"{SIDE_PREFIX[side]}-plan{n}",
            parameters={"add": 1},
            result={
                "kind": "stations",
                "sites": [{"code": f"{SIDE_PREFIX[side]}-S{n}", "lon": lon, "lat": lat}],
            },
            jurisdiction_path=path,
            created_by="matrix",
            created_at=now,
        )
    elif kind == "planning_job":  # a planning job a restart cut short (retriable)
        from firegrid.planning.models import PlanningJob

        row = PlanningJob(
            kind="hydrants",
            status="failed",
            parameters={"time_limit_s": 1.0, "name": f"{SIDE_PREFIX[side]}-job{n}"},
            error={"code": "interrupted", "message": "matrix", "details": None},
            retriable=True,
            jurisdiction_path=path,
            created_by="matrix",
            created_at=now,
        )
    elif kind == "plan":
        row = ResponsePlan(
            incident_type="rescue",
            venue_category=f"matrix{n}",
            level=1,
            requirements=[{"vehicle_type": "rescue", "count": 1}],
        )
    elif kind == "rule":
        row = AlarmRuleRow(
            name=f"matrix_rule_{n}",
            spec={
                "name": f"matrix_rule_{n}",
                "when": {"alarm_kinds": ["fire"]},
                "then": {"action": "confirm"},
                "enabled": False,
            },
            enabled=False,
        )
    elif kind == "inspection":
        row = Inspection(
            venue_id=venue_id,
            inspector_subject="matrix",
            inspector_name=f"{side}-inspector {n}",
            inspected_at=now - timedelta(days=1),
            result="hazards_found",
            jurisdiction_path=path,
        )
    elif kind == "hazard":  # an open hazard found at a fresh inspection
        inspection = add_domain_object(session, city, "inspection", side)
        row = Hazard(
            venue_id=venue_id,
            inspection_id=inspection.id,
            category="blocked_exit",
            severity="general",
            found_at=inspection.inspected_at,
            deadline=now + timedelta(days=6),
            status="open",
            jurisdiction_path=path,
        )
    elif kind == "transmitter":  # a GB/T 26875.3 device: downstream commands go to it
        row = Device(
            code=f"{SIDE_PREFIX[side]}-GB{n}",
            kind="transmitter",
            protocol="gb26875",
            external_id=str(8_800_000 + n if side == "in" else 9_900_000 + n),
            venue_id=venue_id,
            jurisdiction_path=path,
        )
    elif kind == "preplan_venue":  # the side's venue itself (a venue manager's own)
        return session.get(Venue, venue_id)
    elif kind == "preplan":  # the side's venue's plan (one per venue): a draft v1
        existing = session.scalars(select(Preplan).where(Preplan.venue_id == venue_id)).first()
        if existing is not None:
            return existing
        row = Preplan(venue_id=venue_id, jurisdiction_path=path, latest_version=1)
        session.add(row)
        session.flush()
        session.add(
            PreplanVersion(
                preplan_id=row.id,
                version=1,
                status="draft",
                document={"summary": f"{SIDE_PREFIX[side]} matrix"},
                created_by="matrix",
            )
        )
    elif kind == "fire_record":  # a past fire, still a draft (editable)
        row = FireRecord(
            code=f"{SIDE_PREFIX[side]}-FR{n}",
            occurred_at=now - timedelta(days=3),
            lon=lon,
            lat=lat,
            jurisdiction_path=path,
            jurisdiction_id=city.id("grid", side),
            incident_type="building_fire",
        )
    elif kind == "installation_programme":  # a smoke-alarm programme run by the side's town
        row = InstallationProgramme(
            code=f"{SIDE_PREFIX[side]}-IP{n}",
            name=f"{side} smoke alarms {n}",
            scope_path=city.paths[f"town:{side}"],
            starts_on=(now - timedelta(days=400)).date(),
            ends_on=(now + timedelta(days=400)).date(),
            target_count=10,
            created_at=now,
            created_by="matrix",
        )
    else:
        raise KeyError(kind)
    session.add(row)
    session.flush()
    return row
