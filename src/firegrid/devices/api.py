"""HTTP routes of the device registry, and the devices' health (commissioning rule)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from firegrid.accounts.public import Principal
from firegrid.api.crud import Filter, Resource, mount
from firegrid.api.deps import SessionDep, require
from firegrid.devices import commissioning, schemas, service
from firegrid.devices.models import Device

router = APIRouter()

DEVICES = Resource(
    name="devices",
    model=Device,
    out_schema=schemas.DeviceOut,
    create_schema=schemas.DeviceIn,
    update_schema=schemas.DevicePatch,
    read_permission="devices:read",
    write_permission="devices:write",
    prepare=service.prepare_device,
    owner_venue_column="venue_id",
    point=False,
    filters={
        "kind": Filter("kind"),
        "protocol": Filter("protocol"),
        "venue_id": Filter("venue_id", type=int),
        "external_id": Filter("external_id"),
        "code": Filter("code"),
    },
    tag="devices",
)


class HealthCounts(BaseModel):
    registered: int
    online: int
    offline: int
    not_commissioned: int


class DeviceHealth(BaseModel):
    device_id: int
    code: str
    kind: str
    venue_id: int
    health: str
    commissioned: bool
    online: bool
    last_seen: str | None
    installed_at: str | None


class DeviceHealthPage(BaseModel):
    counts: HealthCounts
    items: list[DeviceHealth]
    next_after_id: int | None


Read = Annotated[Principal, Depends(require("devices:read"))]


@router.get(
    "/devices/health",
    tags=["devices"],
    response_model=DeviceHealthPage,
    summary="Devices online, offline and not commissioned (never reported) in your scope",
)
def devices_health(
    principal: Read,
    session: SessionDep,
    venue_id: int | None = None,
    health: Annotated[str | None, Query(pattern="^(online|offline|not_commissioned)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after_id: int | None = None,
) -> DeviceHealthPage:
    where = [principal.scope_filter(Device.jurisdiction_path)]
    if principal.role == "venue_manager":  # their own venues only, as the registry routes
        where.append(Device.venue_id.in_(principal.venue_ids))
    if venue_id is not None:
        where.append(Device.venue_id == venue_id)
    counts = commissioning.health_counts(session, *where)
    items = commissioning.device_health(
        session, *where, health=health, limit=limit, after_id=after_id
    )
    return DeviceHealthPage(
        counts=HealthCounts(**counts),
        items=[DeviceHealth(**i) for i in items],
        next_after_id=items[-1]["device_id"] if len(items) == limit else None,
    )


mount(router, DEVICES)
