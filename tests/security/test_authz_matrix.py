"""Every route × every role × inside/outside the caller's jurisdiction.

``ROUTE_POLICY`` says, for each ``(method, path_template)`` of the app, which permission
the route needs, whether it is jurisdiction-scoped, and how to build a request for the
inside town and for the outside town. The tests derive the expected status from the role
table (:mod:`firegrid.accounts.roles`):

* no credentials → 401 with the JSON envelope;
* a role without the permission → 403;
* a role with it → ``ok`` inside its jurisdiction and ``outside`` (404/403/422) for a target
  in the other town;
* no 2xx body ever contains an object of the outside town (its markers);
* every state-changing request leaves an audit entry carrying its request id.

A route of the app without an entry here fails :func:`test_every_route_has_a_policy`, so a
new route cannot ship without saying who may call it.

Adding an entry::

    ("POST", "/api/v1/things/{thing_id}/close"): Policy(
        "things:write",                 # permission (None: any signed-in caller)
        params={"thing_id": "thing"},   # path param -> object kind, or "=literal"
        body=lambda s: {"reason": "x"}, # JSON body built for side s ("in" / "out");
                                        # also query= (dict or builder), files= (multipart)
        ok=200,                         # status inside (a tuple when the domain may refuse)
        outside=404,                    # status for the outside town's object (or a tuple)
        # scoped=False: no inside/outside variant (city-wide data or configuration);
        # markers=False: the answer shows another town by design; known_issue="...": a
        # reported defect, its failures become xfails with that text.
    ),

Object kinds are built by ``tests/accounts/city.py::add_object`` (places, resources,
devices, users, API keys) and ``tests/security/objects.py::add_domain_object`` (alarms,
tasks, work orders, incidents, calls, ...): add a kind there for a new table. GET targets
are the fixture's objects; any other method gets a fresh object per request, so deleting or
revoking never disturbs other cases.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import Response
from sqlalchemy import select

from firegrid.accounts.models import AuditEntry
from firegrid.accounts.roles import Role, permissions_of
from firegrid.core.clock import utcnow
from tests.accounts.city import (
    CENTRE,
    OUTSIDE_MARKERS,
    PASSWORD,
    SIDE_PREFIX,
    add_object,
    bearer,
    token_for,
)
from tests.interop.samples import transfer_eido
from tests.security.conftest import World
from tests.security.objects import DOMAIN_KINDS, add_domain_object

pytestmark = pytest.mark.postgres  # uses the database: run on both backends

PUBLIC: set[tuple[str, str]] = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/api/docs"),
    ("GET", "/api/openapi.json"),
    # The API docs served offline (api/docs.py): ReDoc, their assets, root aliases.
    ("GET", "/api/redoc"),
    ("GET", "/api/docs/assets/{name}"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    # The console's static shell (HTML, JS, CSS) and its map-layer settings: no data.
    ("GET", "/console-config.js"),
    # Device platforms push with an HMAC signature per integration, not a user token
    # (tests/ingest/test_http.py covers bad, stale and replayed signatures).
    ("POST", "/api/v1/ingest/push/{integration}"),
    ("GET", "/{full_path:path}"),
    ("HEAD", "/{full_path:path}"),
}

_serial = itertools.count(1)


@dataclass(frozen=True)
class Sample:
    """What a body or query builder may use for one side (``in`` or ``out``)."""

    world: World
    side: str
    n: int = field(default_factory=lambda: next(_serial))

    @property
    def prefix(self) -> str:
        return SIDE_PREFIX[self.side]

    def code(self, kind: str) -> str:
        return self.world.city.code(kind, self.side)

    def path(self, kind: str) -> str:
        return self.world.city.paths[f"{kind}:{self.side}"]

    def unique(self, what: str) -> str:
        return f"{self.prefix}-{what}{self.n}"

    @property
    def lon(self) -> float:
        return CENTRE[self.side][0]

    @property
    def lat(self) -> float:
        return CENTRE[self.side][1]

    def point(self) -> dict[str, float]:
        return {"lon": self.lon, "lat": self.lat}


Builder = Callable[[Sample], Any]


@dataclass(frozen=True)
class Policy:
    permission: str | None  # None: any authenticated caller
    scoped: bool = True  # the route must keep each caller inside its jurisdiction
    params: dict[str, str] = field(default_factory=dict)  # path param -> kind, or "=literal"
    query: dict[str, Any] | Builder | None = None
    body: Builder | None = None
    files: Builder | None = None
    ok: int | tuple[int, ...] = 200  # a tuple: the domain may still refuse (state, data)
    outside: int | tuple[int, ...] = 404
    markers: bool = True  # False: the route shows other towns' data by design (say why)
    known_issue: str | None = None  # a reported defect: a failure is an xfail with this text

    def has_outside_case(self) -> bool:
        return self.scoped and (
            any(not kind.startswith("=") for kind in self.params.values())
            or self.body is not None
            or self.files is not None
            or callable(self.query)
        )


def crud(
    name: str,
    kind: str,
    id_param: str,
    read: str,
    write: str,
    create: Builder,
    patch: Builder,
    create_outside: int = 403,
) -> dict[tuple[str, str], Policy]:
    """The five routes that :func:`firegrid.api.crud.mount` adds for a resource."""
    base, item = f"/api/v1/{name}", f"/api/v1/{name}/{{{id_param}}}"
    target = {id_param: kind}
    return {
        ("GET", base): Policy(read),
        ("GET", item): Policy(read, params=target),
        ("POST", base): Policy(write, body=create, ok=201, outside=create_outside),
        ("PATCH", item): Policy(write, params=target, body=patch),
        ("DELETE", item): Policy(write, params=target, ok=204),
    }


def _csv_hydrant(s: Sample) -> dict[str, Any]:
    data = f"code,lon,lat\n{s.unique('IMP')},{s.lon},{s.lat}\n"
    return {"file": ("hydrants.csv", data.encode(), "text/csv")}


def _shipped_policy() -> dict[str, Any]:
    from firegrid.alarms.policy_doc import PolicyDocument
    from firegrid.alarms.rules import default_document

    return PolicyDocument(*default_document()).as_data()


# Statuses of an authorised caller on a visible object when the domain may still refuse the
# action (its state, a missing road network): never 401/403/404/5xx.
DOMAIN = (200, 201, 204, 409, 422)
# Routes that need a road network answer 404 "no road network" in this fixture city.
ENGINE = (*DOMAIN, 404)
CALL_OUTSIDE = 422  # "the call's location lies outside your jurisdiction: transfer it"
AVL_OUTSIDE = 404

ROUTE_POLICY: dict[tuple[str, str], Policy] = {
    # Unknown devices have no venue yet, so no jurisdiction: city-wide, admins only.
    ("GET", "/api/v1/ingest/quarantine"): Policy("devices:write", scoped=False),
    ("GET", "/api/v1/ingest/quarantine/{quarantine_id}/messages"): Policy(
        "devices:write", scoped=False, params={"quarantine_id": "=1"}, ok=(200, 404)
    ),
    ("POST", "/api/v1/ingest/quarantine/{quarantine_id}/adopt"): Policy(
        "devices:write",
        params={"quarantine_id": "=1"},
        body=lambda s: {
            "venue_id": s.world.city.id("venue", s.side),
            "code": s.unique("Q-"),
            "kind": "smoke_alarm",
        },
        ok=(201, 404, 409, 422),
        outside=(404, 422),
    ),
    # places
    **crud(
        "jurisdictions",
        "jurisdiction",
        "jurisdiction_id",
        "places:read",
        "places:write",
        create=lambda s: {
            # "8" + serial: never a code the city's own add_grid() makes (village + n + 50).
            "code": f"{s.code('village')}8{s.n:06d}",
            "level": "grid",
            "parent_code": s.code("village"),
            "name_zh": "新网格",
            "name_en": "new grid",
            **s.point(),
        },
        patch=lambda s: {"name_en": "renamed", **s.point()},
    ),
    **crud(
        "venues",
        "venue",
        "venue_id",
        "places:read",
        "places:write",
        create=lambda s: {
            "code": s.unique("NV"),
            "name": "new",
            "category": "factory",
            **s.point(),
        },
        patch=lambda s: {"name": "renamed", **s.point()},
    ),
    **crud(
        "grid-workers",
        "grid_worker",
        "grid_worker_id",
        "places:read",
        "places:write",
        create=lambda s: {"code": s.unique("NW"), "name": "new", "grid_code": s.code("grid")},
        patch=lambda s: {"name": "renamed"},
    ),
    ("GET", "/api/v1/geocode"): Policy("places:read", query={"q": "Testcity road 1"}),
    ("GET", "/api/v1/taxonomy"): Policy("places:read", scoped=False),
    ("POST", "/api/v1/imports/{kind}"): Policy(
        "places:import", params={"kind": "=hydrants"}, files=_csv_hydrant, ok=201, outside=422
    ),
    ("GET", "/api/v1/exports/{kind}"): Policy(
        "places:export", params={"kind": "=venues"}, query={"format": "csv"}
    ),
    # resources
    **crud(
        "stations",
        "station",
        "station_id",
        "resources:read",
        "resources:write",
        create=lambda s: {
            "code": s.unique("NS"),
            "name": "new",
            "station_type": "standard",
            "force_kind": "state",
            **s.point(),
        },
        patch=lambda s: {"name": "renamed", **s.point()},
    ),
    **crud(
        "vehicles",
        "vehicle",
        "vehicle_id",
        "resources:read",
        "resources:write",
        create=lambda s: {
            "code": s.unique("NT"),
            "station_code": s.code("station"),
            "vehicle_type": "pumper",
            "call_sign": "new",
        },
        patch=lambda s: {"call_sign": "renamed"},
        create_outside=422,  # an outside station code is reported as unknown
    ),
    **crud(
        "hydrants",
        "hydrant",
        "hydrant_id",
        "resources:read",
        "resources:write",
        create=lambda s: {"code": s.unique("NH"), **s.point()},
        patch=lambda s: {"flow_lps": 20.0, **s.point()},
    ),
    **crud(
        "logistics-points",
        "logistics_point",
        "logistics_point_id",
        "resources:read",
        "resources:write",
        create=lambda s: {"code": s.unique("NL"), "name": "new", **s.point()},
        patch=lambda s: {"name": "renamed", **s.point()},
    ),
    # devices
    **crud(
        "devices",
        "device",
        "device_id",
        "devices:read",
        "devices:write",
        create=lambda s: {
            "code": s.unique("ND"),
            "kind": "smoke_alarm",
            "protocol": "http",
            "external_id": s.unique("EXT"),
            "venue_code": s.code("venue"),
        },
        patch=lambda s: {"install_location": "hall"},
        create_outside=422,  # an outside venue code is reported as unknown
    ),
    # fire records (firegrid.records.api)
    **crud(
        "fire-records",
        "fire_record",
        "record_id",
        "records:read",
        "records:write",
        create=lambda s: {
            "code": s.unique("FR"),
            "occurred_at": "2025-03-01T14:20:00+08:00",
            "cause_code": "electrical",
            **s.point(),
        },
        patch=lambda s: {"cause_code": "smoking"},
    ),
    ("GET", "/api/v1/fire-records-codes"): Policy("records:read", scoped=False),
    ("POST", "/api/v1/fire-records/{record_id}/review"): Policy(
        "records:review", params={"record_id": "fire_record"}, body=lambda s: {"action": "submit"}
    ),
    ("GET", "/api/v1/incidents/{incident_id}/report"): Policy(
        "records:read", params={"incident_id": "incident"}
    ),
    ("PUT", "/api/v1/incidents/{incident_id}/record"): Policy(
        "records:write",
        params={"incident_id": "incident"},
        body=lambda s: {
            "cause_code": "electrical",
            "origin_code": "kitchen",
            "heat_source_code": "overheating",
            "item_first_ignited_code": "wiring",
            "civilian_injured": 0,
            "civilian_killed": 0,
            "firefighter_injured": 0,
            "firefighter_killed": 0,
            "direct_loss_yuan": 1000,
            "area_burned_m2": 5,
            "detector_presence": "present",
            "detector_performance": "operated_effective",
            "alarm_system_presence": "absent",
            "alarm_system_performance": "not_applicable",
            "sprinkler_presence": "unknown",
            "sprinkler_performance": "unknown",
            "actions": ["extinguish"],
        },
        ok=DOMAIN,  # the matrix's incident is open: 409 until it closes
    ),
    ("GET", "/api/v1/analytics/response"): Policy("analytics:read", query={"by": "town"}),
    # notes and photos on an incident's timeline (firegrid.dispatch.notes_api)
    ("POST", "/api/v1/incidents/{incident_id}/notes"): Policy(
        "incidents:write",
        params={"incident_id": "incident"},
        body=lambda s: {"text": "caller rang again: smoke on 3F"},
        ok=201,
    ),
    ("POST", "/api/v1/incidents/{incident_id}/attachments"): Policy(
        "incidents:write",
        params={"incident_id": "incident"},
        files=lambda s: {"photo": ("scene.png", b"\x89PNG\r\n\x1a\n0000", "image/png")},
        ok=201,
    ),
    # no attachment 1 on the matrix's incidents: found in scope is 404 too (the download is
    # tested in tests/dispatch/test_notes.py)
    ("GET", "/api/v1/incidents/{incident_id}/attachments/{entry_id}"): Policy(
        "incidents:read", params={"incident_id": "incident", "entry_id": "=1"}, ok=404
    ),
    # move-up advice over the caller's own stations (a road network is needed)
    ("GET", "/api/v1/move-up"): Policy("incidents:dispatch", scoped=False, ok=ENGINE),
    # crew on duty per vehicle and shift (firegrid.dispatch.staffing_api)
    ("PUT", "/api/v1/units/{vehicle_id}/staffing"): Policy(
        "units:status", params={"vehicle_id": "vehicle"}, body=lambda s: {"crew_on_duty": 4}
    ),
    ("GET", "/api/v1/staffing"): Policy("resources:read"),
    # type-ahead of places in call intake: filtered to the caller's scope, never 404
    ("GET", "/api/v1/intake/places"): Policy("places:read", query={"q": "venue"}, scoped=False),
    # downstream commands to transmitters (firegrid.ingest.commands.api)
    ("POST", "/api/v1/device-commands/check-post"): Policy(
        "devices:command", body=lambda s: {"venue_code": s.code("venue")}, ok=201
    ),
    ("POST", "/api/v1/devices/{device_id}/poll"): Policy(
        "devices:command", params={"device_id": "transmitter"}, ok=201
    ),
    ("GET", "/api/v1/device-commands"): Policy("devices:read"),
    ("GET", "/api/v1/devices/health"): Policy("devices:read"),
    # accounts: self-service
    ("POST", "/api/v1/auth/logout"): Policy(None, scoped=False, ok=204),
    ("GET", "/api/v1/auth/me"): Policy(None, scoped=False),
    ("POST", "/api/v1/auth/password"): Policy(
        None,
        scoped=False,
        body=lambda s: {"current_password": PASSWORD, "new_password": f"changed-pass-{s.n}"},
        ok=204,
    ),
    # accounts: administration
    ("GET", "/api/v1/users"): Policy("accounts:admin"),
    ("POST", "/api/v1/users"): Policy(
        "accounts:admin",
        body=lambda s: {"username": f"new{s.n}", "role": "analyst", "scope_code": s.code("town")},
        ok=201,
        outside=403,
    ),
    ("GET", "/api/v1/users/{user_id}"): Policy("accounts:admin", params={"user_id": "user"}),
    ("PATCH", "/api/v1/users/{user_id}"): Policy(
        "accounts:admin", params={"user_id": "user"}, body=lambda s: {"display_name": "x"}
    ),
    ("POST", "/api/v1/users/{user_id}/reset-password"): Policy(
        "accounts:admin", params={"user_id": "user"}, body=lambda s: {}
    ),
    ("GET", "/api/v1/apikeys"): Policy("accounts:admin"),
    ("POST", "/api/v1/apikeys"): Policy(
        "accounts:admin",
        body=lambda s: {
            "name": s.unique("key"),
            "role": "integration",
            "scope_code": s.code("town"),
            "routes": ["/api/v1/devices"],
        },
        ok=201,
        outside=403,
    ),
    ("POST", "/api/v1/apikeys/{key_id}/revoke"): Policy(
        "accounts:admin", params={"key_id": "apikey"}
    ),
    ("GET", "/api/v1/audit"): Policy("audit:read"),
    ("GET", "/api/v1/audit/export"): Policy("audit:read", query={"format": "jsonl"}),
    # console map layers (firegrid.web.map_api)
    ("GET", "/api/v1/map/boundaries"): Policy("places:read"),
    ("GET", "/api/v1/map/roads"): Policy(
        "places:read", scoped=False, query={"bbox": "113.0,23.0,113.2,23.2"}
    ),
    ("GET", "/api/v1/map/venues"): Policy("places:read"),
    ("GET", "/api/v1/map/stations"): Policy("resources:read"),
    ("GET", "/api/v1/map/hydrants"): Policy("resources:read"),
    ("GET", "/api/v1/map/devices"): Policy("devices:read"),
    # road names are the city's road network, like the roads layer: not scoped
    ("GET", "/api/v1/map/road-labels"): Policy(
        "places:read", scoped=False, query={"bbox": "113.0,23.0,113.2,23.2", "zoom": "15"}
    ),
    ("GET", "/api/v1/map/extent"): Policy("places:read"),
    ("GET", "/api/v1/map/capabilities"): Policy("places:read", scoped=False),
    # road network and travel times (firegrid.geo.api); no road network in this fixture
    ("GET", "/api/v1/geo/network"): Policy("geo:read", scoped=False, ok=ENGINE),
    ("GET", "/api/v1/geo/route"): Policy(
        "geo:read",
        scoped=False,
        query={"from": "113.05,23.1", "to": "113.06,23.11"},
        ok=ENGINE,
    ),
    ("GET", "/api/v1/geo/nearest-stations"): Policy(
        "geo:read", scoped=False, query={"at": "113.05,23.1"}, ok=ENGINE
    ),
    ("GET", "/api/v1/geo/isochrones"): Policy(
        "geo:read", scoped=False, query={"at": "113.05,23.1"}, ok=ENGINE
    ),
    ("GET", "/api/v1/geo/coverage"): Policy("geo:read", ok=ENGINE),
    ("GET", "/api/v1/geo/hydrant-gaps"): Policy("geo:read", ok=ENGINE),
    # planning (firegrid.planning.api): plans are read within the reader's scope; making
    # one is city-wide (a town-scoped planner is refused, 403), and this city has no roads
    ("GET", "/api/v1/planning/plans"): Policy("planning:read"),
    ("POST", "/api/v1/planning/plans"): Policy(
        "planning:write",
        scoped=False,
        body=lambda s: {"model": "mclp", "add": 1, "spacing_m": 2000},
        ok=(201, 403, 404, 422),
    ),
    ("GET", "/api/v1/planning/plans/{plan_id}"): Policy(
        "planning:read", params={"plan_id": "planning_plan"}
    ),
    ("GET", "/api/v1/planning/plans/{plan_id}/export"): Policy(
        "planning:read", params={"plan_id": "planning_plan"}, query={"format": "geojson"}
    ),
    ("GET", "/api/v1/planning/compare"): Policy(
        "planning:read",
        query=lambda s: {
            "ids": ",".join(str(s.world.city.id("planning_plan", s.side)) for _ in range(2))
        },
    ),
    # the change feed (firegrid.sharing.api)
    ("GET", "/api/v1/changes"): Policy("changes:read"),
    # planning jobs (firegrid.planning.jobs_api): 202 and a background job; a simulation
    # needs a plan in scope (the matrix city has no roads, so the job itself may fail);
    # station, hydrant and logistics plans are city-wide; a retried job that fails again is 409
    ("POST", "/api/v1/planning/plans/{plan_id}/simulate"): Policy(
        "planning:write",
        params={"plan_id": "planning_plan"},
        files=lambda s: {"calls": ("calls.jsonl", b'{"t": "x"}\n', "application/x-ndjson")},
        ok=202,
    ),
    ("POST", "/api/v1/planning/stations"): Policy(
        "planning:write",
        scoped=False,
        body=lambda s: {"add": 1, "spacing_m": 5000, "time_limit_s": 1},
        ok=(202, 403),
    ),
    ("POST", "/api/v1/planning/hydrants"): Policy(
        "planning:write", scoped=False, body=lambda s: {"time_limit_s": 1}, ok=(202, 403)
    ),
    ("POST", "/api/v1/planning/logistics"): Policy(
        "planning:write", scoped=False, body=lambda s: {"p": 1, "time_limit_s": 1}, ok=(202, 403)
    ),
    ("GET", "/api/v1/planning/jobs"): Policy("planning:read"),
    ("GET", "/api/v1/planning/jobs/{job_id}"): Policy(
        "planning:read", params={"job_id": "planning_job"}
    ),
    ("POST", "/api/v1/planning/jobs/{job_id}/retry"): Policy(
        "planning:write", params={"job_id": "planning_job"}, ok=(202, 409)
    ),
    # risk assessment (firegrid.risk.api); the fixture records one run
    ("GET", "/api/v1/risk/runs"): Policy("risk:read"),
    ("GET", "/api/v1/risk/runs/latest"): Policy("risk:read"),
    ("GET", "/api/v1/risk/runs/{run_id}"): Policy("risk:read", params={"run_id": "=1"}),
    ("POST", "/api/v1/risk/runs"): Policy(
        "risk:run",
        scoped=False,
        body=lambda s: {},
        ok=201,
    ),
    ("GET", "/api/v1/risk/venues/{venue_id}"): Policy("risk:read", params={"venue_id": "venue"}),
    ("GET", "/api/v1/risk/venues/{venue_id}/explanation"): Policy(
        "risk:read", params={"venue_id": "venue"}
    ),
    ("GET", "/api/v1/risk/venues/{venue_id}/trend"): Policy(
        "risk:read", params={"venue_id": "venue"}
    ),
    ("POST", "/api/v1/risk/venues/{venue_id}/rescore"): Policy(
        "risk:run",
        params={"venue_id": "venue"},
        body=lambda s: {"cause": "matrix"},
        ok=(201, 404, 409, 422),  # a fresh venue has no score of the latest run yet
    ),
    ("GET", "/api/v1/risk/rankings"): Policy("risk:read"),
    ("GET", "/api/v1/risk/grades"): Policy("risk:read"),
    ("GET", "/api/v1/risk/areas/{level}/trend"): Policy(
        "risk:read", params={"level": "=town"}, query=lambda s: {"code": s.code("town")}
    ),
    ("GET", "/api/v1/risk/areas"): Policy("risk:read", query={"level": "town"}),
    ("GET", "/api/v1/risk/areas/{level}/history"): Policy(
        "risk:read", params={"level": "=town"}, query=lambda s: {"code": s.code("town")}
    ),
    ("GET", "/api/v1/risk/changes"): Policy("risk:read"),
    ("GET", "/api/v1/risk/schedules"): Policy("risk:read", scoped=False),
    # the report covers the whole city: only a city-wide caller may read it, and the
    # fixture's run writes none (404 either way is the honest answer)
    ("GET", "/api/v1/risk/runs/{run_id}/report"): Policy(
        "risk:read", params={"run_id": "=1"}, scoped=False, ok=(200, 404)
    ),
    # inspections and hazards (firegrid.inspections.api)
    ("GET", "/api/v1/inspections"): Policy("inspections:read"),
    ("GET", "/api/v1/inspections/{inspection_id}"): Policy(
        "inspections:read", params={"inspection_id": "inspection"}
    ),
    ("POST", "/api/v1/inspections"): Policy(
        "inspections:write",
        body=lambda s: {
            "venue_id": s.world.city.id("venue", s.side),
            "note": "matrix",
            "hazards": [{"category": "blocked_exit", "severity": "major"}],
        },
        ok=201,
        outside=404,  # the outside venue is not found
    ),
    ("POST", "/api/v1/inspections/{inspection_id}/photo"): Policy(
        "inspections:write",
        params={"inspection_id": "inspection"},
        files=lambda s: {"photo": ("site.png", b"\x89PNG\r\n\x1a\n" + b"0" * 32, "image/png")},
        ok=(200, 409),  # one photo per inspection: a second role's attempt is refused
    ),
    ("GET", "/api/v1/hazards"): Policy("inspections:read", query={"status": "open"}),
    ("GET", "/api/v1/hazards/categories"): Policy("inspections:read", scoped=False),
    ("GET", "/api/v1/hazards/{hazard_id}"): Policy(
        "inspections:read", params={"hazard_id": "hazard"}
    ),
    ("POST", "/api/v1/hazards/{hazard_id}/rectify"): Policy(
        "hazards:rectify",
        params={"hazard_id": "hazard"},
        files=lambda s: {"note": (None, "exit cleared")},
    ),
    ("GET", "/api/v1/venues/{venue_id}/inspection-summary"): Policy(
        "inspections:read", params={"venue_id": "venue"}
    ),
    # inspection plans and grid-worker performance (firegrid.inspections.plan_api)
    ("GET", "/api/v1/inspections/plan"): Policy(
        "inspections:read", query=lambda s: {"grid": s.code("grid")}
    ),
    ("GET", "/api/v1/inspections/due"): Policy("inspections:read"),
    ("GET", "/api/v1/inspections/checklists"): Policy("inspections:read", scoped=False),
    ("GET", "/api/v1/inspections/performance"): Policy(
        "inspections:read", query={"period": "2026-11", "level": "grid"}
    ),
    ("GET", "/api/v1/inspections/performance.xlsx"): Policy(
        "inspections:read", query={"period": "2026-11", "level": "grid"}
    ),
    # installation programmes (firegrid.installations.api)
    ("POST", "/api/v1/installations/programmes"): Policy(
        "installations:manage",
        body=lambda s: {
            "code": s.unique("IP"),
            "name": "matrix programme",
            "scope_code": s.code("town"),
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
        ok=201,
        outside=404,  # another town is not found
    ),
    ("GET", "/api/v1/installations/programmes"): Policy("installations:read"),
    ("POST", "/api/v1/installations/programmes/{programme_id}/installations"): Policy(
        "installations:write",
        params={"programme_id": "installation_programme"},
        body=lambda s: {
            "device_type": "smoke_alarm",
            "unit_kind": "household",
            "installed_at": (utcnow() - timedelta(hours=1)).isoformat(),
            "installer": "matrix",
            "grid_code": s.code("grid"),
            "household": "1-101",
        },
        ok=201,
    ),
    ("GET", "/api/v1/installations"): Policy("installations:read"),
    ("GET", "/api/v1/installations/report"): Policy(
        "installations:read", query={"period": str(utcnow().year), "level": "grid"}
    ),
    ("GET", "/api/v1/installations/report.csv"): Policy(
        "installations:read", query={"period": str(utcnow().year), "level": "grid"}
    ),
    # dispatch: intake and incidents (firegrid.dispatch.incident_api)
    ("POST", "/api/v1/calls"): Policy(
        "incidents:write",
        body=lambda s: {
            "caller_number": "13800000000",
            "address_text": "matrix",
            **s.point(),
            "incident_type": "building_fire",
            "auto": False,
        },
        ok=201,
        outside=CALL_OUTSIDE,
    ),
    ("GET", "/api/v1/calls/{call_id}"): Policy("incidents:read", params={"call_id": "call"}),
    ("POST", "/api/v1/calls/{call_id}/locate"): Policy(
        "incidents:write", params={"call_id": "call"}, body=lambda s: s.point(), ok=DOMAIN
    ),
    ("POST", "/api/v1/calls/{call_id}/incident"): Policy(
        "incidents:write",
        params={"call_id": "call"},
        body=lambda s: {"incident_type": "building_fire"},
        ok=DOMAIN,
    ),
    ("POST", "/api/v1/calls/{call_id}/merge"): Policy(
        "incidents:write",
        params={"call_id": "call"},
        body=lambda s: {"incident_id": s.world.city.id("incident", s.side)},
        ok=DOMAIN,
    ),
    ("POST", "/api/v1/transfers/110"): Policy(
        "incidents:110",
        body=lambda s: {
            "external_ref": s.unique("110-"),
            "incident_type": "building_fire",
            **s.point(),
        },
        ok=201,
        outside=CALL_OUTSIDE,
    ),
    # the 110 link (interop/): a signed-in 110 user is the peer of its jurisdiction
    ("POST", "/api/v1/link110/eido"): Policy(
        "incidents:110",
        body=lambda s: transfer_eido(s.unique("eido-"), s.lon, s.lat),
        outside=CALL_OUTSIDE,
    ),
    ("GET", "/api/v1/link110/status"): Policy("links:read", scoped=False),
    ("GET", "/api/v1/link110/dead-letters"): Policy("links:admin", scoped=False),
    ("POST", "/api/v1/link110/dead-letters/{outbox_id}/retry"): Policy(
        "links:admin", scoped=False, params={"outbox_id": "=1"}, ok=(200, 404)
    ),
    ("GET", "/api/v1/link110/incidents/{incident_id}"): Policy(
        "incidents:read", params={"incident_id": "incident"}
    ),
    ("POST", "/api/v1/link110/incidents/{incident_id}/transfer"): Policy(
        "incidents:dispatch",
        params={"incident_id": "incident"},
        body=lambda s: {"reason": "police needed"},
    ),
    # the grid link (gridlink/): every grid event must be signed by a configured peer, so
    # an unsigned request with the permission is 401 (signed cases: tests/gridlink/)
    ("POST", "/api/v1/gridlink/events"): Policy(
        "gridlink:events",
        scoped=False,
        body=lambda s: {"schema": "firegrid.gridlink/1", "type": "grid_event"},
        ok=401,
    ),
    ("GET", "/api/v1/gridlink/status"): Policy("links:read", scoped=False),
    ("GET", "/api/v1/gridlink/dead-letters"): Policy("links:admin", scoped=False),
    ("POST", "/api/v1/gridlink/dead-letters/{outbox_id}/retry"): Policy(
        "links:admin", scoped=False, params={"outbox_id": "=1"}, ok=(200, 404)
    ),
    # webhooks (sharing/): a subscription's scope is its creator's; another town's is 404
    # (tests/sharing/test_webhooks.py)
    ("POST", "/api/v1/webhooks"): Policy(
        "webhooks:admin",
        scoped=False,
        body=lambda s: {"name": s.unique("hook-"), "url": "http://127.0.0.1:9/hook"},
        ok=201,
    ),
    ("GET", "/api/v1/webhooks"): Policy("webhooks:admin", scoped=False),
    ("GET", "/api/v1/webhooks/{subscription_id}"): Policy(
        "webhooks:admin", scoped=False, params={"subscription_id": "=1"}, ok=(200, 404)
    ),
    ("POST", "/api/v1/webhooks/{subscription_id}/remove"): Policy(
        "webhooks:admin",
        scoped=False,
        params={"subscription_id": "=1"},
        body=lambda s: {"cause": "matrix"},
        ok=(200, 404, 409),
    ),
    ("GET", "/api/v1/webhooks/{subscription_id}/dead-letters"): Policy(
        "webhooks:admin", scoped=False, params={"subscription_id": "=1"}, ok=(200, 404)
    ),
    ("POST", "/api/v1/webhooks/{subscription_id}/dead-letters/{delivery}/retry"): Policy(
        "webhooks:admin",
        scoped=False,
        params={"subscription_id": "=1", "delivery": "=1"},
        ok=(404, 409),
    ),
    # the telephony seam: the switch adapter (telephony:events), the remote seat (110)
    ("POST", "/api/v1/telephony/events"): Policy(
        "telephony:events",
        scoped=False,
        body=lambda s: {
            "event": "offered",
            "call_id": s.unique("sw-"),
            "at": "2026-07-01T02:00:00+00:00",
        },
    ),
    ("GET", "/api/v1/telephony/calls"): Policy("incidents:read"),
    ("POST", "/api/v1/telephony/calls/{call_id}/requests"): Policy(
        "incidents:110",
        scoped=False,
        params={"call_id": "=1"},
        body=lambda s: {"kind": "monitor"},
        ok=(201, 404, 409),
    ),
    ("GET", "/api/v1/telephony/requests"): Policy("telephony:events", scoped=False),
    ("POST", "/api/v1/telephony/requests/{request_id}/answer"): Policy(
        "telephony:events",
        scoped=False,
        params={"request_id": "=1"},
        body=lambda s: {"outcome": "done"},
        ok=(200, 404, 409),
    ),
    ("GET", "/api/v1/incidents/{incident_id}/eido"): Policy(
        "incidents:read", params={"incident_id": "incident"}
    ),
    ("POST", "/api/v1/alarm-forwards/consume"): Policy("incidents:write", scoped=False),
    ("GET", "/api/v1/incidents"): Policy("incidents:read"),
    ("GET", "/api/v1/incidents/{incident_id}"): Policy(
        "incidents:read", params={"incident_id": "incident"}
    ),
    ("GET", "/api/v1/incidents/{incident_id}/recommendation"): Policy(
        "incidents:read", params={"incident_id": "incident"}, ok=ENGINE
    ),
    ("POST", "/api/v1/incidents/{incident_id}/dispatch"): Policy(
        "incidents:dispatch",
        params={"incident_id": "incident"},
        body=lambda s: {"vehicle_ids": [s.world.city.id("vehicle", s.side)]},
        ok=ENGINE,
    ),
    ("POST", "/api/v1/incidents/{incident_id}/status"): Policy(
        "incidents:write",
        params={"incident_id": "incident"},
        body=lambda s: {"status": "under_control"},
        ok=DOMAIN,
    ),
    ("POST", "/api/v1/incidents/{incident_id}/escalate"): Policy(
        "incidents:write",
        params={"incident_id": "incident"},
        body=lambda s: {"cause": "matrix"},
        ok=DOMAIN,
    ),
    # The answer names the town asked for help (another town, by design).
    ("POST", "/api/v1/incidents/{incident_id}/joint-defence"): Policy(
        "incidents:dispatch",
        markers=False,
        params={"incident_id": "incident"},
        body=lambda s: {
            "to_town_code": s.world.city.code("town", "out" if s.side == "in" else "in"),
            "requirements": [{"vehicle_type": "pumper", "count": 1}],
        },
        ok=DOMAIN,
    ),
    # The answer names the neighbouring towns (other towns, by design).
    ("GET", "/api/v1/incidents/{incident_id}/neighbour-towns"): Policy(
        "incidents:dispatch", markers=False, params={"incident_id": "incident"}
    ),
    ("POST", "/api/v1/incidents/{incident_id}/reinforcements"): Policy(
        "incidents:write",
        params={"incident_id": "incident"},
        body=lambda s: {"requirements": [{"vehicle_type": "pumper", "count": 1}]},
        ok=DOMAIN,
    ),
    ("GET", "/api/v1/aid-requests"): Policy("incidents:read"),
    ("POST", "/api/v1/aid-requests/{request_id}/answer"): Policy(
        "incidents:dispatch",
        params={"request_id": "aid_request"},
        body=lambda s: {"accept": False, "note": "matrix"},
        ok=DOMAIN,
    ),
    ("GET", "/api/v1/incidents/{incident_id}/orders/{station_id}"): Policy(
        "incidents:read",
        params={"incident_id": "incident", "station_id": "station"},
        query={"format": "json"},
        ok=ENGINE,  # 404 while the station has no units on the incident
    ),
    ("POST", "/api/v1/dispatch-notifications/deliver"): Policy("incidents:dispatch", scoped=False),
    ("GET", "/api/v1/recommendations"): Policy(
        "incidents:read",
        query=lambda s: {**s.point(), "incident_type": "building_fire"},
        ok=ENGINE,  # 404 without a response plan or a road network
        outside=(404, 422),
    ),
    ("GET", "/api/v1/units"): Policy("incidents:read"),
    ("POST", "/api/v1/units/{vehicle_id}/status"): Policy(
        "units:status",
        params={"vehicle_id": "vehicle"},
        body=lambda s: {"status": "available_on_radio"},
        ok=DOMAIN,
    ),
    ("POST", "/api/v1/avl/positions"): Policy(
        "units:status",
        body=lambda s: {
            "positions": [{"vehicle_id": s.world.city.id("vehicle", s.side), **s.point()}]
        },
        ok=DOMAIN,
        outside=AVL_OUTSIDE,
    ),
    # Response plans are city-wide configuration.
    ("GET", "/api/v1/response-plans"): Policy("incidents:read", scoped=False),
    ("PUT", "/api/v1/response-plans"): Policy(
        "plans:admin",
        scoped=False,
        body=lambda s: {
            "incident_type": "flood",
            "venue_category": f"matrix{s.n}",
            "level": 1,
            "requirements": [{"vehicle_type": "rescue", "count": 1}],
        },
    ),
    ("DELETE", "/api/v1/response-plans/{plan_id}"): Policy(
        "plans:admin", scoped=False, params={"plan_id": "plan"}, ok=204
    ),
    # crews (firegrid.dispatch.crew_api)
    ("GET", "/api/v1/crew/vehicles/{vehicle_id}"): Policy(
        "units:status", params={"vehicle_id": "vehicle"}, ok=DOMAIN
    ),
    ("POST", "/api/v1/crew/vehicles/{vehicle_id}/status"): Policy(
        "units:status",
        params={"vehicle_id": "vehicle"},
        body=lambda s: {"status": "available_on_radio"},
        ok=DOMAIN,
    ),
    # pre-incident plans (firegrid.preplans.api); the fixture's plan is a draft v1 of the
    # side's venue (a venue manager's own inside), without a road network
    ("GET", "/api/v1/preplans"): Policy("preplans:read", query={"due": "true"}),
    ("GET", "/api/v1/preplans/review-cycle"): Policy("preplans:read", scoped=False),
    ("GET", "/api/v1/venues/{venue_id}/preplan"): Policy(
        "preplans:read", params={"venue_id": "preplan_venue"}
    ),
    ("POST", "/api/v1/venues/{venue_id}/preplan/drafts"): Policy(
        "preplans:propose",
        params={"venue_id": "preplan_venue"},
        body=lambda s: {"document": {"summary": "matrix"}, "note": "matrix"},
        ok=201,
    ),
    ("GET", "/api/v1/preplans/{plan_id}/versions/{version}"): Policy(
        "preplans:read", params={"plan_id": "preplan", "version": "=1"}
    ),
    # the version's state decides (a draft is reviewed once, then superseded by new drafts)
    ("POST", "/api/v1/preplans/{plan_id}/versions/{version}/review"): Policy(
        "preplans:publish",
        params={"plan_id": "preplan", "version": "=1"},
        body=lambda s: {"note": "matrix"},
        ok=DOMAIN,
    ),
    ("POST", "/api/v1/preplans/{plan_id}/versions/{version}/publish"): Policy(
        "preplans:publish", params={"plan_id": "preplan", "version": "=1"}, ok=DOMAIN
    ),
    ("POST", "/api/v1/preplans/{plan_id}/confirm-review"): Policy(
        "preplans:publish",
        params={"plan_id": "preplan"},
        body=lambda s: {"note": "matrix"},
        ok=DOMAIN,  # 409 while nothing is published
    ),
    ("DELETE", "/api/v1/preplans/{plan_id}/attachments/{attachment_id}"): Policy(
        "preplans:propose", params={"plan_id": "preplan", "attachment_id": "=999999"}, ok=404
    ),
    ("GET", "/api/v1/preplans/{plan_id}/live"): Policy(
        "preplans:read", params={"plan_id": "preplan"}
    ),
    ("GET", "/api/v1/preplans/{plan_id}/sheet.html"): Policy(
        "preplans:read", params={"plan_id": "preplan"}
    ),
    ("GET", "/api/v1/preplans/{plan_id}/sheet.pdf"): Policy(
        "preplans:read",
        params={"plan_id": "preplan"},
        ok=(200, 503),  # 503: no CJK font
    ),
    ("POST", "/api/v1/preplans/{plan_id}/attachments"): Policy(
        "preplans:propose",
        params={"plan_id": "preplan"},
        files=lambda s: {"file": ("plan.png", b"\x89PNG\r\n\x1a\n" + b"0" * 32, "image/png")},
        ok=201,
    ),
    # no attachment 999999 in either side's plan: the plan's scope is what is checked here
    # (tests/preplans/test_api.py reads real ones)
    ("GET", "/api/v1/preplans/{plan_id}/attachments/{attachment_id}"): Policy(
        "preplans:read", params={"plan_id": "preplan", "attachment_id": "=999999"}, ok=404
    ),
    # the fixture's units are not dispatched: no plan to read (tests/preplans covers a
    # dispatched crew)
    ("GET", "/api/v1/crew/vehicles/{vehicle_id}/preplan/attachments/{attachment_id}"): Policy(
        "units:status", params={"vehicle_id": "vehicle", "attachment_id": "=1"}, ok=404
    ),
    # the fixture's incidents are at no venue: no plan (tests/preplans prints a real one)
    ("GET", "/api/v1/incidents/{incident_id}/preplan-sheet.html"): Policy(
        "incidents:read", params={"incident_id": "incident"}, ok=404
    ),
    ("GET", "/api/v1/incidents/{incident_id}/preplan-sheet.pdf"): Policy(
        "incidents:read", params={"incident_id": "incident"}, ok=(404, 503)
    ),
    # alarms (firegrid.alarms.api)
    ("GET", "/api/v1/alarms"): Policy("alarms:read"),
    ("GET", "/api/v1/alarms/stats"): Policy("alarms:read"),
    ("GET", "/api/v1/alarms/colours"): Policy("alarms:read"),
    # Server-Sent Events: read from the start and stop after one event (the side's entry).
    ("GET", "/api/v1/alarms/feed"): Policy("alarms:read", query={"after": "0", "max_events": "1"}),
    # The per-seat live channel: any signed-in caller; it sends only what the caller may
    # read in its jurisdiction. Read from the start and stop once caught up.
    ("GET", "/api/v1/live"): Policy(None, query={"after": "0-0", "once": "true"}),
    ("GET", "/api/v1/alarms/tasks"): Policy("tasks:own"),
    ("GET", "/api/v1/alarms/tasks/{task_id}"): Policy("tasks:own", params={"task_id": "task"}),
    ("POST", "/api/v1/alarms/tasks/{task_id}/result"): Policy(
        "tasks:own",
        params={"task_id": "task"},
        files=lambda s: {"result": (None, "false_alarm"), "reason": (None, "dust")},
        ok=DOMAIN,
    ),
    ("GET", "/api/v1/alarms/workorders"): Policy("workorders:own"),
    ("POST", "/api/v1/alarms/workorders/{order_id}/close"): Policy(
        "workorders:own",
        params={"order_id": "workorder"},
        files=lambda s: {"note": (None, "fixed")},
        ok=DOMAIN,
    ),
    ("GET", "/api/v1/alarms/rules"): Policy("alarms:read", scoped=False),
    ("PUT", "/api/v1/alarms/rules/{name}"): Policy(
        "alarms:admin",
        scoped=False,
        params={"name": "=matrix_put_rule"},
        body=lambda s: {
            "name": "matrix_put_rule",
            "enabled": False,
            "when": {"alarm_kinds": ["fire"]},
            "then": {"action": "confirm"},
        },
        ok=DOMAIN,
    ),
    ("DELETE", "/api/v1/alarms/rules/{name}"): Policy(
        "alarms:admin", scoped=False, params={"name": "rule"}, ok=204
    ),
    # The monitoring-centre policy: one document for the whole city.
    ("GET", "/api/v1/alarms/policy"): Policy("alarms:read", scoped=False),
    ("GET", "/api/v1/alarms/policy/versions"): Policy("alarms:read", scoped=False),
    ("GET", "/api/v1/alarms/policy/versions/{version}"): Policy(
        "alarms:read", scoped=False, params={"version": "=1"}
    ),
    # Editing needs alarms:policy AND a city-wide scope: the matrix's principals are scoped
    # to a town, so a holder is refused (403); the city supervisor's edits are covered by
    # tests/alarms/test_policy.py.
    ("POST", "/api/v1/alarms/policy/versions"): Policy(
        "alarms:policy",
        scoped=False,
        body=lambda s: {"document": _shipped_policy(), "cause": "matrix"},
        ok=403,
    ),
    # Metrics are city-wide: a holder of ops:metrics scoped to a town (the matrix's
    # principals) is refused 403; the city-level scrape is covered by tests/ops/.
    ("GET", "/metrics"): Policy("ops:metrics", scoped=False, ok=403),
    ("GET", "/api/v1/alarms/maintenance-windows"): Policy("alarms:read"),
    ("POST", "/api/v1/alarms/maintenance-windows"): Policy(
        "alarms:act",
        body=lambda s: {
            "venue_id": s.world.city.id("venue", s.side),
            "starts_at": "2030-01-01T00:00:00Z",
            "ends_at": "2030-01-01T01:00:00Z",
            "reason": "test",
        },
        ok=201,
        outside=422,  # an outside venue is reported as unknown
    ),
    ("DELETE", "/api/v1/alarms/maintenance-windows/{window_id}"): Policy(
        "alarms:act", params={"window_id": "window"}, ok=204
    ),
    # The alarm list's tools (firegrid.alarms.listing_api): an outside alarm is "not_found"
    # in the per-alarm result (as an unknown id), so the request itself succeeds.
    ("POST", "/api/v1/alarms/bulk-acknowledge"): Policy(
        "alarms:act",
        body=lambda s: {"alarm_ids": [s.world.city.id("alarm", s.side)]},
        outside=200,
    ),
    ("GET", "/api/v1/alarms/export"): Policy("alarms:read"),
    ("GET", "/api/v1/alarms/{alarm_id}"): Policy("alarms:read", params={"alarm_id": "alarm"}),
    ("GET", "/api/v1/alarms/{alarm_id}/venue"): Policy("alarms:read", params={"alarm_id": "alarm"}),
    **{
        ("POST", f"/api/v1/alarms/{{alarm_id}}/{action}"): Policy(
            "alarms:act", params={"alarm_id": "alarm"}, body=body, ok=DOMAIN
        )
        for action, body in (
            ("acknowledge", None),
            ("verify", lambda s: {"note": "matrix"}),
            ("calls", lambda s: {"outcome": "no_answer"}),
            ("tasks", lambda s: {"note": "matrix"}),
            ("confirm", lambda s: {"note": "matrix", "forward": False}),
            ("false", lambda s: {"reason": "dust"}),
            ("fault", lambda s: {"note": "matrix"}),
            ("forward", None),
            ("close", lambda s: {"note": "matrix"}),
        )
    },
}

ROLES = [role.value for role in Role]
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def app_routes(world: World) -> set[tuple[str, str]]:
    """Every (method, path) served by the app, including routes of included routers."""
    routes: set[tuple[str, str]] = set()
    for context in iter_route_contexts(world.app.routes):
        if isinstance(context.original_route, APIRoute):
            for method in context.methods or ():
                routes.add((method, str(context.path)))
    return routes


def _target(world: World, kind: str, side: str, method: str) -> str:
    """The value of a path parameter: a literal, the fixture's object, or a fresh one."""
    if kind.startswith("="):
        return kind[1:]
    kind = "grid" if kind == "jurisdiction" else kind
    if method == "GET":
        if kind == "rule":
            return world.city.code(kind, side)
        return str(world.city.id(kind, side))
    with world.database.session() as session:  # a fresh object: deletes disturb nothing
        if kind in DOMAIN_KINDS:
            row = add_domain_object(session, world.city, kind, side)
        else:
            row = add_object(session, world.city, kind, side)
        return str(row.name if kind == "rule" else row.id)


