"""HTTP routes of the webhooks: register, list, show (with delivery health), remove, dead
letters and their retry. Admins only, each within its own scope. Thin: the rules live in
:mod:`firegrid.sharing.webhooks` and the link kernel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, Field

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.api.schemas import DeliveryHealthOut
from firegrid.links.health import peer_health
from firegrid.links.outbox import message_dict
from firegrid.sharing import webhooks as wh

router = APIRouter(tags=["sharing"])
Admin = Annotated[Principal, Depends(require("webhooks:admin"))]


class WebhookIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    url: str = Field(min_length=1, max_length=500, description="http(s) URL to POST to.")
    kinds: list[str] = Field(
        default_factory=list,
        max_length=4,
        description="Feed kinds followed: venue, hazard, inspection, incident (empty: all).",
    )


class WebhookRemoveIn(BaseModel):
    cause: str = Field("", max_length=300)


class WebhookOut(BaseModel):
    id: int
    name: str
    url: str
    kinds: list[str]
    scope_path: str
    scope_code: str
    status: str
    start_after: str = Field(description="Changes after this cursor are delivered.")
    created_at: datetime
    created_by: str
    removed_at: datetime | None
    removed_by: str
    removed_cause: str


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="The HMAC secret: shown this once, never again.")


class WebhookDetailOut(WebhookOut):
    health: DeliveryHealthOut


class WebhookList(BaseModel):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: int
    peer: str
    order_key: str
    message_id: str
    kind: str
    status: str
    attempts: int
    created_at: datetime
    acked_at: datetime | None
    last_error: str


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


def _health(session: SessionDep, request: Request, row: Any) -> dict[str, Any]:
    config = wh.webhook_config(request.app.state.settings, [row])
    return peer_health(session, config, wh.peer_id(row.id))


@router.post(
    "/webhooks",
    response_model=WebhookCreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook subscription in your jurisdiction (the secret is shown once)",
)
def create_webhook(
    body: WebhookIn, request: Request, principal: Admin, session: SessionDep
) -> dict[str, Any]:
    row, secret = wh.create_subscription(
        session,
        principal,
        request.app.state.settings,
        name=body.name,
        url=body.url,
        kinds=body.kinds,
    )
    return {**wh.subscription_dict(row), "secret": secret}


@router.get("/webhooks", response_model=WebhookList, summary="Webhook subscriptions in scope")
def list_webhooks(
    principal: Admin,
    session: SessionDep,
    include_removed: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    rows = wh.scoped_subscriptions(session, principal, include_removed=include_removed)
    return {"items": [wh.subscription_dict(r) for r in rows]}


@router.get(
    "/webhooks/{subscription_id}",
    response_model=WebhookDetailOut,
    summary="A webhook subscription and the health of its deliveries",
)
def show_webhook(
    subscription_id: int, request: Request, principal: Admin, session: SessionDep
) -> dict[str, Any]:
    row = wh.get_subscription(session, principal, subscription_id)
    return {**wh.subscription_dict(row), "health": _health(session, request, row)}


@router.post(
    "/webhooks/{subscription_id}/remove",
    response_model=WebhookOut,
    summary="Stop a webhook subscription (its waiting deliveries become dead letters)",
)
def remove_webhook(
    subscription_id: int, body: WebhookRemoveIn, principal: Admin, session: SessionDep
) -> dict[str, Any]:
    row = wh.get_subscription(session, principal, subscription_id)
    return wh.subscription_dict(wh.remove_subscription(session, principal, row, body.cause))


@router.get(
    "/webhooks/{subscription_id}/dead-letters",
    response_model=DeliveryList,
    summary="Deliveries given up on (refused, or failed too many times)",
)
def webhook_dead_letters(
    subscription_id: int,
    principal: Admin,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    row = wh.get_subscription(session, principal, subscription_id)
    return {"items": [message_dict(m) for m in wh.dead_deliveries(session, row.id, limit)]}


@router.post(
    "/webhooks/{subscription_id}/dead-letters/{delivery}/retry",
    response_model=DeliveryOut,
    summary="Send a dead delivery again (same delivery id)",
)
def retry_webhook_delivery(
    subscription_id: int, delivery: int, principal: Admin, session: SessionDep
) -> dict[str, Any]:
    row = wh.get_subscription(session, principal, subscription_id)
    return message_dict(wh.retry_delivery(session, principal, row, delivery))
