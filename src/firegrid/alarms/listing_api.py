"""HTTP routes of the alarm list's tools: bulk acknowledgement of faults, CSV export.

Mounted before :mod:`firegrid.alarms.api` so ``/alarms/export`` is not read as an alarm id.
Both are scoped to the caller's jurisdiction: an alarm outside it is ``not_found`` in the
bulk result and absent from the export.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from firegrid.accounts.public import Principal
from firegrid.alarms import listing
from firegrid.alarms.lifecycle import alarm_dict
from firegrid.alarms.states import AlarmStatus
from firegrid.api.deps import SessionDep, require
from firegrid.core.clock import utcnow
from firegrid.core.errors import ValidationFailed
from firegrid.core.text import SafeLine
from firegrid.core.texts import TextCode

router = APIRouter(prefix="/alarms", tags=["alarms"])

Reader = Annotated[Principal, Depends(require("alarms:read"))]
Actor = Annotated[Principal, Depends(require("alarms:act"))]


class BulkAcknowledgeIn(BaseModel):
    alarm_ids: list[int] = Field(min_length=1, max_length=listing.MAX_BULK)


class BulkResultOut(BaseModel):
    alarm_id: int
    result: Literal["acknowledged", "not_found", "not_fault", "not_new"]
    status: AlarmStatus | None = Field(description="The alarm's status after the request.")


class BulkAcknowledgeOut(BaseModel):
    acknowledged: int
    results: list[BulkResultOut]


@router.post(
    "/bulk-acknowledge",
    response_model=BulkAcknowledgeOut,
    summary="Acknowledge many fault alarms; one result per alarm",
)
def bulk_acknowledge(
    principal: Actor, session: SessionDep, body: BulkAcknowledgeIn
) -> dict[str, Any]:
    results = listing.acknowledge_faults(session, principal, body.alarm_ids, utcnow())
    return {
        "acknowledged": sum(1 for r in results if r["result"] == "acknowledged"),
        "results": results,
    }


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(
            f"{name} needs a timezone (e.g. 2026-01-01T00:00:00+08:00)",
            {"field": name},
            text=TextCode.VALIDATION_TIMEZONE_NAIVE,
            params={"field": name},
        )
    return value


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The alarms of the list as CSV (formula-like cells quoted)",
)
def export_alarms(
    principal: Reader,
    session: SessionDep,
    kind: Annotated[str | None, Query(pattern="^(fire|supervisory|fault)$")] = None,
    status: Annotated[SafeLine | None, Query(max_length=20)] = None,
    open: bool = False,
    area: Annotated[
        SafeLine | None, Query(max_length=200, description="Jurisdiction path prefix.")
    ] = None,
    q: Annotated[
        SafeLine | None, Query(max_length=120, description="Part of the venue name.")
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> StreamingResponse:
    query = listing.export_query(
        principal,
        kind=kind,
        status=status,
        open_only=open,
        area=area,
        text=q,
        since=_aware("since", since),
        until=_aware("until", until),
    ).limit(limit)
    rows_ = [alarm_dict(a) for a in session.scalars(query).all()]  # before the session ends

    def rows() -> Iterator[str]:
        yield from listing.csv_rows(rows_)

    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="alarms-{stamp}.csv"'},
    )
