"""Benchmark of the area assessment (issue 17) on synthetic data.

    python bench/bench_risk_area.py [--venues 1000000 --events 10000000] [--changes 200]

Prints, for ``--venues`` synthetic venues (``firegrid.risk.synthetic``, seed 2026) and
``--events`` events:

* the full run WITH the area method (events + features + normalise + score + grades +
  venue aggregates + area assessment at six levels + high-risk list), target ≤ 60 s, and
  its stages;
* re-scoring one venue with the frozen normalisation (target ≤ 10 ms);
* re-grading the areas of one changed venue with :class:`firegrid.risk.area.AreaIndex`
  (target ≤ 100 ms), and — the peer in the same run — a full recompute of every level's
  areas (``assess_areas``), with the check that both give the same area scores.

Every figure is computed on SYNTHETIC data: it shows the speed of the code, not anything
about real venues. No history is given, so no predictive validation runs here.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time
from datetime import UTC, datetime

import numpy as np
import polars as pl

from firegrid.risk import run_assessment
from firegrid.risk.area import assess_areas, venue_basis
from firegrid.risk.area_index import AreaIndex
from firegrid.risk.synthetic import facts_for, make_venues, simulate_events

AT = datetime(2026, 1, 1, tzinfo=UTC)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venues", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, {platform.platform()}, Python "
        f"{platform.python_version()}, polars {pl.__version__}; load average at start "
        f"{os.getloadavg()[0]:.1f} (shared machine)"
    )
    t = time.perf_counter()
    venues = make_venues(args.venues, args.seed)
    facts = facts_for(venues, args.seed)
    events = simulate_events(venues, args.events, args.seed, snapshot_at=AT)
    print(f"SYNTHETIC data generated in {time.perf_counter() - t:.1f} s (not timed below)")

    t = time.perf_counter()
    run = run_assessment(venues, facts, snapshot_at=AT, events=events)
    total = time.perf_counter() - t
    stages = " + ".join(f"{k} {v:.2f}" for k, v in run.timings_s.items() if k != "total")
    print(f"full run with area assessment: {total:.2f} s (target <= 60 s); stages: {stages}")
    for level, df in run.aggregates.items():
        grades = df["grade"].cast(pl.String).value_counts().sort("grade").rows()
        print(f"  {level}: {df.height} areas, area grades {dict(grades)}")

    rng = np.random.default_rng(args.seed)
    ids = venues["venue_id"].to_numpy()
    pick = rng.choice(ids, size=args.changes, replace=False)
    rows = [run.raw_row(int(v)) for v in pick]
    times = []
    for row in rows:
        t = time.perf_counter()
        run.rescore(row)
        times.append((time.perf_counter() - t) * 1000.0)
    print(
        f"re-score one venue, {len(times)} calls: median {statistics.median(times):.2f} ms, "
        f"p95 {np.percentile(times, 95):.2f} ms, max {max(times):.2f} ms (target <= 10 ms)"
    )

    assert run.basis is not None
    assert run.area_method is not None
    assert run.area_context is not None
    t = time.perf_counter()
    index = AreaIndex(run.basis, run.area_method, run.area_context)
    print(f"area index built once per run: {time.perf_counter() - t:.2f} s")
    features = run.features
    picked = pick.tolist()
    # the changed venues' rows (what a re-score has in hand): overdue hazards rectified,
    # inspected today
    one_rows = features.filter(pl.col("venue_id").is_in(picked)).with_columns(
        pl.lit(0, dtype=pl.Int32).alias("overdue_rectifications"),
        pl.lit(0, dtype=pl.Int32).alias("open_hazards"),
        pl.lit(0.0).alias("days_since_inspection"),
    )
    score_rows = run.scores.filter(pl.col("venue_id").is_in(picked))
    pairs = [
        (v, score_rows.filter(pl.col("venue_id") == v), one_rows.filter(pl.col("venue_id") == v))
        for v in pick.tolist()
    ]
    regrade = []
    for v, score_row, feature_row in pairs:
        t = time.perf_counter()
        basis_row = venue_basis(score_row, feature_row, run.area_method, None)
        index.update_venue(v, basis_row)
        regrade.append((time.perf_counter() - t) * 1000.0)
    print(
        f"area re-grade after one venue change (6 levels), {len(regrade)} changes: median "
        f"{statistics.median(regrade):.2f} ms, p95 {np.percentile(regrade, 95):.2f} ms, max "
        f"{max(regrade):.2f} ms (target <= 100 ms)"
    )
    # peer: recompute every level from scratch with the same changes applied
    changed = features.with_columns(
        pl.when(pl.col("venue_id").is_in(pick.tolist()))
        .then(0)
        .otherwise(pl.col("overdue_rectifications"))
        .cast(pl.Int32)
        .alias("overdue_rectifications"),
        pl.when(pl.col("venue_id").is_in(pick.tolist()))
        .then(0)
        .otherwise(pl.col("open_hazards"))
        .cast(pl.Int32)
        .alias("open_hazards"),
        pl.when(pl.col("venue_id").is_in(pick.tolist()))
        .then(0.0)
        .otherwise(pl.col("days_since_inspection"))
        .alias("days_since_inspection"),
    )
    t = time.perf_counter()
    basis = venue_basis(run.scores, changed, run.area_method, run.area_context.venue_extra)
    full = assess_areas(basis, run.area_method, run.area_context)
    peer = time.perf_counter() - t
    print(f"peer: full recompute of all six levels' areas: {peer * 1000:.0f} ms")
    worst = 0.0
    for level in ("town", "grid", "industry"):
        key = full[level].columns[0]
        mine = index.rows(level).select(key, pl.col("area_score").alias("mine"))
        both = full[level].join(mine, on=key)
        worst = max(worst, float((both["area_score"] - both["mine"]).abs().max() or 0.0))
    print(f"incremental vs full area scores (town, grid, industry): max abs diff {worst:.2e}")
    print(f"peak RSS {rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
