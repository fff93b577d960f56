"""HTTP routes of command and dispatch: intake, incidents, dispatch, command levels, unit
status, AVL and response plans. Thin: every rule lives in the dispatch services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy import select

from firegrid.accounts.public import Principal
from firegrid.api.deps import DbDep, SessionDep, require
from firegrid.api.pagination import decode_cursor, encode_cursor
from firegrid.api.schemas import Counted
from firegrid.core.errors import Conflict
from firegrid.dispatch import avl, command, incidents, intake, notify, plans
from firegrid.dispatch import incident_schemas as s
from firegrid.dispatch.consumers import consume_alarm_forwards
from firegrid.dispatch.incident_models import Incident, ResponsePlan
from firegrid.dispatch.models import Station, Vehicle
from firegrid.dispatch.recommend import (
    Recommendation,
    available_units,
    recommend_for_incident,
    recommend_units,
    skipped_for,
    unit_etas,
)
from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.service import GeoContext
from firegrid.places.public import parse_crs, point_to_wgs84

router = APIRouter(tags=["dispatch"])

Read = Annotated[Principal, Depends(require("incidents:read"))]
Write = Annotated[Principal, Depends(require("incidents:write"))]
DispatchP = Annotated[Principal, Depends(require("incidents:dispatch"))]
Police = Annotated[Principal, Depends(require("incidents:110"))]
UnitsP = Annotated[Principal, Depends(require("units:status"))]
PlansAdmin = Annotated[Principal, Depends(require("plans:admin"))]


def engine_of(request: Request) -> TravelTimeEngine:
    """The warm travel-time engine of the app's database (stations registered)."""
    return geo_of(request).engine


def geo_of(request: Request) -> GeoContext:
    """The warm engine with its stations, and the ones it skipped (off the road network)."""
    from firegrid.geo.service import geo_context

    return geo_context(request.app.state.db, request.app.state.settings)


def _call_data(body: s.CallIn | s.TransferIn, source: str) -> intake.CallData:
    return intake.CallData(
        source=source,
        caller_number=body.caller_number,
        address_text=body.address_text,
        lon=body.lon,
        lat=body.lat,
        crs=body.crs,
        incident_type=body.incident_type or "",
        venue_category=body.venue_category,
        venue_id=getattr(body, "venue_id", None),
        description=body.description,
        external_ref=getattr(body, "external_ref", ""),
        received_at=body.received_at,
    )


# Intake ----------------------------------------------------------------------------------


@router.post("/calls", status_code=201, response_model=s.IntakeOut, summary="Take a 119 call")
def take_call(body: s.CallIn, principal: Write, session: SessionDep) -> dict[str, Any]:
    result = intake.take_call(
        session,
        principal,
        _call_data(body, "call_119"),
        scope_path=principal.scope_path,
        incident_type=body.incident_type,
        level=body.level,
        auto=body.auto,
    )
    session.flush()
    return intake.intake_view(session, result, principal.scope_path)


@router.get(
    "/calls/{call_id}",
    response_model=s.IntakeOut,
    summary="A call with its possible duplicates and nearby venues",
)
def get_call(call_id: int, principal: Read, session: SessionDep) -> dict[str, Any]:
    from firegrid.dispatch.duplicates import find_duplicates

    call = intake.get_call(session, principal.scope_path, call_id)
    duplicates = []
    if call.incident_id is None and call.lon is not None and call.lat is not None:
        duplicates = find_duplicates(
            session,
            call.lon,
            call.lat,
            call.received_at,
            scope_path=principal.scope_path,
            incident_type=call.incident_type,
        )
    incident = session.get(Incident, call.incident_id) if call.incident_id else None
    result = intake.IntakeResult(call, incident, call.status == "merged", duplicates)
    return intake.intake_view(session, result, principal.scope_path)


@router.post(
    "/calls/{call_id}/locate",
    response_model=s.CallOut,
    summary="Locate a call from a better address or point",
)
def locate_call(
    call_id: int, body: s.LocateIn, principal: Write, session: SessionDep
) -> dict[str, Any]:
    call = intake.get_call(session, principal.scope_path, call_id)
    data = intake.CallData(address_text=body.address_text, lon=body.lon, lat=body.lat, crs=body.crs)
    intake.set_call_location(session, call, data, principal.scope_path)
    return intake.call_dict(call)


