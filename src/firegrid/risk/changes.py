"""Risk's reading of the change stream: a venue whose facts, hazards or inspections changed
is re-scored with the latest run, recorded with the change's actor and cause.

The consumer runs wherever the change consumers run (``firegrid serve``, ``firegrid changes
run``), so a venue changed through the API, the CLI, an import or another process is
re-scored. Before the first run there is nothing to re-score against (skipped), and a venue
deleted meanwhile is skipped too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from firegrid.core.changes import Change, ChangeConsumer
from firegrid.core.db import Database
from firegrid.core.errors import NotFound
from firegrid.places.public import VENUE_CHANGED


def rescore_changed_venues(database: Database, settings: Any, changes: Sequence[Change]) -> None:
    """Re-score each venue of the batch once, as its last change says (actor, cause)."""
    from firegrid.risk.service import rescore_venue

    latest: dict[int, Change] = {}
    for change in changes:
        venue_id = int(change.key)
        latest.pop(venue_id, None)
        latest[venue_id] = change
    for venue_id, change in latest.items():
        try:
            rescore_venue(database, settings, venue_id, actor=change.actor, cause=change.cause)
        except NotFound:
            continue


RESCORE_CHANGED_VENUES = ChangeConsumer(
    name="risk.rescore",
    kinds=frozenset({VENUE_CHANGED}),
    handle=rescore_changed_venues,
    description="re-score a changed venue with the latest risk run",
)
