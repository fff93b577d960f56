"""Tables of the monitoring centre (alarms context).

The context keeps its own copies of what it needs from other contexts (venue id, position,
jurisdiction path, category) on its rows instead of foreign keys into their tables:
contexts talk through services and events, not through each other's tables.

- ``alarms``: one row per folded alarm (a venue's fire alarm, a device's fault).
- ``alarm_events``: the event history of an alarm, one row per (device, component, kind)
  with a count, so a repeated fault is counted, not repeated.
- ``alarm_transitions``: every state change with time, actor and cause.
- ``alarm_timers``: escalation, auto-forward and reminder timers (survive restarts).
- ``alarm_verifications``: every verification outcome (call, on-site check, operator, rule,
  timer); the first decisive one wins.
- ``verification_tasks``: on-site checks asked of the grid worker of the venue's grid.
- ``alarm_forwards``: outbox of confirmed fires for the dispatch context.
- ``work_orders``: faults, offline devices and low batteries turned into work.
- ``alarm_rules`` / ``maintenance_windows``: correlation rules and test/maintenance windows.
- ``alarm_policy_versions``: the monitoring-centre policy (timers, rules, forwarding map),
  one validated document per version with author, time and cause; the newest is in force.
- ``alarm_feed``: the persisted live feed (monotonic id = SSE event id).
- ``alarm_notifications``: every notification and escalation sent.
- ``alarm_consumer_state``: the correlator's offsets in the event log (``alarms``, and
  ``alarms:priority`` for its priority lane), committed atomically with the alarm changes
  they cover.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Alarm(Base):
    """A folded alarm: all events of one venue (fire) or one device (fault) in a window."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index("ix_alarms_fold_key_status", "fold_key", "status"),
        Index("ix_alarms_status_path", "status", "jurisdiction_path"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # fire | supervisory | fault
    status: Mapped[str] = mapped_column(String(16))
    fold_key: Mapped[str] = mapped_column(String(80))
    venue_id: Mapped[int | None] = mapped_column(Integer, index=True)
    device_id: Mapped[int | None] = mapped_column(Integer, index=True)
    external_id: Mapped[str] = mapped_column(String(64), default="")
    device_kind: Mapped[str] = mapped_column(String(32), default="")
    venue_name: Mapped[str] = mapped_column(String(200), default="")
    venue_category: Mapped[str] = mapped_column(String(40), default="")
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    lon: Mapped[float | None] = mapped_column(default=None)
    lat: Mapped[float | None] = mapped_column(default=None)
    priority: Mapped[int] = mapped_column(default=0)
    first_event_kind: Mapped[str] = mapped_column(String(24), default="")
    opened_at: Mapped[datetime] = mapped_column(index=True)
    first_received_at: Mapped[datetime]
    last_event_at: Mapped[datetime]
    event_count: Mapped[int] = mapped_column(default=0)
    component_count: Mapped[int] = mapped_column(default=0)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    verifying_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str] = mapped_column(String(80), default="")
    false_reason: Mapped[str] = mapped_column(String(16), default="")
    forwarded_at: Mapped[datetime | None] = mapped_column(default=None)
    forward_probable: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    cleared_at: Mapped[datetime | None] = mapped_column(default=None)
    escalation_level: Mapped[str] = mapped_column(String(16), default="")
    suppressed: Mapped[bool] = mapped_column(default=False)
    rule_hits: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlarmEvent(Base):
    """One line of an alarm's history: a (device, component, kind) and how often it came."""

    __tablename__ = "alarm_events"
    __table_args__ = (
        UniqueConstraint("alarm_id", "source_key", name="uq_alarm_events_alarm_source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(BigInteger, index=True)
    source_key: Mapped[str] = mapped_column(String(160))
    first_event_id: Mapped[str] = mapped_column(String(80))
    last_event_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(24))
    device_id: Mapped[int | None] = mapped_column(Integer)
    device_kind: Mapped[str] = mapped_column(String(32), default="")
    component: Mapped[str] = mapped_column(String(80), default="")
    zone: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(String(200), default="")
    count: Mapped[int] = mapped_column(default=1)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    received_at: Mapped[datetime]
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AlarmTransition(Base):
    """A state change of an alarm: from, to, when, who and why."""

    __tablename__ = "alarm_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(BigInteger, index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    cause: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(16), default="")


class AlarmTimer(Base):
    """A timer stored with its due time; a loop claims due ones with compare-and-set."""

    __tablename__ = "alarm_timers"
    __table_args__ = (Index("ix_alarm_timers_pending", "fired_at", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24))  # ack_escalation | auto_forward | reminder
    alarm_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    work_order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None] = mapped_column(default=None)
    fired_by: Mapped[str] = mapped_column(String(80), default="")
    outcome: Mapped[str] = mapped_column(String(120), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AlarmVerification(Base):
    """A verification outcome. ``decisive`` marks the one that decided the alarm."""

    __tablename__ = "alarm_verifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(BigInteger, index=True)
    method: Mapped[str] = mapped_column(String(16))  # call | onsite | operator | rule | timer
    outcome: Mapped[str] = mapped_column(String(16))  # fire | false_alarm | fault | no_answer
    reason: Mapped[str] = mapped_column(String(16), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]
    decisive: Mapped[bool] = mapped_column(default=False)
    task_id: Mapped[int | None] = mapped_column(BigInteger, default=None)


class VerificationTask(Base):
    """An on-site check asked of the grid worker of the venue's grid."""

    __tablename__ = "verification_tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(BigInteger, index=True)
    venue_id: Mapped[int | None] = mapped_column(Integer)
    grid_worker_id: Mapped[int | None] = mapped_column(Integer, index=True)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done | cancelled
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(80))
    due_at: Mapped[datetime]
    result: Mapped[str] = mapped_column(String(16), default="")
    reason: Mapped[str] = mapped_column(String(16), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    photo_path: Mapped[str] = mapped_column(String(300), default="")
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    submitted_by: Mapped[str] = mapped_column(String(80), default="")


class AlarmForward(Base):
    """Outbox of confirmed fires for the dispatch context (consumed by its service)."""

    __tablename__ = "alarm_forwards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    venue_id: Mapped[int | None] = mapped_column(Integer)
    lon: Mapped[float | None] = mapped_column(default=None)
    lat: Mapped[float | None] = mapped_column(default=None)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    incident_kind: Mapped[str] = mapped_column(String(32))
    venue_category: Mapped[str] = mapped_column(String(40), default="")
    probable: Mapped[bool] = mapped_column(default=False)
    forwarded_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, default=None)


