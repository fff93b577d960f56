"""Link alerts in the monitoring centre: a peer link (the 110 link) that leaves messages
unacknowledged past its timeout, and its recovery, as entries of the alarm feed, so the
live channel carries them to the monitoring console.

The link's delivery worker announces each raise and clear on the change stream
(``link.alert``, written in the transaction that records the alert);
:data:`LINK_ALERTS`, a change consumer, turns each into a feed entry — ``link.alert`` or
``link.alert_cleared`` — in the jurisdiction of every town the peer serves (the whole city
for a peer serving ``*``). Delivery of changes is at least once: an entry names the change
it came from, and a change already in the feed is not written again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from firegrid.alarms import feed
from firegrid.alarms.models import FeedEntry
from firegrid.core.changes import Change, ChangeConsumer
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.links.delivery import ALERT_CHANGE

RAISED = "link.alert"
CLEARED = "link.alert_cleared"
#: how many recent link-alert feed entries are compared when deduplicating
DEDUPE_WINDOW = 500


def alert_paths(city_code: str, towns: Sequence[str]) -> list[str]:
    """The jurisdictions that see an alert of a peer serving ``towns``."""
    if not towns or "*" in towns:
        return [f"/{city_code}/"]
    return sorted({f"/{city_code}/{town}/" for town in towns})


def _already_written(database: Database, change_ids: set[int]) -> set[int]:
    with database.session() as session:
        rows = session.scalars(
            select(FeedEntry.payload)
            .where(FeedEntry.type.in_((RAISED, CLEARED)))
            .order_by(FeedEntry.id.desc())
            .limit(DEDUPE_WINDOW)
        ).all()
    return {int(p["change_id"]) for p in rows if p.get("change_id") in change_ids}


def _at(change: Change) -> datetime:
    text = change.payload.get("cleared_at") or change.payload.get("raised_at")
    return datetime.fromisoformat(text) if isinstance(text, str) else change.occurred_at


def feed_link_alerts(database: Database, settings: Any, changes: Sequence[Change]) -> None:
    """Write the feed entries of link alerts raised or cleared (each change once)."""
    alerts = [c for c in changes if c.kind == ALERT_CHANGE]
    if not alerts:
        return
    done = _already_written(database, {c.id for c in alerts})
    city_code = str(getattr(settings, "city_code", "441900"))
    with database.session() as session:
        for change in alerts:
            if change.id in done:
                continue
            payload = change.payload
            state = payload.get("state")
            type_ = RAISED if state == "raised" else CLEARED
            body = {
                "change_id": change.id,
                "link": payload.get("link"),
                "peer": payload.get("peer"),
                "peer_name": payload.get("peer_name"),
                "alert_id": payload.get("alert_id"),
                "kind": payload.get("kind"),
                "overdue": payload.get("overdue"),
                "ack_timeout_s": payload.get("ack_timeout_s"),
                "raised_at": payload.get("raised_at"),
                "cleared_at": payload.get("cleared_at"),
                "cause": change.cause,
                "actor": change.actor,
            }
            at = _at(change) if state in ("raised", "cleared") else utcnow()
            for path in alert_paths(city_code, list(payload.get("towns") or [])):
                feed.append(session, type_, path, body, at)
    feed.notify()


LINK_ALERTS = ChangeConsumer(
    name="alarms.link-alerts",
    kinds=frozenset({ALERT_CHANGE}),
    handle=feed_link_alerts,
    description="show the peer links' alerts (raised, cleared) in the monitoring centre's feed",
)
