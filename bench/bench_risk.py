"""Benchmark of the fire-risk assessment engine (firegrid.risk).

    python bench/bench_risk.py [--venues 1000000 --events 10000000] [--record]

Measures, on synthetic data (deterministic by seed):

* the full vectorised run — event aggregation + features + normalisation + scoring + grades
  + aggregation to every level + the high-risk list — on ``--venues`` venues and
  ``--events`` events (target ≤ 60 s for 1 M venues / 10 M events);
* re-scoring one venue with the run's frozen normalisation (target ≤ 10 ms) and one
  explanation;
* the predictive model's held-out validation, trained on a sample of ``--train-sample``
  venue-periods (the test period is complete);
* a naive pure-Python per-row loop (no Polars, no NumPy) doing the same work on a
  ``--baseline-venues`` subset and its events, extrapolated linearly to the full size;
* peak RSS of the process.

``--record`` writes the results into the ``## Risk assessment`` section of
``bench/RESULTS.md`` (creating the file if needed, leaving other sections alone).
"""

from __future__ import annotations

import argparse
import bisect
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from firegrid.risk import load_model, run_assessment, validate_predictive, write_report
from firegrid.risk.catalogue import Indicator, MinMax
from firegrid.risk.events import aggregate_events, apply_event_facts
from firegrid.risk.grades import GRADES
from firegrid.risk.normalise import FittedIndicator
from firegrid.risk.synthetic import facts_for, incident_history, make_venues, simulate_events

AT = datetime(2026, 1, 1, tzinfo=UTC)
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## Risk assessment"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({model}), {mem_gb:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, polars {pl.__version__}, "
        f"numpy {np.__version__}; load average at start {os.getloadavg()[0]:.1f} (shared machine)"
    )


# ---- the naive baseline: pure Python, one row at a time -------------------------------
def _py_risk(ind: FittedIndicator, x: Any) -> float:
    if ind.kind == "categorical":
        if x is None:
            if isinstance(ind.fill, str):
                return ind.mapping.get(ind.fill, ind.default)
            return ind.worst_score
        return ind.mapping.get(x, ind.default)
    if x is None or (isinstance(x, float) and x != x):
        if ind.fill is None:
            return ind.worst_score
        x = ind.fill
    x = float(x)
    if ind.kind == "minmax":
        span = ind.hi - ind.lo
        r = 0.0 if span <= 0 else min(1.0, max(0.0, (x - ind.lo) / span))
        return r if ind.higher_is_riskier else 1.0 - r
    if ind.kind == "percentile":
        q = ind.quantiles
        r = min(1.0, bisect.bisect_left(q, x) / (len(q) - 1))
        return r if ind.higher_is_riskier else 1.0 - r
    if ind.kind == "thresholds":
        i = bisect.bisect_right(ind.breakpoints, x)
        return ind.scores[min(i, len(ind.scores) - 1)]
    return x if ind.higher_is_riskier else 1.0 - x  # boolean


