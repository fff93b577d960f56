"""Explanations: contributions, what-if changes that really lower the grade, peers, history."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from firegrid.risk import UnknownVenue, run_assessment
from firegrid.risk.grades import GRADES
from firegrid.risk.run import AssessmentRun
from firegrid.risk.synthetic import facts_for, make_venues

AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def run() -> AssessmentRun:
    v = make_venues(20_000, seed=21)
    return run_assessment(v, facts_for(v, seed=21), "expert-ahp", snapshot_at=AT)


def _worse(a: str, b: str) -> bool:
    return GRADES.index(a) < GRADES.index(b)


def test_contributions_add_up(run: AssessmentRun) -> None:
    vid = int(run.top["venue_id"][0])
    e = run.explain(vid)
    assert abs(sum(c.points for c in e.contributions) - e.score) < 1e-9
    assert [c.points for c in e.contributions] == sorted(
        (c.points for c in e.contributions), reverse=True
    )
    batch = run.scores.filter(pl.col("venue_id") == vid).row(0, named=True)
    assert e.score == pytest.approx(batch["score"], abs=1e-12)
    assert e.grade == batch["grade"]
    travel = next(c for c in e.contributions if c.key == "offline_ratio")
    assert travel.raw_value is None or 0.0 <= travel.raw_value <= 1.0


def test_what_if_changes_really_lower_the_score_and_grade(run: AssessmentRun) -> None:
    checked_grade_drop = 0
    checked_minimal = 0
    for vid in run.top.head(40)["venue_id"].to_list():
        e = run.explain(vid)
        raw = run.raw_row(vid)
        assert e.what_if, "a top venue should have something to fix"
        for w in e.what_if:
            ind = run.model.catalogue.indicator(w.indicator)
            assert ind.modifiable
            after = run.rescore({**raw, **w.change})
            assert after.score == pytest.approx(w.new_score, abs=1e-12)
            assert after.score < e.score
            assert after.grade == w.new_grade
            if w.lowers_grade:
                assert _worse(e.grade, after.grade)
                checked_grade_drop += 1
            if w.minimal is not None:
                m = w.minimal
                moved = run.rescore({**raw, m.column: m.to_value})
                assert moved.score == pytest.approx(m.new_score, abs=1e-12)
                assert _worse(e.grade, moved.grade)
                # one unit less of the change does not lower the grade (integer columns)
                if isinstance(m.to_value, int) and abs(m.to_value - m.from_value) > 1:
                    step = 1 if m.to_value < m.from_value else -1
                    less = run.rescore({**raw, m.column: m.to_value + step})
                    assert less.grade == e.grade
                checked_minimal += 1
    assert checked_grade_drop > 0
    assert checked_minimal > 0


def test_what_if_sorted_by_effect(run: AssessmentRun) -> None:
    e = run.explain(int(run.top["venue_id"][1]))
    deltas = [w.delta for w in e.what_if]
    assert deltas == sorted(deltas)
    assert all(d < 0 for d in deltas)


def test_peers_and_history(run: AssessmentRun) -> None:
    vid = int(run.scores["venue_id"][5])
    previous = pl.DataFrame(
        {
            "venue_id": [vid, vid, 999_999],
            "label": ["2025-Q2", "2025-Q3", "x"],
            "score": [20.0, 30.0, 1.0],
        }
    )
    e = run.explain(vid, previous=previous)
    assert [h["label"] for h in e.history] == ["2025-Q2", "2025-Q3"]
    assert e.history[1]["change_since"] == pytest.approx(e.score - 30.0)
    row = run.scores.filter(pl.col("venue_id") == vid).row(0, named=True)
    assert e.peers["pct_in_category"] == pytest.approx(row["pct_in_category"])
    assert e.peers["pct_in_town"] == pytest.approx(row["pct_in_town"])
    assert e.peers["category_n"] == run.scores.filter(pl.col("category") == row["category"]).height
    e2 = run.explain(vid, previous=[("last year", 10.0)])
    assert e2.history == [{"label": "last year", "score": 10.0, "change_since": e2.score - 10.0}]
    assert e2.to_dict()["venue_id"] == vid


def test_unknown_venue(run: AssessmentRun) -> None:
    with pytest.raises(UnknownVenue):
        run.explain(-1)
