"""EIDO from a 110 peer: a transfer opens an incident through dispatch's intake; an update
(follow-up) applies by its timestamp. Each message is applied at most once.

* The message is claimed in the link inbox by the peer's message id (the signed
  ``X-Link-Message-Id``, else the EIDO ``$id`` with its ``lastUpdateTimeStamp``), in the
  transaction that applies it: a duplicate gets the first answer back, nothing more.
* An EIDO about one of our incidents (its ``$id`` is ours, or it links to ours), or about
  an incident this peer transferred before, is an update: applied when its
  ``lastUpdateTimeStamp`` is newer than the last one applied, ignored otherwise (out of
  order); its new notes go to the incident's timeline as ``note_110``. For an incident
  110 transferred to us, a follow-up also carries 110's view of the caller's location and
  of the incident: a new location moves the transferred call (and the incident itself while
  no unit is sent, within its jurisdiction) — ``location_110``; 110 closing it closes the
  incident only while no unit is sent and the status machine allows it — ``status_110``.
  Anything else is answered, not applied (119 commands its own operation).
* Anything else is a transfer (三台合一 → 119): dispatch's ``transfer_from_110`` locates it
  (a point outside the city, or outside the peer's jurisdiction, is a clear 422), opens or
  merges the incident, idempotent by the 110 reference.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.dispatch import intake, timeline
from firegrid.dispatch.plans import INCIDENT_TYPES
from firegrid.dispatch.public import Incident, IncidentCall, set_incident_status
from firegrid.dispatch.timeline import Actor
from firegrid.interop.eido import URN_PREFIX, ParsedEido, parse_eido, parsed_level
from firegrid.interop.models import LinkedIncident
from firegrid.interop.registries import registries
from firegrid.links.inbox import claim_inbound, store_inbound_result

DEFAULT_TYPE = "building_fire"


@dataclass(frozen=True)
class Inbound:
    link: str
    peer: str
    message_id: str
    owner_agency_id: str
    scope_path: str


def message_id_of(document: Any, header: str | None) -> str:
    """The peer's message id, or one derived from the EIDO's id and timestamp."""
    if header:
        return header.strip()[:128]
    if isinstance(document, dict):
        basis = f"{document.get('$id', '')}|{document.get('lastUpdateTimeStamp', '')}"
        return "eido:" + hashlib.sha256(basis.encode()).hexdigest()[:48]
    return ""


def receive_eido(session: Session, actor: Actor, inbound: Inbound, document: Any) -> dict[str, Any]:
    """Apply ``document`` once; the answer (also repeated to duplicates)."""
    parsed = parse_eido(document)  # invalid: 422 before anything is claimed
    earlier = claim_inbound(session, inbound.link, inbound.peer, inbound.message_id, "eido")
    if earlier is not None:
        return {**(earlier.result or {}), "duplicate": True}
    result = _apply(session, actor, inbound, parsed)
    result = {**result, "message_id": inbound.message_id, "duplicate": False}
    store_inbound_result(session, inbound.link, inbound.peer, inbound.message_id, result)
    return result


def own_incident_id(parsed: ParsedEido, owner_agency_id: str) -> int | None:
    """Our incident the EIDO is about (its id is ours, or it links to ours)."""
    suffix = f":{owner_agency_id}"
    for candidate in (parsed.tracking_id, *parsed.linked_ids):
        if candidate.startswith(URN_PREFIX) and candidate.endswith(suffix):
            middle = candidate[len(URN_PREFIX) : -len(suffix)]
            if middle.isdigit():
                return int(middle)
    return None


def _apply(session: Session, actor: Actor, inbound: Inbound, parsed: ParsedEido) -> dict[str, Any]:
    linked = session.scalars(
        select(LinkedIncident).where(
            LinkedIncident.peer == inbound.peer, LinkedIncident.remote_id == parsed.tracking_id
        )
    ).first()
    if linked is not None:
        return _update(session, actor, linked, parsed)
    own = own_incident_id(parsed, inbound.owner_agency_id)
    if own is not None:
        incident = session.get(Incident, own)
        if incident is None or not incident.jurisdiction_path.startswith(inbound.scope_path):
            raise ValidationFailed(
                "the EIDO refers to an incident this peer cannot see",
                {"field": "$id", "incident_id": own},
                text=TextCode.INTEROP_INCIDENT_NOT_VISIBLE,
                params={"incident_id": own},
            )
        linked = LinkedIncident(
            peer=inbound.peer,
            remote_id=parsed.tracking_id[:256],
            incident_id=own,
            direction="out",
            last_update_at=parsed.updated_at,
            updates_applied=0,
            notes_seen=[],
        )
        session.add(linked)
        return _apply_notes(session, actor, linked, parsed, "updated")
    return _transfer(session, actor, inbound, parsed)


def incident_type_of(parsed: ParsedEido) -> tuple[str, bool]:
    """Our incident type and whether it was assumed (no usable code in the EIDO)."""
    if parsed.incident_type_internal in INCIDENT_TYPES:
        return parsed.incident_type_internal, False
    mapped = registries().incident_type_in.get(parsed.incident_type_common.strip().upper())
    if mapped:
        return mapped, False
    return DEFAULT_TYPE, True


def external_ref_of(tracking_id: str) -> str:
    """The 110 reference dispatch keeps (64 characters at most)."""
    if len(tracking_id) <= 64:
        return tracking_id
    return "eido:" + hashlib.sha256(tracking_id.encode()).hexdigest()[:59]


def _transfer(
    session: Session, actor: Actor, inbound: Inbound, parsed: ParsedEido
) -> dict[str, Any]:
    location = parsed.location
    if location.lon is None and not location.address:
        raise ValidationFailed(
            "a transfer needs a location: a PIDF-LO point or a civic address in locationComponent",
            {"field": "locationComponent"},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "locationComponent"},
        )
    incident_type, assumed = incident_type_of(parsed)
    first_call = min(parsed.calls, key=lambda c: c.received_at, default=None)
    data = intake.CallData(
        source="transfer_110",
        caller_number=first_call.caller_number if first_call else "",
        address_text=location.address[:300],
        lon=location.lon,
        lat=location.lat,
        crs="wgs84",
        incident_type=incident_type,
        description=(parsed.description or "; ".join(n.text for n in parsed.notes))[:1000],
        external_ref=external_ref_of(parsed.tracking_id),
        received_at=first_call.received_at if first_call else parsed.updated_at,
    )
    result = intake.transfer_from_110(
        session,
        actor,
        data,
        incident_type=incident_type,
        level=parsed_level(parsed),
        scope_path=inbound.scope_path,
    )
    session.flush()
    if result.incident is None:
        raise ValidationFailed(
            "the transfer could not be located in the city",
            {"field": "locationComponent"},
            text=TextCode.INTEROP_NOT_LOCATED,
            params={},
        )
    linked = LinkedIncident(
        peer=inbound.peer,
        remote_id=parsed.tracking_id[:256],
        incident_id=result.incident.id,
        direction="in",
        last_update_at=parsed.updated_at,
        updates_applied=0,
        notes_seen=[],
    )
    session.add(linked)
    answer = _apply_notes(session, actor, linked, parsed, "transferred")
    return {**answer, "merged": result.merged, "incident_type_assumed": assumed}


def _update(
    session: Session, actor: Actor, linked: LinkedIncident, parsed: ParsedEido
) -> dict[str, Any]:
    if parsed.updated_at <= linked.last_update_at:
        return {
            "result": "ignored",
            "reason": "not_newer",
            "incident_id": linked.incident_id,
            "last_update_at": linked.last_update_at.isoformat(),
        }
    linked.last_update_at = parsed.updated_at
    applied: dict[str, Any] = {}
    if linked.direction == "in":
        applied["location"] = _apply_location(session, actor, linked, parsed)
        applied["status"] = _apply_status(session, actor, linked, parsed)
    return {**_apply_notes(session, actor, linked, parsed, "updated"), **applied}


#: a point this close to the known one is the same location (no update)
SAME_POINT_M = 5.0


def _moved_m(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    dx = (lon1 - lon0) * 111_320.0 * math.cos(math.radians((lat0 + lat1) / 2))
    dy = (lat1 - lat0) * 110_540.0
    return math.hypot(dx, dy)


def _apply_location(
    session: Session, actor: Actor, linked: LinkedIncident, parsed: ParsedEido
) -> str:
    """110's newer caller location: ``"unchanged"``, ``"call"`` (the transferred call moved)
    or ``"incident"`` (the incident moved too: no unit sent yet, same jurisdiction)."""
    location = parsed.location
    if location.lon is None or location.lat is None:
        return "unchanged"
    incident = session.get(Incident, linked.incident_id)
    assert incident is not None
    call = session.scalars(
        select(IncidentCall)
        .where(IncidentCall.incident_id == incident.id, IncidentCall.source == "transfer_110")
        .order_by(IncidentCall.id)
    ).first()
    if call is None or (
        call.lon is not None
        and call.lat is not None
        and _moved_m(call.lon, call.lat, location.lon, location.lat) < SAME_POINT_M
    ):
        return "unchanged"
    data = intake.CallData(
        source="transfer_110",
        lon=location.lon,
        lat=location.lat,
        crs="wgs84",
        address_text=location.address[:300],
    )
    intake.set_call_location(session, call, data, "/")
    moved = False
    if (
        incident.status == "created"
        and call.jurisdiction_path == incident.jurisdiction_path
        and call.lon is not None
        and call.lat is not None
    ):
        moved = True
        incident.lon, incident.lat = call.lon, call.lat
        if location.address:
            incident.address = location.address[:300]
    timeline.write(
        session,
        timeline.record(
            incident,
            "location_110",
            parsed.updated_at,
            actor,
            location.address[:300],
            details={
                "lon": call.lon,
                "lat": call.lat,
                "incident_moved": moved,
                "jurisdiction_path": call.jurisdiction_path,
            },
        ),
    )
    return "incident" if moved else "call"


def _apply_status(
    session: Session, actor: Actor, linked: LinkedIncident, parsed: ParsedEido
) -> str:
    """110 closing the incident it transferred: ``"closed"`` when applied, else why not
    (``"unchanged"``: 110 reports no closing; ``"units_sent"``: 119 runs the operation)."""
    says_closed = "closed" in {s.strip().lower() for s in parsed.status_common} or (
        parsed.status_internal.strip().lower() == "closed"
    )
    incident = session.get(Incident, linked.incident_id)
    assert incident is not None
    if not says_closed or incident.status == "closed":
        return "unchanged"
    if incident.status != "created":
        timeline.write(
            session,
            timeline.record(
                incident,
                "status_110",
                parsed.updated_at,
                actor,
                "",
                details={"status_110": "closed", "applied": False, "status": incident.status},
            ),
        )
        return "units_sent"
    timeline.write(
        session,
        timeline.record(
            incident,
            "status_110",
            parsed.updated_at,
            actor,
            "",
            details={"status_110": "closed", "applied": True},
        ),
    )
    set_incident_status(
        session, actor, incident, "closed", at=utcnow(), cause="closed by 110 (transferred)"
    )
    return "closed"


def _apply_notes(
    session: Session, actor: Actor, linked: LinkedIncident, parsed: ParsedEido, outcome: str
) -> dict[str, Any]:
    incident = session.get(Incident, linked.incident_id)
    assert incident is not None
    seen = set(linked.notes_seen or [])
    ours = f"{URN_PREFIX}{incident.id}:"
    fresh = [
        (note, note_id)
        for note, note_id in zip(parsed.notes, _note_ids(parsed), strict=True)
        if note_id not in seen and not note_id.startswith(ours)
    ]
    rows = [timeline.record(incident, "note_110", note.at, actor, note.text) for note, _ in fresh]
    timeline.write(session, *rows)
    linked.notes_seen = [*(linked.notes_seen or []), *(note_id for _, note_id in fresh)]
    linked.updates_applied += 1
    return {"result": outcome, "incident_id": incident.id, "notes_added": len(rows)}


def _note_ids(parsed: ParsedEido) -> list[str]:
    return [nid for nid in parsed.note_ids if not nid.endswith(":note:description")]
