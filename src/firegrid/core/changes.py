"""The change stream: the one way a context tells the others that its data changed.

A context records a change in the transaction that makes it (:func:`record_change`): a row of
``domain_changes`` with a monotonically increasing id, a ``kind`` (``venue.changed``), a
``key`` (the venue's id), a ``payload``, the time, the actor and the cause. A rollback
discards it with the change; a commit makes it durable with the change. Nothing is handed
over in process, so a change made by the API, the CLI, an import or any other process
reaches every consumer.

A consumer (:class:`ChangeConsumer`) reads the stream from its stored cursor
(``domain_change_cursors``) in batches, handles them, then moves its cursor past them
(:func:`consume_changes`): delivery is at least once, so a handler is idempotent. Any
process may run the consumers (:func:`run_consumers`, e.g. ``firegrid serve`` and
``firegrid changes run``); the cursor row is locked while a batch is handled, so two
processes do not handle the same batch on PostgreSQL.

Order: on PostgreSQL the insert takes a transaction-scoped advisory lock just before
commit, so ids become visible in id order (a reader that has seen id N never misses a
smaller id committed later); SQLite serialises writers by itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, event, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base, Database

log = logging.getLogger(__name__)

PENDING = "firegrid.changes.pending"
#: pg_advisory_xact_lock key of the domain_changes writers ("changes!")
LOCK_KEY = 0x6368616E67657321
BigId = BigInteger().with_variant(Integer(), "sqlite")


class DomainChange(Base):
    """One committed change of a context's data, for the other contexts."""

    __tablename__ = "domain_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(200))
    cause: Mapped[str] = mapped_column(String(500), default="")
    occurred_at: Mapped[datetime]
    # The jurisdiction path of the changed row ("/441900/441900003/"), "" when it has none:
    # the change feed shows a caller only the changes inside its scope.
    scope_path: Mapped[str] = mapped_column(String(255), default="", server_default="", index=True)


class ChangeCursor(Base):
    """How far a consumer has handled the stream (the last id it is done with)."""

    __tablename__ = "domain_change_cursors"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigId, default=0)
    updated_at: Mapped[datetime]


@dataclass(frozen=True)
class Change:
    """A change as a consumer sees it."""

    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    actor: str
    cause: str
    occurred_at: datetime
    scope_path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "key": self.key,
            "payload": self.payload,
            "actor": self.actor,
            "cause": self.cause,
            "occurred_at": self.occurred_at.isoformat(),
            "scope_path": self.scope_path,
        }


def record_change(
    session: Session,
    kind: str,
    key: str | int,
    *,
    actor: str,
    cause: str = "",
    payload: dict[str, Any] | None = None,
    scope_path: str = "",
) -> None:
    """Record that ``kind``/``key`` changed in this transaction (written at its commit).

    ``scope_path`` is the changed row's jurisdiction path (the change feed scopes by it)."""
    pending: list[dict[str, Any]] = session.info.setdefault(PENDING, [])
    pending.append(
        {
            "kind": kind,
            "key": str(key),
            "payload": payload or {},
            "actor": actor[:200],
            "cause": cause[:500],
            "occurred_at": utcnow(),
            "scope_path": scope_path[:255],
        }
    )


