"""Regular assessment: the stored next run time survives a restart; imports trigger a run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select, update

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.risk.area_models import RiskAreaGrade, RiskSchedule
from firegrid.risk.models import RiskRun
from firegrid.risk.scheduler import next_monthly, parse_schedule, run_due, schedule_status

MONTHLY_ONLY = parse_schedule(
    yaml.safe_load(
        """
version: 1
schedules:
  monthly: {kind: monthly, day_of_month: 1, at_utc: "18:00", model: expert-ahp}
"""
    )
)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_next_monthly() -> None:
    spec = MONTHLY_ONLY.schedules["monthly"]
    assert next_monthly(spec, datetime(2026, 3, 15, tzinfo=UTC)) == datetime(  # type: ignore[arg-type]
        2026, 4, 1, 18, tzinfo=UTC
    )
    assert next_monthly(spec, datetime(2026, 12, 1, 18, tzinfo=UTC)) == datetime(  # type: ignore[arg-type]
        2027, 1, 1, 18, tzinfo=UTC
    )


@pytest.mark.postgres
def test_a_missed_run_happens_at_the_first_pass_after_a_restart(
    db: Database, settings: Settings
) -> None:
    from tests.risk.test_runs import build_city

    build_city(db, settings)
    clock = Clock(datetime(2026, 3, 15, 10, tzinfo=UTC))
    first = run_due(db, settings, clock=clock, doc=MONTHLY_ONLY, worker="before-restart")
    assert first.ran == []
    assert first.pending["monthly"] == "2026-04-01T18:00:00+00:00"
    # the services process was down on 1 April; it starts again on 3 April
    clock.at = datetime(2026, 4, 3, 9, tzinfo=UTC)
    after = run_due(db, settings, clock=clock, doc=MONTHLY_ONLY, worker="after-restart")
    assert len(after.ran) == 1
    ran = after.ran[0]
    assert ran["schedule"] == "monthly"
    assert ran["due_at"] == "2026-04-01T18:00:00+00:00"
    assert ran["late_s"] == pytest.approx(39 * 3600.0)
    assert ran["error"] is None
    with db.session() as session:
        run = session.get(RiskRun, ran["run_id"])
        assert run is not None
        assert run.actor == "schedule:monthly"
        assert run.status == "done"
        # its area grades are stored for trends
        assert session.scalars(
            select(RiskAreaGrade.level).where(RiskAreaGrade.run_id == run.id)
        ).all()
    status = schedule_status(db, MONTHLY_ONLY)["schedules"][0]
    assert status["last_status"] == "done"
    assert status["next_run_at"] == "2026-05-01T18:00:00+00:00"  # one catch-up run, not two
    clock.at += timedelta(minutes=1)
    assert run_due(db, settings, clock=clock, doc=MONTHLY_ONLY).ran == []


def test_a_claim_is_not_run_twice_and_expires(db: Database, settings: Settings) -> None:
    calls: list[str] = []

    def fake_assess(database: Database, s: Settings, model: str, **kw: Any) -> dict[str, Any]:
        calls.append(kw["actor"])
        return {"run_id": 1}

    clock = Clock(datetime(2026, 3, 15, 10, tzinfo=UTC))
    run_due(db, settings, clock=clock, doc=MONTHLY_ONLY, assess=fake_assess)
    clock.at = datetime(2026, 4, 2, tzinfo=UTC)
    # another worker holds the claim (it crashed while running)
    with db.session() as session:
        session.execute(
            update(RiskSchedule).values(
                claimed_by="crashed", claimed_until=clock.at + timedelta(minutes=30)
            )
        )
    assert run_due(db, settings, clock=clock, doc=MONTHLY_ONLY, assess=fake_assess).ran == []
    assert calls == []
    clock.at += timedelta(hours=1)  # the claim's lease has expired
    ran = run_due(db, settings, clock=clock, doc=MONTHLY_ONLY, assess=fake_assess).ran
    assert [r["schedule"] for r in ran] == ["monthly"]
    assert calls == ["schedule:monthly"]


def test_a_failed_run_is_recorded_and_rescheduled(db: Database, settings: Settings) -> None:
    from firegrid.core.errors import ValidationFailed

    def failing(database: Database, s: Settings, model: str, **kw: Any) -> dict[str, Any]:
        raise ValidationFailed("no venues to assess")

    clock = Clock(datetime(2026, 3, 15, 10, tzinfo=UTC))
    run_due(db, settings, clock=clock, doc=MONTHLY_ONLY, assess=failing)
    clock.at = datetime(2026, 4, 2, tzinfo=UTC)
    ran = run_due(db, settings, clock=clock, doc=MONTHLY_ONLY, assess=failing).ran
    assert "no venues" in ran[0]["error"]
    status = schedule_status(db, MONTHLY_ONLY)["schedules"][0]
    assert status["last_status"] == "failed"
    assert status["next_run_at"] == "2026-05-01T18:00:00+00:00"


def test_a_bulk_import_triggers_a_run_after_the_delay(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    from tests.dispatch.city import build_dispatch_city
    from tests.records.test_import_and_lock import GOOD, write_csv

    build_dispatch_city(db)
    doc = parse_schedule(
        {
            "version": 1,
            "schedules": {
                "after_import": {"kind": "after_import", "min_imported_rows": 3, "delay_s": 600}
            },
        }
    )
    calls: list[datetime] = []
    clock = Clock(datetime.now(UTC))

    def fake_assess(database: Database, s: Settings, model: str, **kw: Any) -> dict[str, Any]:
        calls.append(clock.at)
        return {"run_id": 7}

    assert run_due(db, settings, clock=clock, doc=doc, assess=fake_assess).ran == []
    from firegrid.places.importexport import import_file

    import_file(db, "fire-records", write_csv(tmp_path / "fires.csv", GOOD))
    first = run_due(db, settings, clock=clock, doc=doc, assess=fake_assess)
    assert first.ran == []  # noted, due after the delay
    assert first.pending["after_import"] == (clock.at + timedelta(seconds=600)).isoformat()
    clock.at += timedelta(seconds=601)
    ran = run_due(db, settings, clock=clock, doc=doc, assess=fake_assess).ran
    assert [r["run_id"] for r in ran] == [7]
    assert schedule_status(db, doc)["schedules"][0]["next_run_at"] is None
    # the same imports do not trigger again
    clock.at += timedelta(hours=1)
    assert run_due(db, settings, clock=clock, doc=doc, assess=fake_assess).ran == []
