"""API shapes of the device registry."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

_KINDS = "^(transmitter|smoke_alarm|sprinkler_pressure|electrical_monitor)$"
_PROTOCOLS = "^(gb26875|mqtt|http)$"


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40)
    kind: str = Field(pattern=_KINDS)
    protocol: str = Field(pattern=_PROTOCOLS)
    external_id: str = Field(min_length=1, max_length=64)
    venue_code: str = Field(min_length=1, max_length=40)
    install_location: str = Field("", max_length=200)
    installed_at: AwareDatetime | None = Field(
        None, description="Install date: never heard from, offline after it plus the grace."
    )


class DevicePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str | None = Field(None, pattern=_KINDS)
    venue_code: str | None = Field(None, min_length=1, max_length=40)
    install_location: str | None = Field(None, max_length=200)
    installed_at: AwareDatetime | None = None


class DeviceOut(BaseModel):
    id: int
    code: str
    kind: str
    protocol: str
    external_id: str
    venue_id: int
    install_location: str
    jurisdiction_path: str
    installed_at: datetime | None = None
