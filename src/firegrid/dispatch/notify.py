"""Notify stations of a dispatch: a webhook (JSON POST) where the station has one, and a
printable dispatch order (出动单) as text or HTML for every station.

Orders are queued in ``dispatch_notifications`` in the dispatch's transaction and delivered
after commit by :func:`deliver_pending` (retried on the next run when a webhook fails).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.clock import CHINA_TZ, utcnow
from firegrid.core.db import Database
from firegrid.core.errors import NotFound
from firegrid.core.texts import TextCode
from firegrid.dispatch.incident_models import Assignment, DispatchNotification, Incident
from firegrid.dispatch.models import Station, Vehicle
from firegrid.places.public import Venue

MAX_ATTEMPTS = 5


def order_payload(session: Session, incident: Incident, station: Station) -> dict[str, Any]:
    """The dispatch order of one station for an incident (every unit of that station)."""
    units = session.execute(
        select(Assignment, Vehicle)
        .join(Vehicle, Vehicle.id == Assignment.vehicle_id)
        .where(Assignment.incident_id == incident.id, Assignment.station_id == station.id)
        .order_by(Assignment.id)
    ).all()
    venue = session.get(Venue, incident.venue_id) if incident.venue_id else None
    return {
        "kind": "dispatch_order",
        "incident": {
            "id": incident.id,
            "type": incident.incident_type,
            "venue_category": incident.venue_category,
            "level": incident.level,
            "address": incident.address,
            "description": incident.description,
            "lon": incident.lon,
            "lat": incident.lat,
            "call_received_at": incident.call_received_at.isoformat(),
            "command_level": incident.command_level,
        },
        "venue": None
        if venue is None
        else {
            "id": venue.id,
            "name": venue.name,
            "category": venue.category,
            "floors": venue.floors,
            "contact_phone": venue.contact_phone,
        },
        "station": {"id": station.id, "code": station.code, "name": station.name},
        "units": [
            {
                "vehicle_id": v.id,
                "code": v.code,
                "call_sign": v.call_sign,
                "vehicle_type": v.vehicle_type,
                "crew": v.crew,
                "eta_s": None if a.eta_s is None else round(a.eta_s),
                "dispatched_at": a.dispatched_at.isoformat(),
                "via": a.via,
            }
            for a, v in units
        ],
    }


def queue_orders(
    session: Session, incident: Incident, station_ids: Sequence[int]
) -> list[DispatchNotification]:
    """One notification per station of the dispatched units (webhook or print)."""
    out = []
    for station_id in dict.fromkeys(station_ids):
        station = session.get(Station, station_id)
        if station is None:
            continue
        note = DispatchNotification(
            incident_id=incident.id,
            station_id=station.id,
            channel="webhook" if station.webhook_url else "print",
            status="pending" if station.webhook_url else "ready",
            url=station.webhook_url,
            payload=order_payload(session, incident, station),
            created_at=utcnow(),
        )
        session.add(note)
        out.append(note)
    session.flush()
    return out


def deliver_pending(
    database: Database, *, limit: int = 50, timeout_s: float = 3.0
) -> dict[str, int]:
    """POST pending webhook orders; returns counts of sent and failed."""
    sent = failed = 0
    with database.session() as session:
        rows = session.scalars(
            select(DispatchNotification)
            .where(
                DispatchNotification.status == "pending",
                DispatchNotification.attempts < MAX_ATTEMPTS,
            )
            .order_by(DispatchNotification.id)
            .limit(limit)
        ).all()
        if not rows:
            return {"sent": 0, "failed": 0}
        with httpx.Client(timeout=timeout_s) as client:
            for note in rows:
                note.attempts += 1
                try:
                    response = client.post(note.url, json=note.payload)
                    response.raise_for_status()
                except httpx.HTTPError as err:
                    note.last_error = f"{type(err).__name__}: {err}"[:300]
                    if note.attempts >= MAX_ATTEMPTS:
                        note.status = "failed"
                    failed += 1
                    continue
                note.status = "sent"
                note.sent_at = utcnow()
                sent += 1
    return {"sent": sent, "failed": failed}


def render_text(payload: dict[str, Any]) -> str:
    """A plain-text dispatch order for a station printer."""
    inc = payload["incident"]
    received = _local(inc["call_received_at"])
    lines = [
        "出动单 DISPATCH ORDER",
        f"警情 Incident #{inc['id']}  {inc['type']}  等级 level {inc['level']}",
        f"地址 Address: {inc['address'] or '-'}",
        f"位置 Location: {inc['lon']:.6f}, {inc['lat']:.6f} (WGS-84)",
        f"接警 Call received: {received}",
        f"站 Station: {payload['station']['name']} ({payload['station']['code']})",
    ]
    if payload.get("venue"):
        venue = payload["venue"]
        lines.append(f"场所 Venue: {venue['name']} [{venue['category']}] floors {venue['floors']}")
    if inc.get("description"):
        lines.append(f"情况 Details: {inc['description']}")
    lines.append("出动车辆 Units:")
    for unit in payload["units"]:
        eta = "-" if unit["eta_s"] is None else f"{unit['eta_s']} s"
        lines.append(
            f"  {unit['call_sign']} ({unit['code']}, {unit['vehicle_type']}, crew {unit['crew']})"
            f"  ETA {eta}"
        )
    return "\n".join(lines) + "\n"


def render_html(payload: dict[str, Any]) -> str:
    """The same order as a printable HTML page."""
    text = render_text(payload)
    title = f"出动单 #{payload['incident']['id']}"
    body = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines())
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;font-size:14pt}p{margin:2pt 0}</style>"
        f"</head><body>{body}</body></html>"
    )


def _local(iso: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(iso).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S %Z")


def station_order(session: Session, incident: Incident, station_id: int) -> dict[str, Any]:
    station = session.get(Station, station_id)
    has_units = session.scalars(
        select(Assignment.id).where(
            Assignment.incident_id == incident.id, Assignment.station_id == station_id
        )
    ).first()
    if station is None or has_units is None:
        raise NotFound(
            f"station {station_id} has no units on incident {incident.id}",
            {"station_id": station_id},
            text=TextCode.STATION_NOT_ON_INCIDENT,
            params={"station_id": station_id, "incident_id": incident.id},
        )
    return order_payload(session, incident, station)
