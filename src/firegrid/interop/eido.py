"""Build an EIDO (NENA-STA-021.1, version 1.0) from an incident snapshot, read one back, and
validate both ways against our JSON Schema of the subset we use (``eido_subset.schema.json``).

Identifiers: the incident is ``urn:emergency:uid:incidentid:<id>:<agency>``; its components
extend that id (``…:call:<id>``, ``…:location:0``, ``…:unit:<vehicle id>:<code>``,
``…:note:<timeline id>``, ``…:note:description``). Our own codes travel in EIDO's "internal"
fields next to the registry values (:mod:`.registries`), so a firegrid peer reads an
incident back exactly, and any other peer reads the registry values.

Location travels as PIDF-LO (``locationByValue``: a GML point, ``lat lon`` in EPSG:4326,
WGS-84) plus ``locationDescriptionText`` (the address). Reading accepts a GML ``pos`` in
any PIDF-LO shape (point, circle, ellipsoid), or a civic address whose parts become the
address text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import first_of, jsonschema_problem
from firegrid.core.texts import TextCode
from firegrid.interop.registries import registries
from firegrid.interop.snapshot import CallSnap, IncidentSnapshot, NoteSnap, UnitSnap

SCHEMA_FILE = Path(__file__).with_name("eido_subset.schema.json")
EIDO_VERSION = "1.0"
URN_PREFIX = "urn:emergency:uid:incidentid:"
_POS = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?pos>\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)")
_CIVIC_PARTS = ("A1", "A2", "A3", "A4", "A5", "A6", "RD", "STS", "HNO", "HNS", "LMK", "LOC", "NAM")
_CIVIC = re.compile(r"<(?:\w+:)?(" + "|".join(_CIVIC_PARTS) + r")>([^<]*)<")


class InvalidEido(ValidationFailed):
    code = "invalid_eido"


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema())
    return cls(schema())


@cache
def _fast_check() -> Callable[[Any], bool] | None:
    """A compiled validator of the same schema (jsonschema-rs), if installed: about ten
    times faster on the outbound path; the reference validator still names the problems."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - an optional accelerator
        return None
    check: Callable[[Any], bool] = jsonschema_rs.validator_for(schema()).is_valid
    return check


def validate(document: Any) -> None:
    """:class:`InvalidEido` (422) naming every place the document breaks the schema."""
    fast = _fast_check()
    if fast is not None and fast(document):
        return
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        found = [jsonschema_problem(e) for e in errors[:20]]
        problems = [
            {
                "path": "/" + "/".join(str(p) for p in e.absolute_path),
                "problem": e.message[:300],
                "code": f.problem.value,
                "params": dict(f.params),
            }
            for e, f in zip(errors, found, strict=False)
        ]
        raise InvalidEido(
            "the EIDO does not match the schema",
            {"problems": problems},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "eido", **first_of(found)},
        )


@dataclass(frozen=True)
class Agency:
    """An agency as EIDO names it (its ``$id``) with its roles and types."""

    id: str
    roles: tuple[str, ...]
    types: tuple[str, ...]
    owning: bool = False


def incident_urn(incident_id: int, agency_id: str) -> str:
    return f"{URN_PREFIX}{incident_id}:{agency_id}"