@router.post(
    "/calls/{call_id}/incident",
    status_code=201,
    response_model=s.IncidentDetail,
    summary="Open an incident from a call",
)
def open_incident(
    call_id: int, body: s.CreateIncidentIn, principal: Write, session: SessionDep
) -> dict[str, Any]:
    call = intake.get_call(session, principal.scope_path, call_id)
    incident = incidents.create_incident(
        session,
        principal,
        call,
        incident_type=body.incident_type,
        level=body.level,
        venue_category=body.venue_category,
        venue_id=body.venue_id,
        cause=body.cause,
    )
    session.flush()
    return incidents.incident_detail(session, incident, principal.scope_path)


@router.post(
    "/calls/{call_id}/merge",
    response_model=s.IncidentDetail,
    summary="Merge a call into an open incident",
)
def merge_call(
    call_id: int, body: s.MergeIn, principal: Write, session: SessionDep
) -> dict[str, Any]:
    from firegrid.dispatch.duplicates import merge_call as merge

    call = intake.get_call(session, principal.scope_path, call_id)
    incident = incidents.get_incident(session, principal, body.incident_id)
    merge(session, principal, call, incident, at=call.received_at)
    session.flush()
    return incidents.incident_detail(session, incident, principal.scope_path)


@router.post(
    "/transfers/110",
    status_code=201,
    response_model=s.TransferOut,
    summary="A transfer from the 110 centre",
)
def transfer_110(body: s.TransferIn, principal: Police, session: SessionDep) -> dict[str, Any]:
    result = intake.transfer_from_110(
        session,
        principal,
        _call_data(body, "transfer_110"),
        incident_type=body.incident_type,
        level=body.level,
        scope_path=principal.scope_path,
    )
    session.flush()
    return {
        "call": intake.call_dict(result.call),
        "incident_id": result.incident.id if result.incident else None,
        "merged": result.merged,
        "possibly_related": [
            d.as_dict()
            for d in result.related
            if d.incident.jurisdiction_path.startswith(principal.scope_path)
        ],
    }


@router.post(
    "/alarm-forwards/consume",
    response_model=s.ConsumeOut,
    summary="Turn forwarded alarms into incidents now",
)
def consume_forwards(principal: Write, session: SessionDep) -> dict[str, Any]:
    return consume_alarm_forwards(session).as_dict()


# Incidents -------------------------------------------------------------------------------