def call(world: World, route: tuple[str, str], side: str, headers: dict[str, str]) -> Response:
    method, template = route
    policy = ROUTE_POLICY[route]
    sample = Sample(world, side)
    path = template
    for name, kind in policy.params.items():
        path = path.replace(f"{{{name}}}", _target(world, kind, side, method))
    query = policy.query(sample) if callable(policy.query) else policy.query
    kwargs: dict[str, Any] = {}
    if policy.body is not None:
        kwargs["json"] = policy.body(sample)
    if policy.files is not None:
        kwargs["files"] = policy.files(sample)
    return world.client.request(method, path, params=query, headers=headers, **kwargs)


def assert_nothing_outside(response: Response, route: tuple[str, str], role: str) -> None:
    text = response.text
    for marker in OUTSIDE_MARKERS:
        assert marker not in text, f"{route} as {role}: outside object {marker!r} leaked"


def assert_audited(world: World, response: Response, route: tuple[str, str]) -> None:
    request_id = response.headers["x-request-id"]
    with world.database.session() as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.request_id == request_id, AuditEntry.kind == "request"
            )
        ).first()
    assert entry is not None, f"{route}: no audit entry for request {request_id}"
    assert entry.method == route[0]
    assert entry.status == response.status_code


def _id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1]}"


