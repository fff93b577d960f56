"""HTTP routes of the monitoring-centre policy: the version in force, its history, edits.

Reading needs ``alarms:read``; storing a new version needs ``alarms:policy`` (the
monitoring-centre supervisor) and a city-wide scope, because one policy applies to the
whole city. A refused document answers 422 with every problem by field in
``error.details.problems`` (``field``, ``code``, ``message``, ``params``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from firegrid.accounts.public import Principal
from firegrid.alarms import policy_store
from firegrid.alarms.rules import Policy, Rule
from firegrid.api.deps import SessionDep, require
from firegrid.core.errors import Forbidden
from firegrid.core.texts import TextCode

router = APIRouter(prefix="/alarms/policy", tags=["alarms"])

Reader = Annotated[Principal, Depends(require("alarms:read"))]
Editor = Annotated[Principal, Depends(require("alarms:policy"))]


class PolicyChangeOut(BaseModel):
    field: str = Field(description="Dotted path of what changed, e.g. policy.task_due_s.")
    before: Any = None
    after: Any = None


class PolicyVersionSummaryOut(BaseModel):
    version: int
    created_at: datetime
    created_by: str
    cause: str
    changes: list[PolicyChangeOut]


class PolicyDocumentOut(BaseModel):
    """The whole policy as stored: every field explicit (``PolicyDocument.as_data``)."""

    policy: Policy
    rules: list[Rule]


class PolicyVersionOut(PolicyVersionSummaryOut):
    document: PolicyDocumentOut = Field(description="The whole policy: {policy, rules}.")


class PolicyHistoryOut(BaseModel):
    items: list[PolicyVersionSummaryOut]
    count: int


class PolicyEditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any] = Field(description="The whole policy: {policy, rules}.")
    cause: str = Field(min_length=1, max_length=500, description="Why it changes.")
    base_version: int | None = Field(
        None,
        ge=1,
        le=2_147_483_647,
        description="The version edited; refused (409) if another was stored meanwhile.",
    )


def _city_wide(principal: Principal) -> None:
    if len([p for p in principal.scope_path.split("/") if p]) > 1:
        raise Forbidden(
            "the alarm policy applies to the whole city: only a city-level account may edit it",
            {"scope": principal.scope_code},
            text=TextCode.ACCESS_CITY_ONLY,
            params={"kind": "alarm_policy"},
        )


@router.get("", response_model=PolicyVersionOut, summary="The alarm policy in force")
def current_policy(principal: Reader, session: SessionDep) -> dict[str, Any]:
    return policy_store.current(session).as_dict()


@router.get(
    "/versions", response_model=PolicyHistoryOut, summary="Versions of the policy, newest first"
)
def policy_history(
    principal: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    items = [v.summary() for v in policy_store.history(session, limit=limit)]
    return {"items": items, "count": len(items)}


@router.get(
    "/versions/{version}", response_model=PolicyVersionOut, summary="One version of the policy"
)
def policy_version(
    principal: Reader,
    session: SessionDep,
    version: Annotated[int, Path(ge=1, le=2_147_483_647)],
) -> dict[str, Any]:
    return policy_store.get_version(session, version).as_dict()


@router.post(
    "/versions",
    status_code=201,
    response_model=PolicyVersionOut,
    summary="Store a new version (validated; takes effect in every process without restart)",
)
def edit_policy(principal: Editor, session: SessionDep, body: PolicyEditIn) -> dict[str, Any]:
    _city_wide(principal)
    stored = policy_store.save(
        session, principal, body.document, cause=body.cause, base_version=body.base_version
    )
    return stored.as_dict()
