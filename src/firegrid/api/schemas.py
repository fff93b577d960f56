"""Response shapes shared by every context: a page of rows, GeoJSON, a count, an ok.

A context's own shapes live in its ``schemas.py``; these are the wrappers around them, so
the OpenAPI document (and the console's generated types) say what each list holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, Field, PlainSerializer, WithJsonSchema

from firegrid.core.texts import ParamValue, TextCode

Item = TypeVar("Item")
Properties = TypeVar("Properties")


class Page(BaseModel, Generic[Item]):
    """One page of a keyset-paginated list."""

    items: list[Item]
    next_cursor: str | None = Field(description="Pass as ``cursor`` for the next page.")
    count: int = Field(description="Rows on this page.")


class Geometry(BaseModel):
    """A GeoJSON geometry (RFC 7946) in the request's CRS."""

    type: Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]
    coordinates: Any = Field(description="Nested arrays of [lon, lat] positions.")


class GeometryCollection(BaseModel):
    """A GeoJSON geometry collection."""

    type: Literal["GeometryCollection"]
    geometries: list[Geometry]


AnyGeometry = Annotated[Geometry | GeometryCollection, Field(discriminator="type")]


class Feature(BaseModel, Generic[Properties]):
    """A GeoJSON feature whose properties are one row."""

    type: Literal["Feature"]
    geometry: AnyGeometry | None
    properties: Properties


class FeatureCollection(BaseModel, Generic[Properties]):
    """A GeoJSON feature collection whose features' properties are rows."""

    type: Literal["FeatureCollection"]
    features: list[Feature[Properties]]


class FeaturePage(FeatureCollection[Properties], Generic[Properties]):
    """One page of a list as GeoJSON; ``next_cursor`` pages it like a list."""

    next_cursor: str | None = Field(description="Pass as ``cursor`` for the next page.")


def _isoformat(value: datetime) -> str:
    return value.isoformat()


#: A timezone-aware instant, written as ``datetime.isoformat()`` (``+00:00``, as before the
#: responses were typed) and documented as an RFC 3339 date-time.
Timestamp = Annotated[
    AwareDatetime,
    PlainSerializer(_isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Counted(BaseModel, Generic[Item]):
    """A whole (unpaged) list and its length."""

    items: list[Item]
    count: int


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine code, e.g. not_found, validation_failed.")
    message: str = Field(description="The English sentence (for API users and logs).")
    details: Any = None
    message_code: TextCode | None = Field(
        None, description="The sentence as a stable text code the console translates."
    )
    message_params: dict[str, ParamValue] = Field(
        default_factory=dict,
        description=(
            "The parameters of message_code. A `problem` (or `error`) parameter is a problem "
            "code (firegrid.core.problems.Problem) with its own parameters beside it; `field` "
            "and `fields` name fields as they are spelt; `detail` is a third-party message "
            "no code says, to show verbatim apart from the sentence."
        ),
    )


class ErrorEnvelope(BaseModel):
    """Every error the API answers: ``{"error": {"code", "message", "details",
    "message_code", "message_params"}}``."""

    error: ErrorBody


class ImportRowError(BaseModel):
    """One bad row of a refused import: where, why in English, and why as a text code."""

    line: int | None = Field(description="The row's line (None: the file as a whole).")
    column: str | None
    reason: str = Field(description="Why, in English (what the CLI prints).")
    code: TextCode | None = Field(
        None,
        description=(
            "Why, as a text code with `params` (this server always sets it; a problem of a "
            "column is `import.row_problem`: its `field` and a `problem` code)."
        ),
    )
    params: dict[str, ParamValue] = Field(default_factory=dict)


class ImportErrors(BaseModel):
    errors: list[ImportRowError]
    rows: int


class ImportFailedBody(ErrorBody):
    details: ImportErrors | None = None


class ImportFailedEnvelope(BaseModel):
    """A refused import (422 ``import_failed``): every bad row, nothing written."""

    error: ImportFailedBody


class EngineState(BaseModel):
    """The travel-time engine's warm-up."""

    state: Literal["idle", "unavailable", "warming", "loaded", "ready", "failed"]
    started_at: Timestamp | None
    seconds: float | None


class Health(BaseModel):
    status: Literal["ok", "warming"]
    version: str
    engine: EngineState


class Ready(BaseModel):
    status: Literal["ready"]
    schema_revision: str | None
    engine: EngineState


class DeliveryHealthOut(BaseModel):
    """How deliveries to one peer of a link fare (``firegrid.links.link_health``)."""

    backlog: int
    dead_letters: int
    oldest_pending_age_s: float | None
    last_ack_at: datetime | None
    sent: int
    acked: int
    retries: int
    failures: int
    last_failure_at: datetime | None
    last_error: str
    p99_round_trip_ms: float | None
    round_trip_samples: int


class PeerAlertOut(BaseModel):
    """A link's open acknowledgement-timeout alert for one peer."""

    kind: str
    raised_at: datetime
    cause: str


class PeerHealthOut(DeliveryHealthOut):
    """One peer of a link: who it is, its delivery figures and its open alert."""

    peer: str
    name: str
    url: str
    alert: PeerAlertOut | None