def test_every_route_has_a_policy(world: World):
    served = app_routes(world)
    missing = sorted(served - set(ROUTE_POLICY) - PUBLIC)
    assert not missing, f"routes without an entry in ROUTE_POLICY: {missing}"
    stale = sorted(set(ROUTE_POLICY) - served)
    assert not stale, f"ROUTE_POLICY entries for routes the app does not serve: {stale}"
    assert all(p.permission is None or p.permission.count(":") == 1 for p in ROUTE_POLICY.values())


@pytest.mark.parametrize("route", sorted(PUBLIC & {("GET", "/healthz"), ("GET", "/readyz")}))
def test_public_routes_need_no_credentials(world: World, route: tuple[str, str]):
    assert world.client.request(*route).status_code == 200


@pytest.mark.parametrize("route", sorted(ROUTE_POLICY), ids=_id)
def test_without_credentials_is_401(world: World, route: tuple[str, str]):
    for headers in ({}, bearer("garbage"), {"X-API-Key": "fgk_x_y"}):
        response = call(world, route, "in", headers)
        assert response.status_code == 401, f"{route} {headers}: {response.status_code}"
        assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(ROUTE_POLICY), ids=_id)
def test_role_and_jurisdiction(world: World, route: tuple[str, str], role: str):
    policy = ROUTE_POLICY[route]
    try:
        check_role_and_jurisdiction(world, route, role, policy)
    except Exception:  # an assertion, or a server error raised through the test client
        if policy.known_issue:
            pytest.xfail(f"known issue: {policy.known_issue}")
        if world.risk_error and route[1].startswith("/api/v1/risk/"):
            pytest.xfail(f"the fixture's risk run failed: {world.risk_error}")
        raise


