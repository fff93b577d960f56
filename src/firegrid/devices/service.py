"""Rules of the device registry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from firegrid.core.errors import Conflict, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.core.writes import WriteContext
from firegrid.devices.models import Device
from firegrid.places.public import Venue
from firegrid.places.service import ensure_unique_code


def prepare_device(ctx: WriteContext, values: dict[str, Any], existing: Any) -> dict[str, Any]:
    """Bind the device to a visible venue; (protocol, external id) must be unique."""
    if existing is None:
        ensure_unique_code(ctx.session, Device, values["code"], "device")
        clash = ctx.session.scalars(
            select(Device.id).where(
                Device.protocol == values["protocol"], Device.external_id == values["external_id"]
            )
        ).first()
        if clash is not None:
            raise Conflict(
                f"a {values['protocol']} device with external id {values['external_id']!r} "
                "is already registered",
                {"external_id": values["external_id"]},
                text=TextCode.DEVICE_EXTERNAL_ID_TAKEN,
                params={"protocol": values["protocol"], "external_id": values["external_id"]},
            )
    code = values.pop("venue_code", None)
    if code is not None:
        venue = ctx.session.scalars(
            select(Venue).where(Venue.code == code, Venue.deleted_at.is_(None))
        ).first()
        if venue is None or not ctx.principal.can_see_path(venue.jurisdiction_path):
            raise ValidationFailed(
                f"unknown venue code {code!r}",
                {"venue_code": code},
                text=TextCode.PLACE_UNKNOWN_CODE,
                params={"what": "venue", "code": code},
            )
        values["venue_id"] = venue.id
        values["jurisdiction_path"] = venue.jurisdiction_path
    return {k: v for k, v in values.items() if v is not None}
