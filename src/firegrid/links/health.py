"""Health figures of a link, per peer: backlog, last acknowledgement, retries, failures,
dead letters, p99 round trip, and the open alert."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.links.delivery import open_alert
from firegrid.links.models import LinkOutbox, LinkPeerStats
from firegrid.links.peers import LinkConfig

#: the round-trip percentile is taken over this many latest acknowledged messages
RECENT = 1000


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by nearest rank; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(int(-(-q * len(ordered) // 1)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def _recent_round_trips(session: Session, link: str, peer: str) -> list[float]:
    rows = session.scalars(
        select(LinkOutbox.round_trip_ms)
        .where(
            LinkOutbox.link == link,
            LinkOutbox.peer == peer,
            LinkOutbox.status == "acked",
            LinkOutbox.round_trip_ms.is_not(None),
        )
        .order_by(LinkOutbox.id.desc())
        .limit(RECENT)
    ).all()
    return [float(r) for r in rows if r is not None]


def peer_health(session: Session, config: LinkConfig, peer_id: str) -> dict[str, Any]:
    link = config.link
    counts = dict(
        session.execute(
            select(LinkOutbox.status, func.count(LinkOutbox.id))
            .where(LinkOutbox.link == link, LinkOutbox.peer == peer_id)
            .where(LinkOutbox.status.in_(("pending", "dead")))
            .group_by(LinkOutbox.status)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(LinkOutbox.created_at)).where(
            LinkOutbox.link == link, LinkOutbox.peer == peer_id, LinkOutbox.status == "pending"
        )
    )
    stats = session.get(LinkPeerStats, (link, peer_id))
    alert = open_alert(session, link, peer_id)
    round_trips = _recent_round_trips(session, link, peer_id)
    p99 = percentile(round_trips, 0.99)
    peer = config.peer(peer_id)
    return {
        "peer": peer_id,
        "name": peer.name if peer else peer_id,
        "url": peer.url if peer else "",
        "backlog": int(counts.get("pending", 0)),
        "dead_letters": int(counts.get("dead", 0)),
        "oldest_pending_age_s": round((utcnow() - oldest).total_seconds(), 3) if oldest else None,
        "last_ack_at": stats.last_ack_at if stats else None,
        "sent": stats.sent if stats else 0,
        "acked": stats.acked if stats else 0,
        "retries": stats.retries if stats else 0,
        "failures": stats.failures if stats else 0,
        "last_failure_at": stats.last_failure_at if stats else None,
        "last_error": stats.last_error if stats else "",
        "p99_round_trip_ms": round(p99, 2) if p99 is not None else None,
        "round_trip_samples": len(round_trips),
        "alert": None
        if alert is None
        else {"kind": alert.kind, "raised_at": alert.raised_at, "cause": alert.cause},
    }


def link_health(session: Session, config: LinkConfig) -> dict[str, Any]:
    """Figures of every configured peer (and of any peer still holding messages)."""
    known = [p.id for p in config.peers]
    others = session.scalars(
        select(LinkOutbox.peer)
        .where(LinkOutbox.link == config.link, LinkOutbox.peer.not_in(known))
        .distinct()
    ).all()
    peers = [peer_health(session, config, p) for p in [*known, *others]]
    return {"link": config.link, "at": utcnow(), "peers": peers}
