"""The incident record: after an incident closes, the officer fills in the fire record
(the full set of fields, validated), linked to the incident and to the monitoring centre's
fire alarm of the same venue, so "did the connected system alarm before the 119 call?" is
answered from data. ``firegrid incidents report ID`` and ``GET /incidents/{id}/report``
show it with the response intervals computed from the units' statuses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.alarms.fire_history import FireAlarmRef, first_fire_alarm
from firegrid.api.crud import row_snapshot
from firegrid.core.errors import Conflict, NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.dispatch.history import IncidentSummary, assignment_columns, incident_summary
from firegrid.places.public import jurisdiction_index
from firegrid.records.models import FireRecord, RecordSource
from firegrid.records.schemas import RecordFields
from firegrid.records.service import check_codes, ensure_editable, town_code_of

#: a venue's fire alarm this long before the call still belongs to the same fire
ALARM_LOOKBACK = timedelta(hours=2)
#: detection and suppression systems of the record: (presence field, performance field)
SYSTEMS = (
    ("detector_presence", "detector_performance"),
    ("alarm_system_presence", "alarm_system_performance"),
    ("sprinkler_presence", "sprinkler_performance"),
)


class IncidentRecordIn(RecordFields):
    """The officer's report on a closed incident: every coded field is required ("unknown"
    is an answer; a blank is not)."""

    cause_code: str = Field(max_length=32)
    origin_code: str = Field(max_length=32)
    heat_source_code: str = Field(max_length=32)
    item_first_ignited_code: str = Field(max_length=32)
    civilian_injured: int = Field(ge=0, le=100_000)
    civilian_killed: int = Field(ge=0, le=100_000)
    firefighter_injured: int = Field(ge=0, le=100_000)
    firefighter_killed: int = Field(ge=0, le=100_000)
    direct_loss_yuan: float = Field(ge=0, le=1e12)
    area_burned_m2: float = Field(ge=0, le=1e8)
    detector_presence: str = Field(max_length=16)
    detector_performance: str = Field(max_length=32)
    alarm_system_presence: str = Field(max_length=16)
    alarm_system_performance: str = Field(max_length=32)
    sprinkler_presence: str = Field(max_length=16)
    sprinkler_performance: str = Field(max_length=32)
    actions: list[str] = Field(min_length=1, max_length=20)


def check_systems(values: dict[str, Any]) -> None:
    """A system that is absent cannot have operated: its performance is not_applicable."""
    problems = {
        performance: f"{presence} is absent: {performance} must be not_applicable"
        for presence, performance in SYSTEMS
        if values.get(presence) == "absent"
        and values.get(performance) not in (None, "not_applicable")
    }
    if problems:
        raise ValidationFailed(
            next(iter(problems.values())),
            problems,
            text=TextCode.VALIDATION_FIELDS,
            params={"fields": sorted(problems)},
        )


def _incident(session: Session, principal: Principal, incident_id: int) -> IncidentSummary:
    incident = incident_summary(session, incident_id, principal.scope_path)
    if incident is None:
        raise NotFound(
            f"incident {incident_id} not found",
            {"id": incident_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "incident", "id": incident_id},
        )
    return incident


def _record_of(session: Session, incident_id: int) -> FireRecord | None:
    return session.scalars(
        select(FireRecord).where(
            FireRecord.incident_id == incident_id, FireRecord.deleted_at.is_(None)
        )
    ).first()


def connected_alarm(session: Session, incident: IncidentSummary) -> FireAlarmRef | None:
    """The venue's fire alarm for this fire, if the venue has a connected system."""
    if incident.venue_id is None:
        return None
    until = incident.closed_at or incident.call_received_at + ALARM_LOOKBACK
    return first_fire_alarm(
        session, incident.venue_id, incident.call_received_at - ALARM_LOOKBACK, until
    )


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return round((later - earlier).total_seconds(), 1)


def unit_intervals(session: Session, incident: IncidentSummary) -> dict[str, Any]:
    """Intervals from the units' statuses: first dispatch, first unit en route, first and
    last arrival of the first assignment (the effective response force)."""
    units = assignment_columns(session, incident_id=incident.id)
    mine = list(range(len(units["incident_id"])))
    dispatched = [units["dispatched_at"][i] for i in mine]
    en_route = [units["en_route_at"][i] for i in mine if units["en_route_at"][i] is not None]
    arrived = [units["arrived_at"][i] for i in mine if units["arrived_at"][i] is not None]
    first_dispatch = min(dispatched) if dispatched else None
    first_wave = [i for i in mine if units["dispatched_at"][i] == first_dispatch]
    wave_arrivals = [units["arrived_at"][i] for i in first_wave]
    erf_at = max(wave_arrivals) if wave_arrivals and None not in wave_arrivals else None
    call = incident.call_received_at
    return {
        "call_processing_s": _seconds(first_dispatch, call),
        "turnout_s": _seconds(min(en_route) if en_route else None, first_dispatch),
        "travel_s": _seconds(
            min(arrived) if arrived else None, min(en_route) if en_route else None
        ),
        "first_arrival_s": _seconds(min(arrived) if arrived else None, call),
        "effective_response_force_s": _seconds(erf_at, call),
        "units_sent": len(mine),
        "crew_sent": sum(int(units["crew"][i] or 0) for i in mine),
    }


