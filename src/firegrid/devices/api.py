"""HTTP routes of the device registry."""

from __future__ import annotations

from fastapi import APIRouter

from firegrid.api.crud import Filter, Resource, mount
from firegrid.devices import schemas, service
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

mount(router, DEVICES)
