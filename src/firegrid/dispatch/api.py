"""HTTP routes for fire-service resources."""

from __future__ import annotations

from fastapi import APIRouter

from firegrid.api.crud import Filter, Resource, mount
from firegrid.dispatch import resources, schemas
from firegrid.dispatch.models import Hydrant, LogisticsPoint, Station, Vehicle

router = APIRouter()

STATIONS = Resource(
    name="stations",
    model=Station,
    out_schema=schemas.StationOut,
    create_schema=schemas.StationIn,
    update_schema=schemas.StationPatch,
    read_permission="resources:read",
    write_permission="resources:write",
    prepare=resources.prepare_station,
    filters={
        "station_type": Filter("station_type"),
        "force_kind": Filter("force_kind"),
        "code": Filter("code"),
        "path_prefix": Filter("jurisdiction_path", "prefix"),
    },
    tag="resources",
)

VEHICLES = Resource(
    name="vehicles",
    model=Vehicle,
    out_schema=schemas.VehicleOut,
    create_schema=schemas.VehicleIn,
    update_schema=schemas.VehiclePatch,
    read_permission="resources:read",
    write_permission="resources:write",
    prepare=resources.prepare_vehicle,
    point=False,
    filters={
        "station_id": Filter("station_id", type=int),
        "vehicle_type": Filter("vehicle_type"),
        "status": Filter("status"),
        "code": Filter("code"),
    },
    tag="resources",
)

HYDRANTS = Resource(
    name="hydrants",
    model=Hydrant,
    out_schema=schemas.HydrantOut,
    create_schema=schemas.HydrantIn,
    update_schema=schemas.HydrantPatch,
    read_permission="resources:read",
    write_permission="resources:write",
    prepare=resources.prepare_hydrant,
    filters={
        "status": Filter("status"),
        "code": Filter("code"),
        "path_prefix": Filter("jurisdiction_path", "prefix"),
    },
    tag="resources",
)

LOGISTICS_POINTS = Resource(
    name="logistics-points",
    model=LogisticsPoint,
    out_schema=schemas.LogisticsPointOut,
    create_schema=schemas.LogisticsPointIn,
    update_schema=schemas.LogisticsPointPatch,
    read_permission="resources:read",
    write_permission="resources:write",
    prepare=resources.prepare_logistics_point,
    id_param="logistics_point_id",
    filters={"code": Filter("code")},
    tag="resources",
)

for resource in (STATIONS, VEHICLES, HYDRANTS, LOGISTICS_POINTS):
    mount(router, resource)
