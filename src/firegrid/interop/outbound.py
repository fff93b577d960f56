"""From 119 to 110 on a dispatcher's request: transfer an incident to the district's 110
centre (the police work it too), and the 110 status of an incident."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.core.errors import ValidationFailed
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.dispatch import timeline
from firegrid.dispatch.public import Incident
from firegrid.dispatch.timeline import Actor
from firegrid.interop.models import LinkedIncident
from firegrid.interop.relay import incident_eido, order_key
from firegrid.links.models import LinkOutbox
from firegrid.links.outbox import enqueue
from firegrid.links.peers import LinkConfig


def transfer_to_110(
    session: Session,
    settings: Settings,
    config: LinkConfig,
    actor: Actor,
    incident: Incident,
    reason: str,
) -> LinkOutbox:
    """Queue the transfer (an EIDO naming the 110 centre ``TransferredTo``) and record it on
    the incident's timeline, in the caller's transaction."""
    peer = config.peer_for_path(incident.jurisdiction_path)
    if peer is None:
        raise ValidationFailed(
            "no 110 centre serves this incident's town",
            {"incident_id": incident.id, "jurisdiction_path": incident.jurisdiction_path},
            text=TextCode.INTEROP_NO_CENTRE,
            params={},
        )
    timeline.write(
        session,
        timeline.record(
            incident, "transferred_to_110", utcnow(), actor, reason, details={"peer": peer.id}
        ),
    )
    session.flush()
    return enqueue(
        session,
        link=config.link,
        peer=peer.id,
        order_key=order_key(incident.id),
        kind="transfer",
        body=incident_eido(session, settings, incident, peer, transfer=True),
    )


def incident_link_status(
    session: Session, config: LinkConfig, incident: Incident
) -> dict[str, Any]:
    """What 110 has of this incident: the peer, messages acknowledged and waiting, the
    transfer (if any), and the 110 incidents linked to it."""
    peer = config.peer_for_path(incident.jurisdiction_path)
    key = order_key(incident.id)
    counts = dict(
        session.execute(
            select(LinkOutbox.status, func.count(LinkOutbox.id))
            .where(LinkOutbox.link == config.link, LinkOutbox.order_key == key)
            .group_by(LinkOutbox.status)
        ).all()
    )
    last_ack = session.scalar(
        select(func.max(LinkOutbox.acked_at)).where(
            LinkOutbox.link == config.link, LinkOutbox.order_key == key
        )
    )
    transfer = session.scalars(
        select(LinkOutbox)
        .where(
            LinkOutbox.link == config.link,
            LinkOutbox.order_key == key,
            LinkOutbox.kind == "transfer",
        )
        .order_by(LinkOutbox.id.desc())
    ).first()
    linked = session.scalars(
        select(LinkedIncident).where(LinkedIncident.incident_id == incident.id)
    ).all()
    return {
        "incident_id": incident.id,
        "peer": peer.id if peer else None,
        "peer_name": peer.name if peer else None,
        "acked": int(counts.get("acked", 0)),
        "pending": int(counts.get("pending", 0)),
        "dead": int(counts.get("dead", 0)),
        "last_ack_at": last_ack,
        "transfer": None
        if transfer is None
        else {
            "status": transfer.status,
            "requested_at": transfer.created_at,
            "acked_at": transfer.acked_at,
        },
        "linked": [
            {
                "peer": link.peer,
                "remote_id": link.remote_id,
                "direction": link.direction,
                "last_update_at": link.last_update_at,
                "updates_applied": link.updates_applied,
            }
            for link in linked
        ],
    }