def _quantile(sorted_vals: list[float], q: float) -> float:
    pos = (len(sorted_vals) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


def _py_fit(ind: FittedIndicator, spec: Indicator, values: list[Any]) -> FittedIndicator:
    """Fit the data-dependent parameters in pure Python (sorting, linear quantiles)."""
    known = sorted(float(x) for x in values if x is not None and x == x)
    if not known:
        return ind
    fill = _quantile(known, 0.5) if spec.missing == "median" else ind.fill
    norm = spec.normalisation
    if isinstance(norm, MinMax):
        lo, hi = _quantile(known, norm.lower_quantile), _quantile(known, norm.upper_quantile)
        return replace(ind, lo=lo, hi=hi, fill=fill)
    if norm.kind == "percentile":
        n = len(ind.quantiles)
        q = tuple(_quantile(known, i / (n - 1)) for i in range(n))
        return replace(ind, quantiles=q, fill=fill)
    return replace(ind, fill=fill)


def naive_python(
    venue_rows: list[dict[str, Any]],
    fact_rows: dict[int, dict[str, Any]],
    event_rows: list[tuple[int, str, datetime]],
    indicators: tuple[FittedIndicator, ...],
    specs: list[Indicator],
    weights: list[float],
    thresholds: tuple[float, float, float],
    top_n: int = 1000,
) -> tuple[dict[int, float], dict[str, dict[str, dict[str, float]]]]:
    """Events → facts → features → fit → score → grade → percentiles → 6 levels → top list,
    one Python object at a time (no Polars, no NumPy)."""
    since = AT - timedelta(days=90)
    acc: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for vid, kind, ts in event_rows:
        if ts > AT:
            continue
        a = acc[vid]
        if kind == "fire_alarm" and ts > since:
            a[0] += 1
        elif kind == "false_alarm" and ts > since:
            a[1] += 1
        elif kind == "fault":
            a[2] += 1
        elif kind == "fault_cleared":
            a[3] += 1
        elif kind == "offline":
            a[4] += 1
        elif kind == "online":
            a[5] += 1
    rows = []
    for v in venue_rows:
        vid = v["venue_id"]
        row = {**v, **fact_rows.get(vid, {})}
        a = acc.get(vid, [0, 0, 0, 0, 0, 0])
        row["fire_alarms_90d"] = a[0]
        row["false_alarm_rate"] = min(1.0, a[1] / a[0]) if a[0] else None
        row["unresolved_faults"] = max(0, a[2] - a[3])
        off = max(0, a[4] - a[5])
        dc = row.get("device_count")
        row["offline_devices"] = min(off, dc) if dc is not None else off
        by = row.get("built_year")
        row["building_age_years"] = max(0.0, AT.year - by) if by is not None else None
        row["monitoring_connected"] = None if dc is None else dc > 0
        row["offline_ratio"] = (
            min(1.0, max(0.0, row["offline_devices"] / dc)) if dc is not None and dc > 0 else None
        )
        rows.append(row)
    fitted = [
        _py_fit(ind, spec, [r.get(ind.source) for r in rows])
        if ind.kind in ("minmax", "percentile") or spec.missing == "median"
        else ind
        for ind, spec in zip(indicators, specs, strict=True)
    ]
    red, orange, yellow = thresholds
    scores: dict[int, float] = {}
    for row in rows:
        s = 0.0
        for ind, w in zip(fitted, weights, strict=True):
            s += w * 100.0 * _py_risk(ind, row.get(ind.source))
        scores[row["venue_id"]] = s
        row["score"] = s
        row["grade"] = (
            "red" if s >= red else "orange" if s >= orange else "yellow" if s >= yellow else "blue"
        )
    for key in ("category", "town_code"):
        groups: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            groups[row[key]].append(row["score"])
        for g in groups.values():
            g.sort()
        for row in rows:
            g = groups[row[key]]
            row[f"pct_{key}"] = bisect.bisect_right(g, row["score"]) / len(g) * 100.0
    levels: dict[str, dict[str, dict[str, float]]] = {}
    for level in ("city", "town_code", "village_code", "grid_code", "industry_code", "category"):
        members: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            members["city" if level == "city" else row[level]].append(row)
        out: dict[str, dict[str, float]] = {}
        for name, items in members.items():
            vals = sorted(r["score"] for r in items)
            occ = sum(float(r.get("occupancy") or 0) for r in items)
            mean = sum(vals) / len(vals)
            out[name] = {
                "n": len(items),
                "mean": mean,
                "weighted": (
                    sum(r["score"] * float(r.get("occupancy") or 0) for r in items) / occ
                    if occ
                    else mean
                ),
                "p50": _quantile(vals, 0.5),
                "p90": _quantile(vals, 0.9),
                "max": vals[-1],
                **{f"n_{g}": sum(1 for r in items if r["grade"] == g) for g in GRADES},
            }
        levels[level] = out
    ranked = sorted(rows, key=lambda r: (-r["score"], r["venue_id"]))
    top = [r for i, r in enumerate(ranked) if i < top_n or r["grade"] == "red"]
    levels["_top"] = {"n": {"n": len(top)}}
    return scores, levels


# ---- the benchmark ------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--venues", type=int, default=1_000_000)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--baseline-venues", type=int, default=50_000)
    ap.add_argument("--train-sample", type=int, default=200_000)
    ap.add_argument("--rescore-calls", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--no-predictive", action="store_true")
    ap.add_argument("--record", action="store_true", help="write bench/RESULTS.md")
    args = ap.parse_args()
    cmd = "python bench/bench_risk.py " + " ".join(sys.argv[1:])
    out: dict[str, Any] = {"machine": machine(), "command": cmd}
    print(out["machine"], flush=True)

    t0 = time.perf_counter()
    venues = make_venues(args.venues, seed=args.seed)
    facts = facts_for(venues, seed=args.seed)
    events = simulate_events(venues, args.events, seed=args.seed, snapshot_at=AT)
    out["gen_s"] = time.perf_counter() - t0
    out["rss_after_gen_mb"] = rss_mb()
    print(
        f"generated {args.venues:,} venues, {args.events:,} events in {out['gen_s']:.1f} s",
        flush=True,
    )

    model = load_model("expert-ahp")
    t0 = time.perf_counter()
    run = run_assessment(venues, facts, model, snapshot_at=AT, events=events, top_n=1000)
    out["full_s"] = time.perf_counter() - t0
    out["timings"] = dict(run.timings_s)
    out["grades"] = run.city_grade_counts()
    print(f"full run {out['full_s']:.2f} s: {run.timings_s}", flush=True)

    rng = np.random.default_rng(args.seed)
    ids = rng.choice(run.scores["venue_id"].to_numpy(), size=args.rescore_calls, replace=False)
    rows = [run.raw_row(int(v)) for v in ids]
    run.rescore(rows[0])  # builds the peer index once
    times = []
    for row in rows:
        t = time.perf_counter()
        run.rescore(row)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    out["rescore_ms"] = {
        "median": statistics.median(times),
        "p95": times[int(0.95 * (len(times) - 1))],
        "max": times[-1],
    }
    ex = []
    for v in run.top["venue_id"].head(20).to_list():
        t = time.perf_counter()
        run.explain(int(v))
        ex.append((time.perf_counter() - t) * 1000)
    out["explain_ms_median"] = statistics.median(ex)
    print(
        f"rescore one venue {out['rescore_ms']}, explain {out['explain_ms_median']:.1f} ms",
        flush=True,
    )

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path = write_report(run, tmp)
        out["report_s"] = time.perf_counter() - t
        out["report_kb"] = path.stat().st_size / 1024
    out["rss_after_run_mb"] = rss_mb()

    # Naive pure-Python per-row loop on a subset.
    n_sub = min(args.baseline_venues, args.venues)
    sub_v = venues.head(n_sub)
    sub_ids = sub_v["venue_id"]
    sub_f = facts.filter(pl.col("venue_id").is_in(sub_ids.implode()))
    sub_e = events.filter(pl.col("venue_id").is_in(sub_ids.implode()))
    venue_rows = sub_v.to_dicts()
    fact_rows = {r["venue_id"]: r for r in sub_f.to_dicts()}
    event_rows = [(a, str(b), c) for a, b, c in sub_e.iter_rows()]
    weights = model.weight_vector().tolist()
    th = model.grade_thresholds
    t = time.perf_counter()
    py_scores, py_levels = naive_python(
        venue_rows,
        fact_rows,
        event_rows,
        run.normaliser.indicators,
        list(model.catalogue.indicators),
        weights,
        (th.red, th.orange, th.yellow),
    )
    out["naive_s"] = time.perf_counter() - t
    out["naive_events"] = len(event_rows)
    out["naive_extrapolated_s"] = out["naive_s"] * args.venues / n_sub
    # The vectorised pipeline on the same subset (its own fit, like the naive loop).
    t = time.perf_counter()
    sub_facts = apply_event_facts(sub_f, aggregate_events(sub_e, AT))
    sub_run = run_assessment(sub_v, sub_facts, model, snapshot_at=AT, top_n=1000)
    out["vector_subset_s"] = time.perf_counter() - t
    batch = dict(
        zip(sub_run.scores["venue_id"].to_list(), sub_run.scores["score"].to_list(), strict=True)
    )
    out["naive_max_abs_diff"] = max(abs(py_scores[k] - batch[k]) for k in py_scores)
    print(
        f"naive python {n_sub:,} venues + {len(event_rows):,} events: {out['naive_s']:.2f} s "
        f"(→ {out['naive_extrapolated_s']:.0f} s extrapolated); vectorised subset "
        f"{out['vector_subset_s']:.2f} s; max |diff| {out['naive_max_abs_diff']:.2e}",
        flush=True,
    )
    del py_levels

    if not args.no_predictive:
        t = time.perf_counter()
        history = incident_history(venues, facts, periods=3, seed=args.seed, end=AT)
        out["history_gen_s"] = time.perf_counter() - t
        t = time.perf_counter()
        val = validate_predictive(
            venues, history, model, kind="hgb", max_train_rows=args.train_sample, seed=args.seed
        )
        out["predictive_s"] = time.perf_counter() - t
        out["validation"] = val
        print(
            f"predictive: {out['predictive_s']:.1f} s, AUC {val.auc:.3f} "
            f"(expert {val.expert_auc:.3f}, shuffled {val.shuffled_label_auc:.3f}), "
            f"precision@top {val.precision_at_top}",
            flush=True,
        )
    out["peak_rss_mb"] = rss_mb()
    print(f"peak RSS {out['peak_rss_mb']:.0f} MB", flush=True)
    if args.record:
        record(out, args)
        print(f"recorded in {RESULTS}")
    return 0


def record(out: dict[str, Any], args: argparse.Namespace) -> None:
    tm = out["timings"]
    stages = " + ".join(f"{k} {v:.2f}" for k, v in tm.items() if k != "total")
    lines = [
        SECTION,
        "",
        f"Command: `{out['command']}`  ",
        f"Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}  ",
        f"Machine: {out['machine']}",
        "",
        "Synthetic data (`firegrid.risk.synthetic`, seed "
        f"{args.seed}); model `expert-ahp`; generation is not timed "
        f"({out['gen_s']:.1f} s).",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| full run: {args.venues:,} venues, {args.events:,} events (event aggregation + "
        f"features + normalisation + scoring + grades + aggregation to city/town/village/grid/"
        f"industry/category + high-risk list) | **{out['full_s']:.1f} s** | ≤ 60 s |",
        f"| stages (s) | {stages} | |",
        f"| re-score one venue (frozen normalisation), {args.rescore_calls} calls | median "
        f"**{out['rescore_ms']['median']:.2f} ms**, p95 {out['rescore_ms']['p95']:.2f} ms, max "
        f"{out['rescore_ms']['max']:.2f} ms | ≤ 10 ms |",
        f"| explain one venue (contributions + what-if + peers) | median "
        f"{out['explain_ms_median']:.1f} ms | |",
        f"| HTML report | {out['report_s']:.2f} s, {out['report_kb']:.0f} KB | |",
        f"| naive pure-Python per-row loop (same work: events, features, fit, score, grade, "
        f"percentiles, 6 levels, top list), {min(args.baseline_venues, args.venues):,} venues + "
        f"{out['naive_events']:,} events | {out['naive_s']:.1f} s → "
        f"**{out['naive_extrapolated_s']:.0f} s extrapolated** linearly to {args.venues:,} "
        "venues (not run at full size) | |",
        f"| vectorised on the same subset | {out['vector_subset_s']:.2f} s | |",
        f"| speed-up at full size (extrapolated naive / measured vectorised) | "
        f"{out['naive_extrapolated_s'] / out['full_s']:.0f}× | |",
        f"| naive vs vectorised scores on the subset (both fitted on the subset) | max abs diff "
        f"{out['naive_max_abs_diff']:.1e} | |",
    ]
    if "validation" in out:
        v = out["validation"]
        p = ", ".join(f"{k} {x:.3f}" for k, x in v.precision_at_top.items())
        pe = ", ".join(f"{k} {x:.3f}" for k, x in v.expert_precision_at_top.items())
        lines += [
            f"| predictive model (HistGradientBoosting, 1 thread) trained on a random sample of "
            f"{v.n_train:,} venue-periods (period 1 features → period 2 labels), tested on all "
            f"{v.n_test:,} venues of the later period (2 → 3) | {out['predictive_s']:.1f} s "
            f"(+ {out['history_gen_s']:.1f} s to simulate the history) | |",
            f"| held-out ROC AUC: model / expert score / shuffled-label control | "
            f"**{v.auc:.3f}** / {v.expert_auc:.3f} / {v.shuffled_label_auc:.3f} | > 0.5 |",
            f"| precision at top k % (base rate {v.base_rate:.4f}): model / expert "
            f"| {p} / {pe} | |",
        ]
    lines += [
        f"| peak RSS (whole process, incl. data generation and the predictive step) | "
        f"{out['peak_rss_mb']:,.0f} MB (after generation {out['rss_after_gen_mb']:,.0f} MB, "
        f"after the run {out['rss_after_run_mb']:,.0f} MB) | |",
        "",
        f"Grades of the run: {out['grades']}.",
        "",
    ]
    section = "\n".join(lines)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\n"
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
