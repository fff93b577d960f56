"""HTTP routes of the places context (thin: rules live in the service)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from firegrid.accounts.public import Principal
from firegrid.api.crud import Filter, Resource, mount
from firegrid.api.deps import SessionDep, require
from firegrid.places import schemas, service
from firegrid.places.crs import parse_crs, point_from_wgs84
from firegrid.places.geocode import geocode
from firegrid.places.models import GridWorker, Jurisdiction, Venue
from firegrid.places.public import VENUE_CHANGED
from firegrid.places.taxonomy import Taxonomy, load_taxonomy

router = APIRouter()

JURISDICTIONS = Resource(
    name="jurisdictions",
    model=Jurisdiction,
    out_schema=schemas.JurisdictionOut,
    create_schema=schemas.JurisdictionIn,
    update_schema=schemas.JurisdictionPatch,
    read_permission="places:read",
    write_permission="places:write",
    prepare=service.prepare_jurisdiction,
    check_delete=service.check_jurisdiction_delete,
    path_column="path",
    geometry_column="boundary",
    filters={
        "level": Filter("level", description="city, town, village or grid"),
        "parent_id": Filter("parent_id", type=int),
        "code": Filter("code"),
        "path_prefix": Filter("path", "prefix", description="Materialised path prefix."),
    },
    tag="places",
)

VENUES = Resource(
    name="venues",
    model=Venue,
    out_schema=schemas.VenueOut,
    create_schema=schemas.VenueIn,
    update_schema=schemas.VenuePatch,
    read_permission="places:read",
    write_permission="places:write",
    prepare=service.prepare_venue,
    owner_venue_column="id",
    change_topic=VENUE_CHANGED,
    filters={
        "category": Filter("category"),
        "code": Filter("code"),
        "name": Filter("name", "contains", description="Part of the name."),
        "is_key_unit": Filter("is_key_unit", type=bool),
        "is_high_risk": Filter("is_high_risk", type=bool),
        "industry_code": Filter("industry_code", "prefix"),
        "path_prefix": Filter(
            "jurisdiction_path", "prefix", description="Jurisdiction path prefix."
        ),
    },
    tag="places",
)

GRID_WORKERS = Resource(
    name="grid-workers",
    model=GridWorker,
    out_schema=schemas.GridWorkerOut,
    create_schema=schemas.GridWorkerIn,
    update_schema=schemas.GridWorkerPatch,
    read_permission="places:read",
    write_permission="places:write",
    prepare=service.prepare_grid_worker,
    point=False,
    id_param="grid_worker_id",
    filters={"grid_id": Filter("grid_id", type=int), "code": Filter("code")},
    tag="places",
    # a venue manager sees the grid workers of its own venues' grids, not everyone's phone
    venue_manager_filter=lambda principal: GridWorker.grid_id.in_(
        select(Venue.jurisdiction_id).where(Venue.id.in_(principal.venue_ids))
    ),
)

for resource in (JURISDICTIONS, VENUES, GRID_WORKERS):
    mount(router, resource)


@router.get(
    "/geocode", tags=["places"], summary="Resolve a free-text address to a standard address"
)
def geocode_address(
    principal: Annotated[Principal, Depends(require("places:read"))],
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=300, description="Address text.")],
    crs: Annotated[str, Query(description="CRS of the returned point.")] = "wgs84",
) -> schemas.GeocodeOut:
    out_crs = parse_crs(crs)
    result = geocode(session, q, scope_path=principal.scope_path)
    data: dict[str, Any] = result.as_dict()
    data.pop("jurisdiction_path", None)
    if data["lon"] is not None:
        data["lon"], data["lat"] = point_from_wgs84(data["lon"], data["lat"], out_crs)
    return schemas.GeocodeOut.model_validate(data)


@router.get(
    "/taxonomy",
    tags=["places"],
    summary="Venue categories (data-declared)",
    response_model=Taxonomy,
)
def taxonomy(
    _principal: Annotated[Principal, Depends(require("places:read"))],
) -> Taxonomy:
    return load_taxonomy()
