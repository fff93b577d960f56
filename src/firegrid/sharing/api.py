"""HTTP route of the change feed: ``GET /api/v1/changes`` (scoped, cursor-paged)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.sharing.feed import MAX_LIMIT, read_feed

router = APIRouter()


class ChangeOut(BaseModel):
    """One shared change."""

    cursor: str = Field(description="Opaque cursor of this change (resume after it).")
    kind: str = Field(description="Feed kind: venue, hazard, inspection or incident.")
    event: str = Field(description="Change-stream kind, e.g. hazard.changed.")
    key: str = Field(description="Id of the changed row in its resource.")
    jurisdiction_path: str
    occurred_at: datetime
    actor: str
    cause: str
    payload: dict[str, Any]


class ChangePageOut(BaseModel):
    """A page of the feed, oldest first, and the cursor to ask for the next one."""

    items: list[ChangeOut]
    next_cursor: str = Field(description="Pass as since= to read on (the same when empty).")


@router.get("/changes", response_model=ChangePageOut, tags=["sharing"])
def list_changes(
    principal: Annotated[Principal, Depends(require("changes:read"))],
    session: SessionDep,
    since: Annotated[str | None, Query(max_length=24, description="A next_cursor.")] = None,
    kinds: Annotated[
        str | None, Query(max_length=200, description="venue,hazard,inspection,incident")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    """Changes of venues, hazards, inspections and incidents in the caller's jurisdiction
    after the cursor ``since``, oldest first."""
    page = read_feed(session, principal, since=since, kinds=kinds, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}
