"""Demo inspections on the tiny demo city, and the risk inputs they feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from firegrid.accounts.principal import system_principal
from firegrid.core.db import Database
from firegrid.core.errors import Conflict
from firegrid.core.settings import Settings
from firegrid.demo import DemoSpec, build_demo_city
from firegrid.inspections import demo, service
from firegrid.inspections.models import Hazard, HazardTransition, Inspection
from firegrid.places.models import Venue
from firegrid.risk.inputs import INSPECTION_COLUMNS, read_inputs

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
SEED = 7


@pytest.fixture
def tiny(db: Database) -> Database:
    build_demo_city(db, DemoSpec.tiny(), SEED)
    return db


def test_demo_inspections_are_plausible(tiny: Database) -> None:
    figures = demo.generate_inspections(tiny, SEED, now=NOW)
    assert figures["venues"] == DemoSpec.tiny().venues
    assert figures["venues_inspected_last_year"] >= 0.85
    assert 0.12 <= figures["venues_with_open_hazards"] <= 0.30
    assert 0.01 <= figures["venues_with_overdue_hazards"] < figures["venues_with_open_hazards"]
    with tiny.session() as session:
        counts = dict(
            session.execute(
                select(
                    Venue.category, func.count(Inspection.id) / func.count(func.distinct(Venue.id))
                )
                .join(Inspection, Inspection.venue_id == Venue.id)
                .group_by(Venue.category)
            ).all()
        )
        n_transitions = session.scalar(select(func.count(HazardTransition.id)))
        rectified = session.scalar(select(func.count()).where(Hazard.status == "rectified"))
        # timestamps written as text on SQLite read back aware and compare in SQL
        first = session.scalars(select(Inspection).order_by(Inspection.id).limit(1)).one()
        assert first.inspected_at.tzinfo is not None
        assert first.inspected_at < NOW
        overdue = service.list_overdue(session, system_principal(), now=NOW, limit=100_000)
        assert len(overdue) == figures["overdue_hazards"]
        assert all(h.deadline < NOW and h.status == "open" for h in overdue)
    assert n_transitions == figures["hazards"] + rectified
    assert counts["small_shop"] > counts["factory"]  # three-small venues more often
    assert counts["rental_housing"] > counts["office"]
    with pytest.raises(Conflict):
        demo.generate_inspections(tiny, SEED, now=NOW)


def test_categories_follow_the_venue_class() -> None:
    n = 6_000
    categories = ["rental_housing", "office"] * (n // 2)
    paths = ["/1/2/3/4/"] * n
    plan = demo.plan_inspections(
        np.arange(1, n + 1),
        categories,
        np.zeros(n, dtype=bool),
        paths,
        np.array([1]),
        ["/1/2/3/4/"],
        SEED,
        NOW,
    )
    again = demo.plan_inspections(
        np.arange(1, n + 1),
        categories,
        np.zeros(n, dtype=bool),
        paths,
        np.array([1]),
        ["/1/2/3/4/"],
        SEED,
        NOW,
    )
    assert np.array_equal(plan.h_category, again.h_category)  # seeded
    assert np.array_equal(plan.i_at, again.i_at)
    ebike = [c.code for c in demo.HAZARD_CATEGORIES].index("ebike_indoor_charging")
    rental = plan.h_venue % 2 == 0
    share_rental = float((plan.h_category[rental] == ebike).mean())
    share_office = float((plan.h_category[~rental] == ebike).mean())
    assert share_rental > 2 * share_office


def _expected(session: Any, at: datetime) -> tuple[int, int]:
    rows = session.execute(select(Hazard.found_at, Hazard.deadline, Hazard.rectified_at)).all()
    open_ = [r for r in rows if r[0] <= at and (r[2] is None or r[2] > at)]
    return len(open_), sum(1 for r in open_ if r[1] < at)


def test_risk_inputs_read_the_demo_inspections(tiny: Database, settings: Settings) -> None:
    empty = read_inputs(tiny, settings, snapshot_at=NOW, with_history=False)
    for column in INSPECTION_COLUMNS:
        assert empty.facts[column].null_count() == empty.facts.height
        assert empty.sources[column] == "none (null)"
    assert any(w.startswith("inspections:") for w in empty.warnings)

    figures = demo.generate_inspections(tiny, SEED, now=NOW)
    inputs = read_inputs(tiny, settings, snapshot_at=NOW, with_history=False)
    facts = inputs.facts
    assert facts["open_hazards"].null_count() == 0
    assert facts["overdue_rectifications"].null_count() == 0
    assert int(facts["open_hazards"].sum()) == figures["open_hazards"]
    assert int(facts["overdue_rectifications"].sum()) == figures["overdue_hazards"]
    days = facts["days_since_inspection"]
    assert days.null_count() < 0.1 * facts.height  # only never-inspected venues are null
    assert float(days.min()) > 0  # type: ignore[arg-type]
    assert not any(w.startswith("inspections:") for w in inputs.warnings)
    assert "hazards" in inputs.sources["open_hazards"]

    # as of an earlier snapshot: hazards rectified since then were still open
    earlier = NOW - timedelta(days=60)
    past = read_inputs(tiny, settings, snapshot_at=earlier, with_history=False).facts
    with tiny.session() as session:
        open_then, overdue_then = _expected(session, earlier)
    assert int(past["open_hazards"].sum()) == open_then
    assert int(past["overdue_rectifications"].sum()) == overdue_then