def write_pending(session: Session) -> int:
    """Insert the changes this transaction recorded; returns how many."""
    rows = session.info.pop(PENDING, None)
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    session.execute(insert(DomainChange.__table__), rows)  # type: ignore[arg-type]
    return len(rows)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(PENDING):
        write_pending(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def changes_after(
    session: Session, after: int, *, kinds: Collection[str] | None = None, limit: int = 500
) -> list[Change]:
    """Committed changes with an id above ``after``, oldest first (of ``kinds`` only)."""
    query = select(DomainChange).where(DomainChange.id > after)
    if kinds:
        query = query.where(DomainChange.kind.in_(sorted(kinds)))
    rows = session.scalars(query.order_by(DomainChange.id).limit(limit)).all()
    return [
        Change(
            r.id,
            r.kind,
            r.key,
            dict(r.payload or {}),
            r.actor,
            r.cause,
            r.occurred_at,
            r.scope_path or "",
        )
        for r in rows
    ]


def latest_change_id(session: Session) -> int:
    """The id of the newest committed change (0 when there is none)."""
    newest = session.scalars(select(DomainChange.id).order_by(DomainChange.id.desc())).first()
    return int(newest or 0)


#: ``handle(database, settings, changes)``: act on a batch (idempotently).
Handler = Callable[[Database, Any, Sequence[Change]], None]


@dataclass(frozen=True)
class ChangeConsumer:
    """A named reader of some kinds of change, with its own stored cursor."""

    name: str
    kinds: frozenset[str]
    handle: Handler
    description: str = ""


@dataclass
class ConsumeReport:
    consumer: str
    handled: int = 0
    position: int = 0
    failed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "handled": self.handled,
            "position": self.position,
            "failed": self.failed,
        }


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _local_lock(name: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.Lock())


def _ensure_cursor(database: Database, name: str) -> None:
    with database.session() as session:
        if session.get(ChangeCursor, name) is None:
            session.add(ChangeCursor(consumer=name, position=0, updated_at=utcnow()))


def _handle(
    consumer: ChangeConsumer, database: Database, settings: Any, found: list[Change]
) -> int:
    relevant = [c for c in found if c.kind in consumer.kinds]
    if relevant:
        consumer.handle(database, settings, relevant)
    return len(relevant)


def _consume_batch(
    database: Database, settings: Any, consumer: ChangeConsumer, batch: int
) -> tuple[int, int, int]:
    """One batch: (changes read, changes handled, cursor position)."""
    if database.is_sqlite:
        # SQLite has one writer: the handler writes in its own transactions, so the cursor
        # is read and moved in short ones around it (a second process may repeat a batch).
        with database.session() as session:
            cursor = session.get(ChangeCursor, consumer.name)
            start = cursor.position if cursor is not None else 0
            found = changes_after(session, start, limit=batch)
        handled = _handle(consumer, database, settings, found)
        with database.session() as session:
            cursor = session.get(ChangeCursor, consumer.name)
            if found and cursor is not None and cursor.position < found[-1].id:
                cursor.position, cursor.updated_at = found[-1].id, utcnow()
            return len(found), handled, cursor.position if cursor is not None else 0
    with database.session() as session:  # the cursor row stays locked while the batch runs
        cursor = session.scalars(
            select(ChangeCursor).where(ChangeCursor.consumer == consumer.name).with_for_update()
        ).one()
        found = changes_after(session, cursor.position, limit=batch)
        handled = _handle(consumer, database, settings, found)
        if found:
            cursor.position, cursor.updated_at = found[-1].id, utcnow()
        return len(found), handled, cursor.position


def consume_changes(
    database: Database, settings: Any, consumer: ChangeConsumer, *, batch: int = 500
) -> ConsumeReport:
    """Hand ``consumer`` every change after its cursor, a batch at a time, moving the cursor
    past each batch it handled. A failing batch is logged and retried by the next call (the
    cursor stays before it)."""
    report = ConsumeReport(consumer.name)
    with _local_lock(consumer.name):
        _ensure_cursor(database, consumer.name)
        while True:
            try:
                read, handled, report.position = _consume_batch(database, settings, consumer, batch)
            except Exception:
                log.exception("change consumer %s failed; the batch is retried", consumer.name)
                report.failed = True
                return report
            report.handled += handled
            if read < batch:
                return report


def run_consumers(
    database: Database,
    settings: Any,
    consumers: Sequence[ChangeConsumer],
    stop: threading.Event,
    *,
    interval_s: float = 1.0,
) -> None:
    """Consume the stream for every consumer every ``interval_s`` until ``stop`` is set
    (run it in a thread of a services process)."""
    while not stop.is_set():
        for consumer in consumers:
            try:
                consume_changes(database, settings, consumer)
            except Exception:  # the database may be away for a moment: retry next round
                log.exception("change consumer %s round failed", consumer.name)
        stop.wait(interval_s)
