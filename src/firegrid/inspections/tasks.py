"""Inspection tasks (检查任务): a visit the fire service asks of a grid — e.g. a
fire-related report another department's grid worker made (入格事项) — open until done or
cancelled.

Every status change is recorded on the change stream as ``task.changed`` (time, actor,
cause, from → to) and in the audit log, in the caller's transaction; a task outside the
caller's jurisdiction is refused.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from firegrid.accounts.public import Principal, record_change
from firegrid.core.changes import record_change as record_domain_change
from firegrid.core.clock import utcnow
from firegrid.core.db import Base
from firegrid.core.errors import Conflict, ValidationFailed
from firegrid.core.models import Timestamped
from firegrid.core.texts import TextCode

#: the change-stream kind of a task created or changed
TASK_CHANGED = "task.changed"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class InspectionTask(Timestamped, Base):
    """A visit asked of a grid (and, when known, at a venue)."""

    __tablename__ = "inspection_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"), default=None)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="grid_report")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    source: Mapped[str] = mapped_column(String(64), default="")
    source_ref: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(12), default=TaskStatus.OPEN.value, index=True)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str] = mapped_column(String(200), default="")
    close_cause: Mapped[str] = mapped_column(String(300), default="")


def _actor(principal: Principal) -> str:
    return f"{principal.subject} ({principal.username})"[:120]


def task_dict(task: InspectionTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "venue_id": task.venue_id,
        "jurisdiction_path": task.jurisdiction_path,
        "kind": task.kind,
        "title": task.title,
        "description": task.description,
        "source": task.source,
        "source_ref": task.source_ref,
        "status": task.status,
        "due_at": task.due_at,
        "closed_at": task.closed_at,
        "closed_by": task.closed_by,
        "close_cause": task.close_cause,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }


def _announce(
    session: Session, principal: Principal, task: InspectionTask, from_status: str, cause: str
) -> None:
    record_domain_change(
        session,
        TASK_CHANGED,
        task.id,
        actor=_actor(principal),
        cause=cause,
        payload={"status": task.status, "from_status": from_status, "venue_id": task.venue_id},
        scope_path=task.jurisdiction_path,
    )


def open_task(
    session: Session,
    principal: Principal,
    *,
    jurisdiction_path: str,
    title: str,
    description: str = "",
    venue_id: int | None = None,
    kind: str = "grid_report",
    source: str = "",
    source_ref: str = "",
    due_at: datetime | None = None,
    cause: str = "",
) -> InspectionTask:
    """Open a task in ``jurisdiction_path`` (inside the caller's scope)."""
    if not principal.can_see_path(jurisdiction_path):
        raise ValidationFailed(
            "the task lies outside your jurisdiction",
            {"jurisdiction_path": jurisdiction_path},
            text=TextCode.ACCESS_OUTSIDE_SCOPE,
            params={"kind": "task", "id": None},
        )
    title = title.strip()
    if not 1 <= len(title) <= 200:
        raise ValidationFailed(
            "a task needs a title of 1..200 characters",
            {"field": "title"},
            text=TextCode.VALIDATION_LENGTH,
            params={"field": "title", "min": 1, "max": 200},
        )
    if due_at is not None and due_at.tzinfo is None:
        raise ValidationFailed(
            "due_at must carry a time zone",
            {"field": "due_at"},
            text=TextCode.VALIDATION_TIMEZONE_NAIVE,
            params={"field": "due_at"},
        )
    now = utcnow()
    task = InspectionTask(
        venue_id=venue_id,
        jurisdiction_path=jurisdiction_path,
        kind=kind[:32],
        title=title,
        description=description[:2000],
        source=source[:64],
        source_ref=source_ref[:128],
        status=TaskStatus.OPEN.value,
        due_at=due_at,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    cause = cause or "task opened"
    _announce(session, principal, task, "", cause)
    record_change(session, principal, "create", "task", task.id, None, task_dict(task), cause=cause)
    return task


def revise_task(
    session: Session,
    principal: Principal,
    task: InspectionTask,
    *,
    title: str | None = None,
    description: str | None = None,
    cause: str,
) -> InspectionTask:
    """Change an open task's title or description (recorded)."""
    before = task_dict(task)
    if title is not None and title.strip():
        task.title = title.strip()[:200]
    if description is not None:
        task.description = description[:2000]
    task.updated_at = utcnow()
    session.flush()
    _announce(session, principal, task, task.status, cause)
    record_change(
        session, principal, "update", "task", task.id, before, task_dict(task), cause=cause
    )
    return task


def close_task(
    session: Session, principal: Principal, task: InspectionTask, *, status: str, cause: str
) -> InspectionTask:
    """Mark an open task done or cancelled, with who and why."""
    if status not in (TaskStatus.DONE.value, TaskStatus.CANCELLED.value):
        raise ValidationFailed(
            "a task closes as done or cancelled",
            {"status": status},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "status", "value": status, "allowed": "done, cancelled"},
        )
    if task.status != TaskStatus.OPEN.value:
        raise Conflict(
            f"task {task.id} is already {task.status}",
            {"id": task.id},
            text=TextCode.INSPECTION_TASK_NOT_OPEN,
            params={"task_id": task.id, "status": task.status},
        )
    before = task_dict(task)
    now = utcnow()
    task.status = status
    task.closed_at = now
    task.closed_by = _actor(principal)
    task.close_cause = cause[:300]
    task.updated_at = now
    session.flush()
    _announce(session, principal, task, TaskStatus.OPEN.value, cause)
    record_change(session, principal, status, "task", task.id, before, task_dict(task), cause=cause)
    return task
