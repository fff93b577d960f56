"""``planning_plans``: stored plans — what was asked, what the solver answered, and the
what-if simulation of it — so that planners can list and compare them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base


class PlanningPlan(Base):
    """One plan: ``kind`` stations / hydrants / logistics; ``result`` the full answer
    (sites, objective, bound, gap, coverage before/after); ``simulation`` the what-if."""

    __tablename__ = "planning_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    model: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120), default="")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    simulation: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: the scope of the planner who made it (plans are read within the reader's scope)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    simulated_at: Mapped[datetime | None] = mapped_column(default=None)
    simulated_by: Mapped[str] = mapped_column(String(120), default="")


class PlanningJob(Base):
    """One long planning run done in the background (a station plan, a simulation of a
    stored plan, a hydrant or a logistics plan): ``queued`` → ``running`` → ``done`` |
    ``failed``.

    A runner (any API process, :mod:`firegrid.planning.runner`) claims a job by a
    conditional update and holds it with a lease it renews; a job whose lease ran out (its
    process died) is queued again for another runner, at most ``MAX_ATTEMPTS`` times,
    then failed and ``retriable`` — never dropped silently."""

    __tablename__ = "planning_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stations | simulate | hydrants | logistics
    kind: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: the plan simulated (simulate) or the plan made (hydrants, logistics)
    plan_id: Mapped[int | None] = mapped_column(default=None)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    retriable: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    #: the runner holding the job while it runs (host:pid:random), and until when
    runner: Mapped[str] = mapped_column(String(120), default="", server_default="")
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    #: who submitted it (subject, username, role, scope): the runner acts for them
    actor: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: where a running job is (a code the console translates), e.g. ``matrix``
    stage: Mapped[str] = mapped_column(String(32), default="", server_default="")