def _ts(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.isoformat()


def _ref(target: str) -> dict[str, str]:
    return {"$ref": target}


def pidf_point(lon: float, lat: float, entity: str) -> str:
    """A PIDF-LO document holding one GML point (EPSG:4326, ``lat lon``)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" '
        'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
        'xmlns:gml="http://www.opengis.net/gml" '
        f'entity="pres:{html.escape(entity, quote=True)}">'
        '<tuple id="location"><status><gp:geopriv><gp:location-info>'
        '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326">'
        f"<gml:pos>{lat!r} {lon!r}</gml:pos>"
        "</gml:Point></gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple>"
        "</presence>"
    )


def build_eido(
    snap: IncidentSnapshot,
    owner: Agency,
    partners: tuple[Agency, ...] = (),
    *,
    issuing: str,
    linked_ids: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The EIDO of ``snap`` issued by ``owner`` to ``partners`` (validated before return)."""
    reg = registries()
    urn = incident_urn(snap.incident_id, owner.id)
    stamp = _ts(snap.updated_at)
    by = _ref(owner.id)

    def prologue(component_id: str, at: datetime | None = None) -> dict[str, Any]:
        return {
            "$id": component_id,
            "lastUpdateTimeStamp": _ts(at) if at is not None else stamp,
            "updatedByAgencyReference": by,
        }

    location_id = f"{urn}:location:0"
    notes: list[dict[str, Any]] = []
    if snap.description:
        notes.append(
            {
                **prologue(f"{urn}:note:description"),
                "notesActionComments": html.escape(snap.description),
            }
        )
    notes += [
        {**prologue(f"{urn}:note:{n.entry_id}", n.at), "notesActionComments": html.escape(n.text)}
        for n in snap.notes
    ]
    incident = {
        **prologue(f"{urn}:incident"),
        "incidentTypeCommonRegistryText": reg.incident_type_out.get(snap.incident_type, "FOTHER"),
        "incidentTypeInternalCode": snap.incident_type,
        "incidentStatusCommonRegistryText": [reg.incident_status_out.get(snap.status, "Active")],
        "incidentStatusInternalText": [snap.status],
        "internalIncidentId": str(snap.incident_id),
        "incidentPriorityInternalText": f"level {snap.level}",
        "incidentCommonPriorityNumber": reg.level_priority.get(snap.level, 2),
        "beatOrDispatchGroupText": snap.jurisdiction_path,
        "locationReference": [_ref(location_id)],
        "notesReference": [_ref(n["$id"]) for n in notes],
    }
    calls = []
    callbacks = []
    for c in snap.calls:
        call_id = f"{urn}:call:{c.call_id}"
        call: dict[str, Any] = {
            **prologue(call_id, c.received_at),
            "callStateRegistryText": "callEnd",
            "standardPrimaryCallType": "emergency",
            "localCallType": c.source,
            "direction": "incoming",
            "callStartTimestamp": _ts(c.received_at),
            "locationReference": [_ref(location_id)],
        }
        if c.external_ref:
            call["relatedCallIdentifier"] = [c.external_ref]
        if c.caller_number:
            callbacks.append(
                {
                    **prologue(f"{call_id}:callback", c.received_at),
                    "callBackInformationUri": [f"tel:{c.caller_number}"],
                }
            )
            call["callBackReference"] = _ref(f"{call_id}:callback")
        calls.append(call)
    units = []
    for u in snap.units:
        primary, secondary = reg.unit_status_out.get(u.status, ("NotAvailable", "Assigned"))
        units.append(
            {
                **prologue(f"{urn}:unit:{u.vehicle_id}:{u.code}", u.changed_at),
                "agentReference": [],
                "emergencyResourceTypeCommonRegistryText": reg.resource_type_out.get(
                    u.vehicle_type, "Other"
                ),
                "emergencyResourceTypeInternalText": u.vehicle_type,
                "emergencyResourceName": u.call_sign,
                "resourceAttributeRegistryText": [],
                "primaryUnitStatusRegistryText": primary,
                "secondaryUnitStatusRegistryText": [secondary],
                "unitStatusInternal": [u.status],
                "activeOnIncidentId": urn,
            }
        )
    agencies = [owner, *partners]
    document: dict[str, Any] = {
        **prologue(urn),
        "eidoVersion": EIDO_VERSION,
        "issuingElementIdentification": issuing,
        "agencyComponent": [
            {
                **prologue(a.id),
                "agencyRoleDescriptionRegistryText": list(a.roles),
                "agencyType": list(a.types),
                "incidentOwningAgencyIndicator": a.owning,
            }
            for a in agencies
        ],
        "incidentComponent": incident,
        "callComponent": calls,
        "callbackComponent": callbacks,
        "locationComponent": [
            {
                **prologue(location_id),
                "locationTypeDescriptionRegistryText": "CurrentIncident",
                "locationByValue": pidf_point(snap.lon, snap.lat, f"incident-{snap.incident_id}"),
                "locationDescriptionText": snap.address,
            }
        ],
        "emergencyResourceComponent": units,
        "notesComponent": notes,
    }
    if linked_ids:
        document["linkComponent"] = [
            {
                **prologue(f"{urn}:link:{i}"),
                "incidentTrackingIdentifier": other,
                "linkDirectionCode": "RELATED",
                "transactionReasonText": "transferred from 110",
            }
            for i, other in enumerate(linked_ids)
        ]
    validate(document)
    return document


# Reading ---------------------------------------------------------------------------------


@dataclass
class ParsedLocation:
    lon: float | None = None
    lat: float | None = None
    address: str = ""


@dataclass
class ParsedEido:
    """What firegrid reads from an EIDO (any sender)."""

    tracking_id: str
    updated_at: datetime
    issuing: str
    updated_by: str
    agencies: list[Agency] = field(default_factory=list)
    incident_type_common: str = ""
    incident_type_internal: str = ""
    status_internal: str = ""
    status_common: list[str] = field(default_factory=list)
    internal_id: str = ""
    level_text: str = ""
    priority: int | None = None
    group_text: str = ""
    location: ParsedLocation = field(default_factory=ParsedLocation)
    description: str = ""
    calls: list[CallSnap] = field(default_factory=list)
    units: list[UnitSnap] = field(default_factory=list)
    notes: list[NoteSnap] = field(default_factory=list)
    note_ids: list[str] = field(default_factory=list)
    linked_ids: list[str] = field(default_factory=list)


def parse_time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidEido(
            f"{where} must be a date-time text",
            {"field": where},
            text=TextCode.VALIDATION_DATETIME,
            params={"field": where},
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidEido(
            f"{where} is not an ISO 8601 date-time",
            {"field": where},
            text=TextCode.VALIDATION_DATETIME,
            params={"field": where},
        ) from None
    if parsed.tzinfo is None:
        raise InvalidEido(
            f"{where} must carry a UTC offset",
            {"field": where, "value": value},
            text=TextCode.VALIDATION_TIMEZONE_NAIVE,
            params={"field": where},
        )
    return parsed


def parse_location(component: dict[str, Any]) -> ParsedLocation:
    found = ParsedLocation(address=str(component.get("locationDescriptionText", "")))
    pidf = component.get("locationByValue")
    if isinstance(pidf, str):
        match = _POS.search(pidf)
        if match:
            try:
                found.lat, found.lon = float(match.group(1)), float(match.group(2))
            except ValueError:
                found.lat = found.lon = None
        if not found.address:
            parts = [m.group(2).strip() for m in _CIVIC.finditer(pidf)]
            found.address = " ".join(html.unescape(p) for p in parts if p)
    return found


def _index(document: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    items = document.get(name) or []
    return {str(c["$id"]): c for c in items if isinstance(c, dict) and "$id" in c}


def _incident_component(document: dict[str, Any]) -> dict[str, Any] | None:
    value = document.get("incidentComponent")
    if isinstance(value, list):
        return value[0] if value else None
    return value if isinstance(value, dict) else None


def _suffix_int(component_id: str, marker: str) -> int | None:
    _, found, rest = component_id.rpartition(marker)
    head = rest.split(":", 1)[0]
    return int(head) if found and head.isdigit() else None


def parse_eido(document: Any) -> ParsedEido:
    """Validate ``document`` and read what firegrid uses from it."""
    validate(document)
    parsed = ParsedEido(
        tracking_id=str(document["$id"]),
        updated_at=parse_time(document["lastUpdateTimeStamp"], "lastUpdateTimeStamp"),
        issuing=str(document["issuingElementIdentification"]),
        updated_by=str(document["updatedByAgencyReference"]["$ref"]),
    )
    for a in document["agencyComponent"]:
        types = a["agencyType"]
        parsed.agencies.append(
            Agency(
                id=str(a["$id"]),
                roles=tuple(a["agencyRoleDescriptionRegistryText"]),
                types=tuple([types] if isinstance(types, str) else types),
                owning=bool(a.get("incidentOwningAgencyIndicator", False)),
            )
        )
    locations = _index(document, "locationComponent")
    notes = _index(document, "notesComponent")
    incident = _incident_component(document)
    location_refs: list[str] = []
    if incident is not None:
        parsed.incident_type_common = str(incident["incidentTypeCommonRegistryText"])
        parsed.incident_type_internal = str(incident.get("incidentTypeInternalCode", ""))
        parsed.status_internal = next(iter(incident.get("incidentStatusInternalText") or []), "")
        parsed.status_common = list(incident.get("incidentStatusCommonRegistryText") or [])
        parsed.internal_id = str(incident.get("internalIncidentId", ""))
        parsed.level_text = str(incident.get("incidentPriorityInternalText", ""))
        parsed.priority = incident.get("incidentCommonPriorityNumber")
        parsed.group_text = str(incident.get("beatOrDispatchGroupText", ""))
        location_refs = [r["$ref"] for r in incident.get("locationReference") or []]
    chosen = _choose_location(locations, location_refs)
    if chosen is not None:
        parsed.location = parse_location(chosen)
    callbacks = _index(document, "callbackComponent")
    for c in document.get("callComponent") or []:
        number = ""
        callback = callbacks.get(str((c.get("callBackReference") or {}).get("$ref", "")))
        if callback is not None:
            uris = callback.get("callBackInformationUri") or []
            number = next((u[4:] for u in uris if isinstance(u, str) and u.startswith("tel:")), "")
        related = c.get("relatedCallIdentifier") or []
        parsed.calls.append(
            CallSnap(
                call_id=_suffix_int(str(c["$id"]), ":call:") or 0,
                source=str(c.get("localCallType", "")),
                caller_number=number,
                received_at=parse_time(c["callStartTimestamp"], "callComponent.callStartTimestamp"),
                external_ref=str(related[0]) if related else "",
            )
        )
    for u in document.get("emergencyResourceComponent") or []:
        uid = str(u["$id"])
        _, _, tail = uid.rpartition(":unit:")
        vehicle, _, code = tail.partition(":")
        parsed.units.append(
            UnitSnap(
                vehicle_id=int(vehicle) if vehicle.isdigit() else 0,
                code=code,
                call_sign=str(u.get("emergencyResourceName", "")),
                vehicle_type=str(u.get("emergencyResourceTypeInternalText", ""))
                or str(u["emergencyResourceTypeCommonRegistryText"]),
                status=next(iter(u.get("unitStatusInternal") or []), "")
                or str(u["primaryUnitStatusRegistryText"]),
                changed_at=parse_time(u["lastUpdateTimeStamp"], "emergencyResourceComponent"),
            )
        )
    for note_id, n in notes.items():
        text = html.unescape(str(n["notesActionComments"]))
        parsed.note_ids.append(note_id)
        if note_id.endswith(":note:description"):
            parsed.description = text
            continue
        parsed.notes.append(
            NoteSnap(
                entry_id=_suffix_int(note_id, ":note:") or 0,
                at=parse_time(n["lastUpdateTimeStamp"], "notesComponent.lastUpdateTimeStamp"),
                text=text,
            )
        )
    parsed.linked_ids = [
        str(link["incidentTrackingIdentifier"]) for link in document.get("linkComponent") or []
    ]
    return parsed


def _choose_location(
    locations: dict[str, dict[str, Any]], refs: list[str]
) -> dict[str, Any] | None:
    """The incident's location: the referenced one, else CurrentIncident, InitialIncident,
    Caller, then any."""
    for ref in refs:
        if ref in locations:
            return locations[ref]
    for kind in ("CurrentIncident", "InitialIncident", "Caller"):
        for c in locations.values():
            if c.get("locationTypeDescriptionRegistryText") == kind:
                return c
    return next(iter(locations.values()), None)


def parsed_level(parsed: ParsedEido) -> int:
    """Our level (1..5): from ``level N`` text, else the nearest common priority, else 1."""
    match = re.fullmatch(r"level ([1-5])", parsed.level_text.strip())
    if match:
        return int(match.group(1))
    if isinstance(parsed.priority, int) and not isinstance(parsed.priority, bool):
        return registries().priority_level(parsed.priority)
    return 1


def snapshot_from(parsed: ParsedEido) -> IncidentSnapshot:
    """The incident a firegrid EIDO describes (the inverse of :func:`build_eido`)."""
    if parsed.location.lon is None or parsed.location.lat is None:
        raise InvalidEido(
            "the EIDO has no point location",
            {"field": "locationComponent"},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "locationComponent"},
        )
    received = min((c.received_at for c in parsed.calls), default=parsed.updated_at)
    return IncidentSnapshot(
        incident_id=int(parsed.internal_id) if parsed.internal_id.isdigit() else 0,
        incident_type=parsed.incident_type_internal
        or registries().incident_type_in.get(parsed.incident_type_common, ""),
        level=parsed_level(parsed),
        status=parsed.status_internal,
        lon=parsed.location.lon,
        lat=parsed.location.lat,
        address=parsed.location.address,
        description=parsed.description,
        jurisdiction_path=parsed.group_text,
        call_received_at=received,
        updated_at=parsed.updated_at,
        calls=tuple(parsed.calls),
        units=tuple(parsed.units),
        notes=tuple(parsed.notes),
    )