def _alarm_view(incident: IncidentSummary, alarm: FireAlarmRef | None) -> dict[str, Any]:
    if alarm is None:
        return {
            "connected_alarm_id": None,
            "alarm_at": None,
            "call_at": incident.call_received_at.isoformat(),
            "alarm_before_call": None if incident.venue_id is None else False,
            "alarm_lead_s": None,
        }
    return {
        "connected_alarm_id": alarm.id,
        "alarm_at": alarm.first_received_at.isoformat(),
        "call_at": incident.call_received_at.isoformat(),
        "alarm_before_call": alarm.first_received_at < incident.call_received_at,
        "alarm_lead_s": _seconds(incident.call_received_at, alarm.first_received_at),
        "alarm_status": alarm.status,
    }


def incident_report(session: Session, principal: Principal, incident_id: int) -> dict[str, Any]:
    """The incident, its intervals, the connected system's alarm, and its fire record."""
    from firegrid.api.crud import to_out
    from firegrid.places.public import Crs
    from firegrid.records.api import FIRE_RECORDS

    incident = _incident(session, principal, incident_id)
    record = _record_of(session, incident_id)
    return {
        "incident": {
            "id": incident.id,
            "incident_type": incident.incident_type,
            "venue_category": incident.venue_category,
            "status": incident.status,
            "source": incident.source,
            "venue_id": incident.venue_id,
            "address": incident.address,
            "jurisdiction_path": incident.jurisdiction_path,
            "call_received_at": incident.call_received_at.isoformat(),
            "closed_at": incident.closed_at.isoformat() if incident.closed_at else None,
        },
        "intervals": unit_intervals(session, incident),
        "alarm": _alarm_view(incident, connected_alarm(session, incident)),
        "record": None if record is None else to_out(FIRE_RECORDS, record, Crs.WGS84),
        "record_due": incident.closed and record is None,
    }


def fill_incident_record(
    session: Session, principal: Principal, incident_id: int, body: IncidentRecordIn
) -> FireRecord:
    """Create or replace the fire record of a closed incident (refused once locked)."""
    incident = _incident(session, principal, incident_id)
    if not incident.closed:
        raise Conflict(
            f"incident {incident_id} is {incident.status}: the record is written after it closes",
            {"status": incident.status},
            text=TextCode.RECORD_INCIDENT_OPEN,
            params={"incident_id": incident_id, "status": incident.status},
        )
    values = body.model_dump()
    check_codes(values)
    check_systems(values)
    intervals = unit_intervals(session, incident)
    if values.get("vehicles_used") is None:
        values["vehicles_used"] = intervals["units_sent"]
    if values.get("personnel_used") is None:
        values["personnel_used"] = intervals["crew_sent"]
    alarm = connected_alarm(session, incident)
    values["call_received_at"] = incident.call_received_at
    values["connected_alarm_id"] = alarm.id if alarm else None
    values["connected_alarm_at"] = alarm.first_received_at if alarm else None
    occurred = incident.call_received_at
    if alarm is not None and alarm.first_received_at < occurred:
        occurred = alarm.first_received_at
    values["occurred_at"] = occurred
    values = {k: v for k, v in values.items() if v is not None or k.startswith("connected_")}
    record = _record_of(session, incident_id)
    if record is not None:
        ensure_editable(record)
        before: dict[str, Any] | None = row_snapshot(record)
        for key, value in values.items():
            setattr(record, key, value)
        action = "update"
    else:
        grid = jurisdiction_index(session).locate(incident.lon, incident.lat, "incident")
        record = FireRecord(
            code=f"INC-{incident.id}",
            lon=incident.lon,
            lat=incident.lat,
            jurisdiction_id=grid.id,
            jurisdiction_path=incident.jurisdiction_path,
            town_code=town_code_of(incident.jurisdiction_path),
            venue_id=incident.venue_id,
            venue_category=incident.venue_category,
            address=incident.address,
            incident_type=incident.incident_type,
            source=RecordSource.INCIDENT.value,
            incident_id=incident.id,
            filled_by=principal.username,
            **values,
        )
        session.add(record)
        before, action = None, "create"
    session.flush()
    record_change(
        session, principal, action, "fire-records", str(record.id), before, row_snapshot(record)
    )
    return record
