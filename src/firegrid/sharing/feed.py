"""The change feed: the shared kinds of change, read after an opaque cursor, in scope.

The cursor is the id of the last change a reader has seen, written as text: ids only grow
and live in ``domain_changes``, so a cursor stays valid across restarts and processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.core.changes import Change, DomainChange
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode

#: feed name -> the change-stream kind the owning context records
FEED_KINDS: dict[str, str] = {
    "venue": "venue.changed",
    "hazard": "hazard.changed",
    "inspection": "inspection.recorded",
    "incident": "incident.changed",
}
MAX_LIMIT = 1000
CURSOR_MAX = 2**63 - 1


def parse_cursor(since: str | None) -> int:
    """The change id a cursor stands for (0: from the start)."""
    if since is None or since == "":
        return 0
    if not since.isdigit() or int(since) > CURSOR_MAX:
        raise ValidationFailed(
            "since must be a cursor returned by the feed (next_cursor)",
            {"since": since[:40]},
            text=TextCode.VALIDATION_BAD_CURSOR,
            params={"field": "since"},
        )
    return int(since)


def parse_kinds(kinds: str | None) -> list[str]:
    """The stream kinds for a comma-separated list of feed kinds (all when none is given)."""
    if not kinds:
        return sorted(FEED_KINDS.values())
    names = [part.strip() for part in kinds.split(",") if part.strip()]
    unknown = sorted({name for name in names if name not in FEED_KINDS})
    if unknown or not names:
        raise ValidationFailed(
            f"unknown kind(s) {', '.join(unknown) or '(empty)'}; the feed has "
            + ", ".join(FEED_KINDS),
            {"kinds": unknown, "allowed": list(FEED_KINDS)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "kinds", "value": unknown, "allowed": FEED_KINDS},
        )
    return sorted({FEED_KINDS[name] for name in names})


@dataclass(frozen=True)
class FeedPage:
    items: list[dict[str, Any]]
    next_cursor: str


def feed_kind(stream_kind: str) -> str | None:
    """The feed name of a change-stream kind (``None`` for a kind the feed does not share)."""
    return next((name for name, kind in FEED_KINDS.items() if kind == stream_kind), None)


def feed_item(row: DomainChange | Change) -> dict[str, Any]:
    """A change as the feed (and a webhook delivery) shows it; ``cursor`` resumes after it."""
    return {
        "cursor": str(row.id),
        "kind": feed_kind(row.kind),
        "event": row.kind,
        "key": row.key,
        "jurisdiction_path": row.scope_path or "",
        "occurred_at": row.occurred_at,
        "actor": row.actor,
        "cause": row.cause,
        "payload": dict(row.payload or {}),
    }


def read_feed(
    session: Session,
    principal: Principal,
    *,
    since: str | None,
    kinds: str | None,
    limit: int,
) -> FeedPage:
    """The next ``limit`` changes after ``since`` that ``principal`` may see, oldest first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must lie in 1..{MAX_LIMIT}",
            {"limit": limit},
            text=TextCode.VALIDATION_RANGE,
            params={"field": "limit", "min": 1, "max": MAX_LIMIT},
        )
    after = parse_cursor(since)
    wanted: Sequence[str] = parse_kinds(kinds)
    rows = session.scalars(
        select(DomainChange)
        .where(
            DomainChange.id > after,
            DomainChange.kind.in_(wanted),
            principal.scope_filter(DomainChange.scope_path),
        )
        .order_by(DomainChange.id)
        .limit(limit)
    ).all()
    items = [feed_item(row) for row in rows]
    return FeedPage(items, str(rows[-1].id) if rows else str(after))
