"""HTTP routes of the grid link. Thin: the rules live in :mod:`.inbound`, :mod:`.relay`
and the link kernel (:mod:`firegrid.links`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from firegrid.accounts.public import Principal, record_change
from firegrid.api.deps import RawBody, SessionDep, require
from firegrid.core.errors import ValidationFailed
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.gridlink import config as cfg
from firegrid.gridlink import schemas as s
from firegrid.gridlink.inbound import Inbound, receive_event
from firegrid.links import signing
from firegrid.links.health import link_health
from firegrid.links.outbox import dead_letters, message_dict, retry_dead_letter
from firegrid.links.peers import LinkConfig, Peer, app_link_config

router = APIRouter(tags=["gridlink"])

GridPeer = Annotated[Principal, Depends(require("gridlink:events"))]
LinkRead = Annotated[Principal, Depends(require("links:read"))]
LinkAdmin = Annotated[Principal, Depends(require("links:admin"))]


def link_of(request: Request) -> LinkConfig:
    """The grid link's configuration (read once per app)."""
    return app_link_config(request.app.state, "gridlink", cfg.link_config)


def signing_peer(request: Request, config: LinkConfig, body: bytes) -> Peer:
    """The configured peer that signed this request (always required on this route)."""
    settings: Settings = request.app.state.settings
    return signing.verify_named_peer(
        config, request.headers, body, window_s=settings.link_replay_window_s
    )


@router.post(
    "/gridlink/events",
    response_model=s.EventReceipt,
    summary="A grid event (入格事项) from the city grid platform: a hazard or a fire report",
)
def receive(
    request: Request, body: RawBody, principal: GridPeer, session: SessionDep
) -> dict[str, Any]:
    config = link_of(request)
    peer = signing_peer(request, config, body)
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValidationFailed(
            f"the body is not JSON: {err}",
            {"field": "body"},
            text=TextCode.VALIDATION_JSON_INVALID,
            params={},
        ) from None
    inbound = Inbound(
        link=config.link,
        peer=peer,
        message_id=request.headers.get(signing.MESSAGE_HEADER, "").strip()[:128],
    )
    return receive_event(session, principal, inbound, document)


@router.get(
    "/gridlink/status", response_model=s.GridLinkStatusOut, summary="Health of the grid link"
)
def status(request: Request, principal: LinkRead, session: SessionDep) -> dict[str, Any]:
    return link_health(session, link_of(request))


@router.get(
    "/gridlink/dead-letters",
    response_model=s.GridMessageList,
    summary="Messages the grid platform refused (or that were given up on)",
)
def list_dead_letters(
    request: Request,
    principal: LinkAdmin,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    return {"items": [message_dict(r) for r in dead_letters(session, link_of(request).link, limit)]}


@router.post(
    "/gridlink/dead-letters/{outbox_id}/retry",
    response_model=s.GridMessageOut,
    summary="Send a dead letter to the grid platform again (same idempotency key)",
)
def retry(
    outbox_id: int, request: Request, principal: LinkAdmin, session: SessionDep
) -> dict[str, Any]:
    row = retry_dead_letter(session, link_of(request).link, outbox_id)
    after = message_dict(row)
    record_change(
        session, principal, "gridlink.retry", "link_outbox", outbox_id, {"status": "dead"}, after
    )
    return after
