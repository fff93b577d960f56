"""Regular assessment (定期评估): the schedules of ``schedule.yaml`` run by the services process.

Each schedule has a row in ``risk_schedules`` with its stored ``next_run_at``. A pass
(:func:`run_due`) creates missing rows, turns recent bulk imports into a due run, claims every
due schedule with a conditional UPDATE (so two services processes never run it twice; a claim
expires after :data:`CLAIM_LEASE`), runs ONE assessment for it, and stores the outcome and the
next run time. Because the time is stored, a process that restarts after a missed time runs
the schedule at once: "on time after a restart" means no later than the first pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, or_, select, update

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import DomainError, ValidationFailed
from firegrid.core.problems import first_of, pydantic_problems
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.risk.area_models import RiskSchedule

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
CLAIM_LEASE = timedelta(hours=1)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Monthly(_Strict):
    kind: Literal["monthly"]
    day_of_month: int = Field(ge=1, le=28)
    at_utc: time
    model: str = "expert-ahp"


class AfterImport(_Strict):
    kind: Literal["after_import"]
    min_imported_rows: int = Field(ge=1)
    delay_s: float = Field(ge=0)
    model: str = "expert-ahp"


class ScheduleDoc(_Strict):
    version: int
    schedules: dict[str, Monthly | AfterImport]


def parse_schedule(data: Any) -> ScheduleDoc:
    try:
        return ScheduleDoc.model_validate(data)
    except ValidationError as exc:
        found = pydantic_problems(exc.errors())
        raise ValidationFailed(
            f"risk schedule is invalid at {found[0].field}: {found[0].message}",
            {"problems": [f.as_dict() for f in found]},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "risk_schedule", **first_of(found)},
        ) from exc


@lru_cache(maxsize=1)
def _packaged() -> ScheduleDoc:
    text = (files("firegrid.risk") / "schedule.yaml").read_text(encoding="utf-8")
    return parse_schedule(yaml.safe_load(text))


def load_schedule(path: str | Path | None = None) -> ScheduleDoc:
    """``path`` (``Settings.risk_schedule``), else the packaged ``schedule.yaml``."""
    if path is None:
        return _packaged()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationFailed(
            f"cannot read the risk schedule {str(path)!r}: {exc}",
            text=TextCode.FILE_UNREADABLE,
            params={"file": str(path)},
        ) from exc
    return parse_schedule(yaml.safe_load(text))


def next_monthly(spec: Monthly, after: datetime) -> datetime:
    """The first ``day_of_month`` at ``at_utc`` strictly after ``after`` (UTC)."""
    at = after.astimezone(UTC)
    year, month = at.year, at.month
    for _ in range(3):
        candidate = datetime.combine(date(year, month, spec.day_of_month), spec.at_utc, tzinfo=UTC)
        if candidate > after:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable: a month ahead always has the day")


def _import_mark(session: Any) -> int:
    """The highest audit id of an import (every importer audits each row it creates)."""
    from firegrid.accounts.models import AuditEntry

    top = session.scalar(select(func.max(AuditEntry.id)).where(AuditEntry.action == "import"))
    return int(top or 0)


def _imports_since(session: Any, seen: int) -> tuple[int, int]:
    from firegrid.accounts.models import AuditEntry

    count, top = session.execute(
        select(func.count(AuditEntry.id), func.max(AuditEntry.id)).where(
            AuditEntry.action == "import", AuditEntry.id > seen
        )
    ).one()
    return int(count or 0), int(top or seen)


@dataclass(frozen=True)
class PassResult:
    """What one pass did."""

    ran: list[dict[str, Any]]
    pending: dict[str, str | None]


def _ensure_rows(session: Any, doc: ScheduleDoc, now: datetime) -> None:
    existing = {r.name: r for r in session.scalars(select(RiskSchedule)).all()}
    for name, spec in doc.schedules.items():
        row = existing.get(name)
        if row is None:
            row = RiskSchedule(name=name, updated_at=now)
            if isinstance(spec, Monthly):
                row.next_run_at = next_monthly(spec, now)
            else:
                row.import_audit_seen = _import_mark(session)
            session.add(row)
        elif isinstance(spec, Monthly) and row.next_run_at is None:
            row.next_run_at = next_monthly(spec, now)


def _note_imports(session: Any, doc: ScheduleDoc, now: datetime) -> None:
    for name, spec in doc.schedules.items():
        if not isinstance(spec, AfterImport):
            continue
        row = session.get(RiskSchedule, name)
        if row is None:
            continue
        count, top = _imports_since(session, row.import_audit_seen)
        if count >= spec.min_imported_rows:
            row.import_audit_seen = top
            row.last_cause = f"{count} rows imported"
            if row.next_run_at is None:
                row.next_run_at = now + timedelta(seconds=spec.delay_s)
            row.updated_at = now


def _claim(database: Database, name: str, now: datetime, worker: str) -> datetime | None:
    """Claim a due schedule; its due time if this worker won it, else None."""
    with database.session() as session:
        due = session.scalar(select(RiskSchedule.next_run_at).where(RiskSchedule.name == name))
        if due is None or due > now:
            return None
        result = session.execute(
            update(RiskSchedule)
            .where(
                RiskSchedule.name == name,
                RiskSchedule.next_run_at == due,
                or_(RiskSchedule.claimed_until.is_(None), RiskSchedule.claimed_until < now),
            )
            .values(claimed_by=worker, claimed_until=now + CLAIM_LEASE, updated_at=now)
        )
    return due if int(getattr(result, "rowcount", 0)) == 1 else None


def _finish(
    database: Database,
    name: str,
    spec: Monthly | AfterImport,
    now: datetime,
    run_id: int | None,
    error: str,
) -> None:
    with database.session() as session:
        row = session.get(RiskSchedule, name)
        if row is None:  # removed meanwhile: nothing to record against
            return
        row.last_run_at = now
        row.last_run_id = run_id
        row.last_status = "failed" if error else "done"
        row.last_error = error[:2000]
        row.next_run_at = next_monthly(spec, now) if isinstance(spec, Monthly) else None
        row.claimed_by = ""
        row.claimed_until = None
        row.updated_at = now


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def run_due(
    database: Database,
    settings: Settings,
    *,
    clock: Clock = utcnow,
    doc: ScheduleDoc | None = None,
    worker: str | None = None,
    assess: Callable[..., dict[str, Any]] | None = None,
) -> PassResult:
    """One pass: create rows, note imports, run every due schedule once."""
    from firegrid.risk import service

    doc = doc or load_schedule(settings.risk_schedule)
    assess = assess or service.assess
    worker = worker or worker_name()
    now = clock()
    with database.session() as session:
        _ensure_rows(session, doc, now)
        _note_imports(session, doc, now)
    ran: list[dict[str, Any]] = []
    for name, spec in doc.schedules.items():
        due = _claim(database, name, now, worker)
        if due is None:
            continue
        late_s = (now - due).total_seconds()
        run_id: int | None = None
        error = ""
        try:
            summary = assess(
                database,
                settings,
                spec.model,
                actor=f"schedule:{name}",
                report_dir=service.report_dir_for(settings, f"schedule-{name}"),
            )
            run_id = int(summary["run_id"])
        except DomainError as exc:
            error = f"{exc.code}: {exc.message}"
        except Exception as exc:
            log.exception("risk schedule %s failed", name)
            error = f"{type(exc).__name__}: {exc}"
        _finish(database, name, spec, clock(), run_id, error)
        ran.append(
            {
                "schedule": name,
                "due_at": due.isoformat(),
                "late_s": late_s,
                "run_id": run_id,
                "error": error or None,
            }
        )
    return PassResult(ran, schedule_status(database, doc)["next"])


def schedule_status(database: Database, doc: ScheduleDoc | None = None) -> dict[str, Any]:
    """Every schedule's stored state (JSON-ready)."""
    doc = doc or load_schedule()
    with database.session() as session:
        rows = {r.name: r for r in session.scalars(select(RiskSchedule)).all()}
    items = []
    for name, spec in doc.schedules.items():
        r = rows.get(name)
        items.append(
            {
                "name": name,
                "kind": spec.kind,
                "model": spec.model,
                "next_run_at": r.next_run_at.isoformat() if r and r.next_run_at else None,
                "last_run_at": r.last_run_at.isoformat() if r and r.last_run_at else None,
                "last_run_id": r.last_run_id if r else None,
                "last_status": (r.last_status or None) if r else None,
                "last_error": (r.last_error or None) if r else None,
                "last_cause": (r.last_cause or None) if r else None,
            }
        )
    return {"schedules": items, "next": {i["name"]: i["next_run_at"] for i in items}}


async def run_risk_schedule(
    database: Database,
    settings: Settings,
    stop_event: asyncio.Event,
    *,
    clock: Clock = utcnow,
    interval_s: float = 60.0,
) -> None:
    """Run :func:`run_due` every ``interval_s`` until ``stop_event`` (the services loop)."""
    while not stop_event.is_set():
        try:
            await asyncio.to_thread(run_due, database, settings, clock=clock)
        except Exception:
            log.exception("risk schedule: pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), timeout=interval_s)