def check_role_and_jurisdiction(
    world: World, route: tuple[str, str], role: str, policy: Policy
) -> None:
    allowed = policy.permission is None or policy.permission in permissions_of(role)
    headers = bearer(token_for(world.database, world.settings, world.users[role]))

    inside = call(world, route, "in", headers)
    expected = policy.ok if allowed else 403
    accepted = expected if isinstance(expected, tuple) else (expected,)
    assert inside.status_code in accepted, (
        f"{route} as {role} inside: {inside.status_code} (expected {expected}) {inside.text[:300]}"
    )
    if inside.is_success and policy.markers:
        assert_nothing_outside(inside, route, role)
    elif not inside.is_success:
        assert set(inside.json()) == {"error"}
    if route[0] in MUTATING:
        assert_audited(world, inside, route)

    if allowed and policy.has_outside_case():
        outside = call(world, route, "out", headers)
        refused = policy.outside if isinstance(policy.outside, tuple) else (policy.outside,)
        assert outside.status_code in refused, (
            f"{route} as {role} outside: {outside.status_code} (expected {policy.outside}) "
            f"{outside.text[:300]}"
        )
        if outside.is_success and policy.markers:
            assert_nothing_outside(outside, route, role)
        if route[0] in MUTATING:
            assert_audited(world, outside, route)


def test_city_admin_sees_both_towns(world: World):
    """The control: the markers do appear for a caller whose scope covers the outside town."""
    from tests.accounts.city import make_user

    admin = make_user(world.database, "matrix_city_admin", "admin", world.city.code("city", "in"))
    headers = bearer(token_for(world.database, world.settings, admin))
    venues = world.client.get("/api/v1/venues", headers=headers).text
    assert world.city.code("venue", "out") in venues
    assert world.city.code("venue", "in") in venues
    outside_venue = world.city.id("venue", "out")
    assert world.client.get(f"/api/v1/venues/{outside_venue}", headers=headers).status_code == 200
