"""HTTP routes of the 110 link. Thin: the rules live in :mod:`.inbound`, :mod:`.outbound`
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
from firegrid.dispatch.incidents import get_incident
from firegrid.interop import config as cfg
from firegrid.interop import schemas as s
from firegrid.interop.inbound import Inbound, message_id_of, receive_eido
from firegrid.interop.outbound import incident_link_status, transfer_to_110
from firegrid.interop.relay import incident_eido
from firegrid.links import signing
from firegrid.links.health import link_health
from firegrid.links.outbox import dead_letters, message_dict, retry_dead_letter
from firegrid.links.peers import LinkConfig, Peer, app_link_config

router = APIRouter(tags=["link110"])

Police = Annotated[Principal, Depends(require("incidents:110"))]
Read = Annotated[Principal, Depends(require("incidents:read"))]
DispatchP = Annotated[Principal, Depends(require("incidents:dispatch"))]
LinkRead = Annotated[Principal, Depends(require("links:read"))]
LinkAdmin = Annotated[Principal, Depends(require("links:admin"))]


def link_of(request: Request) -> LinkConfig:
    """The 110 link's configuration (read once per app)."""
    return app_link_config(request.app.state, "link110", cfg.link_config)


def _sending_peer(request: Request, config: LinkConfig, principal: Principal, body: bytes) -> Peer:
    """The peer a request comes from. A machine (API key), or any request that names a
    peer, must sign it with that peer's secret; a signed-in 110 user at the remote seat is
    the peer serving its jurisdiction."""
    settings: Settings = request.app.state.settings
    named = request.headers.get(signing.PEER_HEADER)
    if named is None and principal.auth_method != "apikey":
        peer = config.peer_for_path(principal.scope_path)
        if peer is None:
            raise ValidationFailed(
                "no 110 centre serves your jurisdiction",
                {},
                text=TextCode.INTEROP_NO_CENTRE,
                params={},
            )
        return peer
    return signing.verify_named_peer(
        config, request.headers, body, window_s=settings.link_replay_window_s
    )


@router.post(
    "/link110/eido",
    response_model=s.EidoReceipt,
    summary="An EIDO from a 110 centre: a transfer to 119 or a follow-up",
)
def receive(
    request: Request, body: RawBody, principal: Police, session: SessionDep
) -> dict[str, Any]:
    config = link_of(request)
    peer = _sending_peer(request, config, principal, body)
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
        peer=peer.id,
        message_id=message_id_of(document, request.headers.get(signing.MESSAGE_HEADER)),
        owner_agency_id=cfg.owner_agency(request.app.state.settings).id,
        scope_path=principal.scope_path,
    )
    result = receive_eido(session, principal, inbound, document)
    if not result.get("duplicate"):
        record_change(
            session,
            principal,
            "link110.receive",
            "incident",
            result.get("incident_id"),
            None,
            result,
        )
    return result


@router.get("/link110/status", response_model=s.LinkStatusOut, summary="Health of the 110 link")
def status(request: Request, principal: LinkRead, session: SessionDep) -> dict[str, Any]:
    return link_health(session, link_of(request))


@router.get(
    "/link110/dead-letters",
    response_model=s.DeadLetterList,
    summary="Messages the 110 centres refused",
)
def list_dead_letters(
    request: Request,
    principal: LinkAdmin,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    rows = [message_dict(r) for r in dead_letters(session, link_of(request).link, limit)]
    return {"items": rows, "count": len(rows)}


@router.post(
    "/link110/dead-letters/{outbox_id}/retry",
    response_model=s.DeadLetterOut,
    summary="Send a dead letter again (same idempotency key)",
)
def retry(
    outbox_id: int, request: Request, principal: LinkAdmin, session: SessionDep
) -> dict[str, Any]:
    row = retry_dead_letter(session, link_of(request).link, outbox_id)
    after = message_dict(row)
    record_change(
        session, principal, "link110.retry", "link_outbox", outbox_id, {"status": "dead"}, after
    )
    return after


@router.get(
    "/link110/incidents/{incident_id}",
    response_model=s.IncidentLinkOut,
    summary="The 110 status of an incident",
)
def incident_status(
    incident_id: int, request: Request, principal: Read, session: SessionDep
) -> dict[str, Any]:
    incident = get_incident(session, principal, incident_id)
    return incident_link_status(session, link_of(request), incident)


@router.post(
    "/link110/incidents/{incident_id}/transfer",
    response_model=s.IncidentLinkOut,
    summary="Transfer an incident to the district's 110 centre (both work it)",
)
def transfer(
    incident_id: int,
    body: s.TransferIn,
    request: Request,
    principal: DispatchP,
    session: SessionDep,
) -> dict[str, Any]:
    incident = get_incident(session, principal, incident_id)
    config = link_of(request)
    row = transfer_to_110(
        session, request.app.state.settings, config, principal, incident, body.reason
    )
    session.flush()
    record_change(
        session,
        principal,
        "link110.transfer",
        "incident",
        incident.id,
        None,
        {"peer": row.peer, "message_id": row.message_id, "reason": body.reason},
    )
    return incident_link_status(session, config, incident)


@router.get(
    "/incidents/{incident_id}/eido",
    response_model=s.EidoDocument,
    response_model_exclude_none=True,
    response_model_by_alias=True,
    summary="The incident as an EIDO document (NENA-STA-021.1)",
)
def incident_as_eido(
    incident_id: int, request: Request, principal: Read, session: SessionDep
) -> dict[str, Any]:
    incident = get_incident(session, principal, incident_id)
    config = link_of(request)
    return incident_eido(
        session,
        request.app.state.settings,
        incident,
        config.peer_for_path(incident.jurisdiction_path),
    )
