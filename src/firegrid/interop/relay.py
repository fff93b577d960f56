"""From dispatch's durable changes to the 110 outbox.

Dispatch writes a ``live_entries`` row in the transaction of every incident change (see
:mod:`firegrid.live.writer`). The relay reads them after its durable cursor and, in one
transaction, writes one outbox message per changed incident (the incident's EIDO as it is
now, so several changes read in one batch travel as one up-to-date document) and moves the
cursor. A crash before the commit leaves both unchanged; the batch is read again. No
in-process callback joins dispatch to the link.

The message goes to the 110 peer serving the incident's town, ordered by incident.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.public import Incident
from firegrid.interop import config as cfg
from firegrid.interop.eido import build_eido
from firegrid.interop.snapshot import IncidentSnapshot, incident_snapshot, incident_snapshots
from firegrid.links.cursor import advance_cursor, read_cursor
from firegrid.links.outbox import enqueue
from firegrid.links.peers import LinkConfig, Peer
from firegrid.live.models import LiveEntry

CURSOR = "link110.live_entries"
BATCH = 500


def order_key(incident_id: int) -> str:
    return f"incident:{incident_id}"


def incident_eido(
    session: Session,
    settings: Settings,
    incident: Incident,
    peer: Peer | None,
    *,
    transfer: bool = False,
    snap: IncidentSnapshot | None = None,
) -> dict[str, Any]:
    """The EIDO of ``incident`` as sent to ``peer`` (or as printed, without a peer)."""
    snap = snap or incident_snapshot(session, incident)
    partners = (cfg.peer_agency(peer, transfer=transfer),) if peer is not None else ()
    linked = tuple(
        c.external_ref for c in snap.calls if c.source == "transfer_110" and c.external_ref
    )
    return build_eido(
        snap,
        cfg.owner_agency(settings),
        partners,
        issuing=cfg.issuing_element(settings),
        linked_ids=linked,
    )


def relay_changes(db: Database, settings: Settings, config: LinkConfig, batch: int = BATCH) -> int:
    """Turn the next batch of incident changes into outbox messages; how many written."""
    written = 0
    with db.session() as session:
        position = read_cursor(session, CURSOR)
        rows = session.execute(
            select(LiveEntry.id, LiveEntry.type, LiveEntry.payload)
            .where(LiveEntry.id > position)
            .order_by(LiveEntry.id)
            .limit(batch)
        ).all()
        if not rows:
            return 0
        changed: dict[int, None] = {}
        for row in rows:
            if row.type.startswith("incident.") and isinstance(row.payload, dict):
                changed.setdefault(int(row.payload["incident_id"]), None)
        incidents = session.scalars(
            select(Incident).where(Incident.id.in_(list(changed))).order_by(Incident.id)
        ).all()
        routed = [(i, config.peer_for_path(i.jurisdiction_path)) for i in incidents]
        snaps = incident_snapshots(session, [i for i, peer in routed if peer is not None])
        for incident, peer in routed:
            if peer is None:
                continue
            enqueue(
                session,
                link=config.link,
                peer=peer.id,
                order_key=order_key(incident.id),
                kind="incident",
                body=incident_eido(session, settings, incident, peer, snap=snaps[incident.id]),
            )
            written += 1
        advance_cursor(session, CURSOR, rows[-1].id)
    return written
