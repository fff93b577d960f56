"""HTTP routes of fire records: the resource (list, get, create, correct, delete), the
review moves and the coded lists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from firegrid.accounts.public import Principal
from firegrid.api.crud import Filter, Resource, get_visible, mount, to_out
from firegrid.api.deps import SessionDep, require
from firegrid.places.public import Crs
from firegrid.records import schemas, service
from firegrid.records.codes import CODED_FIELDS, load_codes
from firegrid.records.models import FireRecord

router = APIRouter()

FIRE_RECORDS = Resource(
    name="fire-records",
    model=FireRecord,
    out_schema=schemas.FireRecordOut,
    create_schema=schemas.FireRecordIn,
    update_schema=schemas.FireRecordPatch,
    read_permission="records:read",
    write_permission="records:write",
    prepare=service.prepare_fire_record,
    check_delete=service.check_delete,
    id_param="record_id",
    filters={
        "town_code": Filter("town_code"),
        "incident_type": Filter("incident_type"),
        "cause_code": Filter("cause_code"),
        "review_state": Filter("review_state"),
        "source": Filter("source"),
        "path_prefix": Filter("jurisdiction_path", "prefix"),
    },
    tag="records",
)


@router.get("/fire-records-codes", response_model=schemas.CodeListOut, tags=["records"])
def code_lists(
    principal: Annotated[Principal, Depends(require("records:read"))],
) -> dict[str, Any]:
    """The coded lists (cause, origin, heat source, …) with their Chinese and English names."""
    codes = load_codes()
    return {
        "lists": {
            name: {code: entry.model_dump() for code, entry in entries.items()}
            for name, entries in codes.lists.items()
        },
        "fields": CODED_FIELDS,
    }


@router.post(
    "/fire-records/{record_id}/review", response_model=schemas.FireRecordOut, tags=["records"]
)
def review_record(
    record_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: schemas.ReviewIn,
    principal: Annotated[Principal, Depends(require("records:review"))],
    session: SessionDep,
) -> dict[str, Any]:
    """Submit a record for review, return it to draft, or lock it (then it is immutable)."""
    row = get_visible(session, FIRE_RECORDS, principal, record_id)
    service.review(session, principal, row, body.action, body.note)
    return to_out(FIRE_RECORDS, row, Crs.WGS84)


mount(router, FIRE_RECORDS)