@router.get(
    "/incidents",
    response_model=s.IncidentPage,
    summary="Incidents in your jurisdiction, newest first",
)
def list_incidents(
    principal: Read,
    session: SessionDep,
    status: str | None = None,
    incident_type: str | None = None,
    open_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    query = incidents.visible_incidents(principal)
    if status:
        query = query.where(Incident.status == status)
    if incident_type:
        query = query.where(Incident.incident_type == incident_type)
    if open_only:
        query = query.where(Incident.status != "closed")
    before = decode_cursor(cursor)
    if before is not None:
        query = query.where(Incident.id < before)
    rows = list(session.scalars(query.order_by(Incident.id.desc()).limit(limit + 1)).all())
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    items = [incidents.incident_dict(r) for r in rows[:limit]]
    return {"items": items, "next_cursor": next_cursor, "count": len(items)}


@router.get(
    "/incidents/{incident_id}",
    response_model=s.IncidentDetail,
    summary="An incident: calls, timeline, units, intervals",
)
def get_incident(incident_id: int, principal: Read, session: SessionDep) -> dict[str, Any]:
    return incidents.incident_detail(
        session, incidents.get_incident(session, principal, incident_id), principal.scope_path
    )


@router.get(
    "/incidents/{incident_id}/recommendation",
    response_model=s.RecommendationOut,
    summary="Recommended units of your forces (plan minus units already sent)",
)
def incident_recommendation(
    incident_id: int, request: Request, principal: Read, session: SessionDep
) -> dict[str, Any]:
    incident = incidents.get_incident(session, principal, incident_id)
    geo = geo_of(request)
    rec = recommend_for_incident(session, geo.engine, incident, principal.scope_path, geo.skipped)
    return rec.as_dict()


@router.post(
    "/incidents/{incident_id}/dispatch",
    response_model=s.DispatchOut,
    summary="Send units (one action)",
)
def dispatch(
    incident_id: int,
    body: s.DispatchIn,
    request: Request,
    background: BackgroundTasks,
    principal: DispatchP,
    session: SessionDep,
    db: DbDep,
) -> dict[str, Any]:
    incident = incidents.get_incident(session, principal, incident_id)
    incidents.check_command(principal, incident)
    geo = geo_of(request)
    engine = geo.engine
    rec: Recommendation | None = None
    if body.vehicle_ids is None:
        rec = recommend_for_incident(session, engine, incident, principal.scope_path, geo.skipped)
        ids = rec.vehicle_ids
        if not ids:
            raise Conflict(
                "no unit to send: the plan is met or nothing is available",
                {"missing": list(rec.missing)},
            )
        etas = {c.vehicle_id: c.eta_s for c in rec.chosen}
        reasons = {c.vehicle_id: c.reason for c in rec.chosen}
    else:
        ids = body.vehicle_ids
        units = [u for u in available_units(session, principal.scope_path) if u.id in set(ids)]
        eta, _ = unit_etas(engine, units, incident.lon, incident.lat)
        etas = {u.id: float(e) for u, e in zip(units, eta, strict=True) if e < float("inf")}
        reasons = {}
    skipped = rec.skipped if rec else skipped_for(engine, units, geo.skipped)
    result = incidents.dispatch_units(
        session,
        principal,
        incident,
        ids,
        forces_path=principal.scope_path,
        etas=etas,
        reasons=reasons,
        cause=body.cause,
    )
    session.flush()
    notes = notify.queue_orders(session, incident, [a.station_id for a in result.assignments])
    background.add_task(notify.deliver_pending, db)
    return {
        "incident": incidents.incident_dict(incident),
        "assignments": [incidents.assignment_dict(a) for a in result.assignments],
        "recommendation": rec.as_dict() if rec else None,
        "skipped": [item.as_dict() for item in skipped],
        "notifications": [
            {"id": n.id, "station_id": n.station_id, "channel": n.channel, "status": n.status}
            for n in notes
        ],
    }


@router.post(
    "/incidents/{incident_id}/status",
    response_model=s.IncidentOut,
    summary="Move the incident's status",
)
def incident_status(
    incident_id: int, body: s.IncidentStatusIn, principal: Write, session: SessionDep
) -> dict[str, Any]:
    incident = incidents.get_incident(session, principal, incident_id)
    incidents.check_command(principal, incident)
    incidents.set_incident_status(
        session,
        principal,
        incident,
        body.status,
        cause=body.cause,
        confirm_units_on_scene=body.confirm,
    )
    session.flush()
    return incidents.incident_dict(incident)


@router.post(
    "/incidents/{incident_id}/escalate",
    response_model=s.IncidentOut,
    summary="Move command one level up",
)
def escalate(
    incident_id: int, body: s.EscalateIn, principal: Write, session: SessionDep
) -> dict[str, Any]:
    incident = incidents.get_incident(session, principal, incident_id)
    command.escalate(session, principal, incident, cause=body.cause, new_level=body.new_level)
    session.flush()
    return incidents.incident_dict(incident)


@router.post(
    "/incidents/{incident_id}/joint-defence",
    response_model=s.AidRequestOut,
    status_code=201,
    summary="Ask a neighbouring town for units (区域联防)",
)
def joint_defence(
    incident_id: int, body: s.JointDefenceIn, principal: DispatchP, session: SessionDep
) -> dict[str, Any]:
    incident = incidents.get_incident(session, principal, incident_id)
    request = command.request_joint_defence(
        session,
        principal,
        incident,
        to_town_code=body.to_town_code,
        requirements=[r.as_dict() for r in body.requirements],
        note=body.note,
    )
    return command.request_dict(request)


@router.get(
    "/incidents/{incident_id}/neighbour-towns",
    response_model=Counted[s.NeighbourTownOut],
    summary="Towns a joint-defence request of the incident may go to",
)
def neighbour_towns(incident_id: int, principal: DispatchP, session: SessionDep) -> dict[str, Any]:
    incident = incidents.get_incident(session, principal, incident_id)
    towns = command.neighbours(session, incident.jurisdiction_path)
    items = [
        {"code": t.code, "name_zh": t.name_zh, "name_en": t.name_en, "path": t.path} for t in towns
    ]
    items.sort(key=lambda town: town["code"])
    return {"items": items, "count": len(items)}


@router.post(
    "/incidents/{incident_id}/reinforcements",
    response_model=s.AidRequestOut,
    status_code=201,
    summary="Ask the command post for more units (增援)",
)
def reinforcement(
    incident_id: int, body: s.ReinforcementIn, principal: Write, session: SessionDep
) -> dict[str, Any]:
    incident = incidents.get_incident(session, principal, incident_id)
    request = command.request_reinforcement(
        session,
        principal,
        incident,
        requirements=[r.as_dict() for r in body.requirements],
        note=body.note,
    )
    return command.request_dict(request)


@router.get(
    "/aid-requests",
    response_model=Counted[s.AidRequestOut],
    summary="Joint-defence and reinforcement requests to your area",
)
def list_aid_requests(
    principal: Read, session: SessionDep, status: str | None = None
) -> dict[str, Any]:
    rows = command.incoming_requests(session, principal, status)
    return {"items": [command.request_dict(r) for r in rows], "count": len(rows)}


@router.post(
    "/aid-requests/{request_id}/answer",
    response_model=s.AidRequestOut,
    summary="Accept (sending units) or decline",
)
def answer_aid_request(
    request_id: int,
    body: s.AnswerIn,
    request: Request,
    background: BackgroundTasks,
    principal: DispatchP,
    session: SessionDep,
    db: DbDep,
) -> dict[str, Any]:
    aid = command.get_request(session, principal, request_id)
    command.answer_request(
        session,
        principal,
        aid,
        accept=body.accept,
        engine=engine_of(request) if body.accept else None,
        vehicle_ids=body.vehicle_ids,
        note=body.note,
    )
    session.flush()
    if aid.vehicle_ids:
        incident = session.get(Incident, aid.incident_id)
        assert incident is not None
        stations = session.scalars(
            select(Vehicle.station_id).where(Vehicle.id.in_(aid.vehicle_ids))
        ).all()
        notify.queue_orders(session, incident, list(stations))
        background.add_task(notify.deliver_pending, db)
    return command.request_dict(aid)


@router.get(
    "/incidents/{incident_id}/orders/{station_id}",
    summary="The printable dispatch order of a station (text, html or json)",
    response_model=s.DispatchOrderOut,
    responses={
        200: {
            "content": {"text/plain": {}, "text/html": {}},
            "description": "The order as JSON, text or HTML (``format``).",
        }
    },
)
def dispatch_order(
    incident_id: int,
    station_id: int,
    principal: Read,
    session: SessionDep,
    format: Annotated[str, Query(pattern="^(text|html|json)$")] = "text",
) -> Any:
    incident = incidents.get_incident(session, principal, incident_id)
    payload = notify.station_order(session, incident, station_id)
    if format == "json":
        return payload
    if format == "html":
        return HTMLResponse(notify.render_html(payload))
    return PlainTextResponse(notify.render_text(payload))


@router.post(
    "/dispatch-notifications/deliver",
    response_model=s.DeliveryOut,
    summary="Deliver pending station webhooks now",
)
def deliver(principal: DispatchP, db: DbDep) -> dict[str, int]:
    return notify.deliver_pending(db)


# Recommendation for a point --------------------------------------------------------------


@router.get(
    "/recommendations",
    response_model=s.RecommendationOut,
    summary="Recommended units for a point, type and level",
)
def recommend_point(
    request: Request,
    principal: Read,
    session: SessionDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    incident_type: Annotated[str, Query(max_length=32)],
    level: Annotated[int, Query(ge=1, le=5)] = 1,
    venue_category: str = "",
    crs: str = "wgs84",
) -> dict[str, Any]:
    wlon, wlat = point_to_wgs84(lon, lat, parse_crs(crs))
    plan = plans.plan_for(session, incident_type, venue_category, level)
    units = available_units(session, principal.scope_path)
    geo = geo_of(request)
    return recommend_units(geo.engine, plan, units, wlon, wlat, geo.skipped).as_dict()


# Units -----------------------------------------------------------------------------------


@router.get(
    "/units",
    response_model=Counted[s.UnitOut],
    summary="The unit board: vehicles of your forces with status and position",
)
def unit_board(principal: Read, session: SessionDep, status: str | None = None) -> dict[str, Any]:
    query = (
        select(Vehicle, Station.code)
        .join(Station, Station.id == Vehicle.station_id)
        .where(Vehicle.deleted_at.is_(None), principal.scope_filter(Station.jurisdiction_path))
    )
    if status:
        query = query.where(Vehicle.status == status)
    rows = session.execute(query.order_by(Vehicle.id).limit(5000)).all()
    items = [unit_dict(v, station_code) for v, station_code in rows]
    return {"items": items, "count": len(items)}


def unit_dict(v: Vehicle, station_code: str = "") -> dict[str, Any]:
    return {
        "id": v.id,
        "code": v.code,
        "call_sign": v.call_sign,
        "station_id": v.station_id,
        "station_code": station_code,
        "vehicle_type": v.vehicle_type,
        "capabilities": v.capabilities,
        "crew": v.crew,
        "status": v.status,
        "status_changed_at": v.status_changed_at.isoformat() if v.status_changed_at else None,
        "incident_id": v.incident_id,
        "last_lon": v.last_lon,
        "last_lat": v.last_lat,
        "position_at": v.position_at.isoformat() if v.position_at else None,
    }


@router.post("/units/{vehicle_id}/status", response_model=s.UnitOut, summary="Move a unit's status")
def unit_status(
    vehicle_id: int, body: s.UnitStatusIn, principal: UnitsP, session: SessionDep
) -> dict[str, Any]:
    return set_unit_status(session, principal, vehicle_id, body)


def set_unit_status(
    session: Any, principal: Principal, vehicle_id: int, body: s.UnitStatusIn
) -> dict[str, Any]:
    vehicle = incidents.vehicle_in_scope(session, principal, vehicle_id)
    if body.lon is not None and body.lat is not None:
        avl.record_fixes(
            session, principal, [avl.Fix(vehicle.id, body.lon, body.lat, crs=body.crs)]
        )
    incidents.set_vehicle_status(session, principal, vehicle, body.status, cause=body.cause)
    session.flush()
    return unit_dict(vehicle)


@router.post(
    "/avl/positions",
    response_model=s.FixesOut,
    summary="GPS fixes of vehicles (AVL platform or crews)",
)
def avl_positions(body: s.FixesIn, principal: UnitsP, session: SessionDep) -> dict[str, int]:
    fixes = [avl.Fix(p.vehicle_id, p.lon, p.lat, p.at, p.crs) for p in body.positions]
    return avl.record_fixes(session, principal, fixes)


# Response plans --------------------------------------------------------------------------


@router.get(
    "/response-plans", response_model=Counted[s.PlanOut], summary="Response plans (等级调派方案)"
)
def list_plans(principal: Read, session: SessionDep) -> dict[str, Any]:
    plans.ensure_plans(session)
    rows = session.scalars(
        select(ResponsePlan).order_by(
            ResponsePlan.incident_type, ResponsePlan.venue_category, ResponsePlan.level
        )
    ).all()
    items = [
        s.PlanOut.model_validate(r, from_attributes=True).model_dump(mode="json") for r in rows
    ]
    return {"items": items, "count": len(items)}


@router.put(
    "/response-plans",
    response_model=s.PlanOut,
    summary="Create or replace the plan of a type/category/level",
)
def put_plan(body: s.PlanIn, principal: PlansAdmin, session: SessionDep) -> dict[str, Any]:
    row = plans.upsert_plan(
        session,
        principal,
        incident_type=body.incident_type,
        venue_category=body.venue_category,
        level=body.level,
        requirements=[r.as_dict() for r in body.requirements],
        note=body.note,
    )
    return s.PlanOut.model_validate(row, from_attributes=True).model_dump(mode="json")


@router.delete("/response-plans/{plan_id}", status_code=204, summary="Delete a plan")
def delete_plan(plan_id: int, principal: PlansAdmin, session: SessionDep) -> Response:
    plans.delete_plan(session, principal, plan_id)
    return Response(status_code=204)
