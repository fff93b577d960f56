"""Synthetic generators: contract-conforming and deterministic by seed."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from polars.testing import assert_frame_equal

from firegrid.risk.features import FACT_SCHEMA, validate_facts, validate_venues
from firegrid.risk.synthetic import (
    GENERATING_PROCESS,
    facts_for,
    incident_history,
    make_venues,
    simulate_events,
)


def test_deterministic_by_seed() -> None:
    v1, v2 = make_venues(3_000, seed=7), make_venues(3_000, seed=7)
    assert_frame_equal(v1, v2)
    assert not make_venues(3_000, seed=8).equals(v1)
    assert_frame_equal(facts_for(v1, seed=7), facts_for(v2, seed=7))
    h1 = incident_history(v1, facts_for(v1, seed=7), periods=3, seed=7)
    h2 = incident_history(v2, facts_for(v2, seed=7), periods=3, seed=7)
    assert_frame_equal(h1.incidents, h2.incidents)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert_frame_equal(
        simulate_events(v1, 5_000, 3, snapshot_at=at), simulate_events(v2, 5_000, 3, snapshot_at=at)
    )


def test_outputs_follow_the_contract() -> None:
    v = make_venues(3_000, seed=9)
    validate_venues(v)
    f = facts_for(v, seed=9)
    assert f.columns == list(FACT_SCHEMA)
    conformed, warnings = validate_facts(f)
    assert warnings == []
    assert conformed.height == v.height
    h = incident_history(v, f, periods=4, seed=9)
    assert h.synthetic
    assert "SYNTHETIC" in h.description
    assert h.periods == [1, 2, 3, 4]
    assert h.snapshots is not None
    assert sorted(h.snapshots) == [0, 1, 2, 3, 4]
    rate = h.incidents.filter(pl.col("period") == 2).height / v.height
    assert 0.01 < rate < 0.08
    ends = h.period_ends
    assert ends[4] > ends[3]
    assert ends[4].tzinfo is not None
    e = simulate_events(v, 10_000, seed=1)
    assert e.schema["occurred_at"] == pl.Datetime("us", "UTC")
    assert set(e["kind"].cast(pl.String).unique()) <= {
        "fire_alarm",
        "false_alarm",
        "fault",
        "fault_cleared",
        "offline",
        "online",
    }
    assert "Hidden generating process" in GENERATING_PROCESS
