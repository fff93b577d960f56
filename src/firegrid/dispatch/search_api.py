"""``GET /api/v1/intake/places``: type-ahead search of venues, buildings and standard
addresses for call intake."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.core.texts import TextCode
from firegrid.dispatch.search import KINDS, IndexHolder
from firegrid.places.public import parse_crs, point_from_wgs84, point_to_wgs84

router = APIRouter(tags=["intake"])


class PlaceHitOut(BaseModel):
    kind: str = Field(description="venue, building or address")
    id: int
    name: str
    detail: str
    town: str
    lon: float
    lat: float
    venue_id: int | None
    match: str = Field(description="exact, prefix, substring or near")
    town_match: bool
    distance_m: float | None


class PlaceSearchOut(BaseModel):
    query: str
    town: str = Field(description="The town read from the start of the query, if any.")
    items: list[PlaceHitOut]


@router.get(
    "/intake/places",
    response_model=PlaceSearchOut,
    summary="Type-ahead: venues, buildings and standard addresses by name",
)
def search_places(
    request: Request,
    principal: Annotated[Principal, Depends(require("places:read"))],
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=60, description="What the caller said.")],
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    crs: Annotated[str, Query(pattern="^(wgs84|gcj02|bd09)$")] = "wgs84",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    kind: Annotated[list[str] | None, Query(description="venue, building, address")] = None,
) -> dict[str, Any]:
    """Ranked by the town named first, then exact, prefix, substring and near matches, then
    distance from ``lon``/``lat`` (the caller's location) when given."""
    from firegrid.core.errors import ValidationFailed

    chosen = frozenset(kind or KINDS)
    if not chosen <= set(KINDS):
        raise ValidationFailed(
            f"kind must be among {', '.join(KINDS)}",
            {"kind": kind},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "kind", "value": kind, "allowed": KINDS},
        )
    out_crs = parse_crs(crs)
    if lon is not None and lat is not None:
        lon, lat = point_to_wgs84(lon, lat, out_crs)
    holder = getattr(request.app.state, "place_search", None)
    if holder is None:
        holder = request.app.state.place_search = IndexHolder()
    index = holder.get(session)
    town, hits = index.search(
        q, lon=lon, lat=lat, limit=limit, kinds=chosen, scope_path=principal.scope_path
    )
    items = []
    for hit in hits:
        item = hit.as_dict()
        item["lon"], item["lat"] = point_from_wgs84(item["lon"], item["lat"], out_crs)
        items.append(item)
    return {"query": q, "town": town, "items": items}