class WorkOrder(Base):
    """Work for a fault, an offline device or a low battery, with a due date and evidence."""

    __tablename__ = "work_orders"
    __table_args__ = (Index("ix_work_orders_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # fault | offline | low_battery
    alarm_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    venue_id: Mapped[int | None] = mapped_column(Integer, index=True)
    device_id: Mapped[int | None] = mapped_column(Integer, index=True)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    assignee_kind: Mapped[str] = mapped_column(String(16))  # venue_manager | grid_worker
    assignee_id: Mapped[int | None] = mapped_column(Integer, default=None)
    assignee_name: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done
    title: Mapped[str] = mapped_column(String(200), default="")
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime]
    reminders_sent: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str] = mapped_column(String(80), default="")
    closure_note: Mapped[str] = mapped_column(Text, default="")
    closure_photo: Mapped[str] = mapped_column(String(300), default="")


class AlarmRuleRow(Base):
    """A correlation rule stored in the database (validated on write and on load)."""

    __tablename__ = "alarm_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")


class AlarmPolicyVersion(Base):
    """One version of the policy document; versions are only ever added."""

    __tablename__ = "alarm_policy_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(80))
    cause: Mapped[str] = mapped_column(Text, default="")


class MaintenanceWindow(Base):
    """A known test or maintenance window of a venue (or one device of it)."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int | None] = mapped_column(Integer, index=True)
    device_id: Mapped[int | None] = mapped_column(Integer, index=True)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(16))  # test | maintenance
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedEntry(Base):
    """One entry of the live feed; ``id`` is the SSE event id (monotonic)."""

    __tablename__ = "alarm_feed"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(32))
    alarm_id: Mapped[int | None] = mapped_column(BigInteger)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class AlarmNotification(Base):
    """A notification sent (or escalation recorded) to a level, channel and recipient."""

    __tablename__ = "alarm_notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    work_order_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(24))  # escalation | reminder | forwarded | ...
    level: Mapped[str] = mapped_column(String(16), default="")
    target_path: Mapped[str] = mapped_column(String(120), default="")
    channel: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ConsumerState(Base):
    """The correlator's position in the event log, committed with the changes it caused."""

    __tablename__ = "alarm_consumer_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]
