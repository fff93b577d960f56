"""Records benchmark: response analytics over a year of incidents, and the intake's
type-ahead search of places.

1. Analytics: ``load_response_data`` (dispatch's read API -> Polars frames) and
   ``response_analytics`` for every grouping over the period 2025, repeated; the peer is a
   plain-Python computation of the same p50/p90 of first arrival by town (lists per group,
   ``numpy.percentile``), checked equal.
2. Type-ahead: the place index (venues + buildings + standard addresses from the database,
   plus synthetic extra addresses derived from the real ones up to ``--addresses``) and the
   latency of queries a call-taker types (name prefixes of 1-6 characters, full names with
   the city and town in front, address fragments, one-character typos); the peer is SQL
   ``LIKE '%q%'`` over venues and standard addresses for a sample of the same queries.

The year is made with the product's own commands (the demo city, then
``firegrid incidents generate --count 60000 --seed 1 --year 2025`` and
``firegrid incidents replay``); see bench/RESULTS.md.

Usage::

    python bench/bench_records.py --db sqlite:////tmp/fg-bench-records/records.db
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import text

from firegrid.core.db import Database
from firegrid.core.settings import normalise_database_url
from firegrid.dispatch.search import PlaceIndex, PlaceRow, load_places
from firegrid.records.analytics import (
    GROUPINGS,
    ResponseData,
    cached_response_data,
    load_response_data,
    response_analytics,
)
from firegrid.records.period import parse_period


def pct(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values)
    return {
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p90": round(float(np.percentile(arr, 90)), 3),
        "p99": round(float(np.percentile(arr, 99)), 3),
        "max": round(float(arr.max()), 3),
        "n": len(values),
    }


def replicate(data: ResponseData, target: int) -> ResponseData:
    """The year's incidents and units copied (new ids, same times) until ``target``."""
    incidents, units = [data.incidents], [data.units]
    step = int(data.incidents["incident_id"].max() or 0) + 1
    copies = 1
    while sum(len(f) for f in incidents) < target:
        shift = pl.col("incident_id") + step * copies
        incidents.append(data.incidents.with_columns(shift))
        units.append(data.units.with_columns(shift))
        copies += 1
    grown = pl.concat(incidents).head(target)
    kept = grown["incident_id"]
    return replace(
        data,
        incidents=grown,
        units=pl.concat(units).filter(pl.col("incident_id").is_in(kept)),
    )


def bench_replicated(database: Database, period: Any, target: int, repeat: int) -> dict[str, Any]:
    """Compute time on the replayed incidents copied up to ``target`` (labelled: the copies
    share their times, so concurrency is inflated; the work per row is the same)."""
    with database.session() as session:
        data = replicate(load_response_data(session, period), target)
    out: dict[str, Any] = {"incidents": len(data.incidents), "units": len(data.units)}
    for by in GROUPINGS:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            response_analytics(data, by)
            times.append(time.perf_counter() - t)
        out[by] = {
            "compute_s_median": round(float(np.median(times)), 3),
            "max": round(max(times), 3),
        }
    return out


def bench_analytics(
    database: Database, period_text: str, repeat: int, replicate_to: int = 0
) -> dict[str, Any]:
    period = parse_period(period_text)
    out: dict[str, Any] = {}
    with database.session() as session:
        calls = session.execute(
            text(
                "SELECT count(*) FROM incidents"
                " WHERE call_received_at >= :a AND call_received_at < :b"
            ),
            {"a": period.since, "b": period.until},
        ).scalar()
    out["incidents_in_period"] = calls
    for by in GROUPINGS:
        load_s, compute_s = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            with database.session() as session:
                data = load_response_data(session, period)
            t1 = time.perf_counter()
            table = response_analytics(data, by)
            t2 = time.perf_counter()
            load_s.append(t1 - t0)
            compute_s.append(t2 - t1)
        total = [a + b for a, b in zip(load_s, compute_s, strict=True)]
        cached_s = []
        with database.session() as session:
            cached_response_data(session, period)  # the dashboard's first view
            for _ in range(repeat):
                t0 = time.perf_counter()
                response_analytics(cached_response_data(session, period), by)
                cached_s.append(time.perf_counter() - t0)
        out[by] = {
            "groups": len(table["rows"]),
            "cached_total_s_median": round(float(np.median(cached_s)), 3),
            "load_s_median": round(float(np.median(load_s)), 3),
            "compute_s_median": round(float(np.median(compute_s)), 3),
            "total_s_median": round(float(np.median(total)), 3),
            "total_s_max": round(max(total), 3),
        }
    if replicate_to and calls and calls < replicate_to:
        out["replicated"] = bench_replicated(database, period, replicate_to, repeat)
    # peer: plain Python over the same frames (first arrival p50/p90 by town)
    with database.session() as session:
        data = load_response_data(session, period)
    ours = {
        r["key"]: r["intervals"]["first_arrival_s"]
        for r in response_analytics(data, "town")["rows"]
    }
    t0 = time.perf_counter()
    groups: dict[str, list[float]] = {}
    for row in data.incidents.select("town", "first_arrival_s").iter_rows():
        if row[1] is not None:
            groups.setdefault(row[0], []).append(row[1])
    peer = {
        town: {
            "p50": round(float(np.percentile(v, 50)), 1),
            "p90": round(float(np.percentile(v, 90)), 1),
        }
        for town, v in groups.items()
    }
    peer_s = time.perf_counter() - t0
    equal = all(ours[t] == peer[t] for t in peer)
    out["peer_plain_python_town_first_arrival"] = {"compute_s": round(peer_s, 3), "equal": equal}
    return out


def synthetic_addresses(rows: list[PlaceRow], target: int, seed: int) -> list[PlaceRow]:
    """More standard addresses like the real ones (other house numbers and rooms)."""
    rng = random.Random(seed)
    real = [r for r in rows if r.kind == "address"]
    extra: list[PlaceRow] = []
    next_id = 10_000_000
    while len(real) + len(extra) < target:
        base = real[rng.randrange(len(real))]
        head = base.name.split("号")[0].rstrip("0123456789")
        name = f"{head}{rng.randint(1, 400)}号{rng.randint(1, 30)}0{rng.randint(1, 9)}房"
        extra.append(
            PlaceRow(
                "address", next_id, name, "", base.town, base.lon, base.lat, base.jurisdiction_path
            )
        )
        next_id += 1
    return extra


def queries(rows: list[PlaceRow], n: int, seed: int) -> list[tuple[str, float, float]]:
    rng = random.Random(seed)
    venues = [r for r in rows if r.kind == "venue"]
    addresses = [r for r in rows if r.kind == "address"]
    out = []
    for k in range(n):
        form = k % 5
        v = venues[rng.randrange(len(venues))]
        name = v.name.removeprefix("东莞市")
        if form == 0:  # typing: a prefix of 1-6 characters
            q = name[: rng.randint(1, min(6, len(name)))]
        elif form == 1:  # the city and town in front of the full name
            q = f"东莞市{v.town}{name}"
        elif form == 2:  # the full name
            q = name
        elif form == 3:  # a fragment of an address: road and number
            a = addresses[rng.randrange(len(addresses))]
            q = a.name.split("社区")[-1][:8]
        else:  # a typo: one character replaced
            i = rng.randrange(len(name))
            q = name[:i] + "丰" + name[i + 1 :]
        out.append((q, v.lon + rng.uniform(-0.01, 0.01), v.lat + rng.uniform(-0.01, 0.01)))
    return out


def bench_search(database: Database, addresses: int, n: int, peer_n: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    with database.session() as session:
        rows, towns = load_places(session)
    load_s = time.perf_counter() - t0
    real = {
        kind: sum(1 for r in rows if r.kind == kind) for kind in ("venue", "building", "address")
    }
    rows = rows + synthetic_addresses(rows, addresses, seed=5)
    t0 = time.perf_counter()
    index = PlaceIndex(rows, towns)
    build_s = time.perf_counter() - t0
    cases = queries(rows, n, seed=11)
    for q, lon, lat in cases[:50]:  # warm-up
        index.search(q, lon=lon, lat=lat)
    latencies = []
    found_first = 0
    for k, (q, lon, lat) in enumerate(cases):
        t = time.perf_counter()
        _town, hits = index.search(q, lon=lon, lat=lat)
        latencies.append((time.perf_counter() - t) * 1000)
        if k % 5 in (1, 2) and hits and hits[0].tier == 0:
            found_first += 1
    full_names = sum(1 for k in range(len(cases)) if k % 5 in (1, 2))
    peer = []
    with database.session() as session:
        for q, _lon, _lat in cases[:peer_n]:
            like = f"%{q}%"
            t = time.perf_counter()
            session.execute(
                text("SELECT id, name FROM venues WHERE name LIKE :q LIMIT 10"),
                {"q": like},
            ).all()
            session.execute(
                text(
                    "SELECT id, full_text FROM standard_addresses WHERE full_text LIKE :q LIMIT 10"
                ),
                {"q": like},
            ).all()
            peer.append((time.perf_counter() - t) * 1000)
    return {
        "places_from_database": real,
        "places_indexed": len(rows),
        "synthetic_addresses": len(rows) - sum(real.values()),
        "load_s": round(load_s, 1),
        "index_build_s": round(build_s, 1),
        "latency_ms": pct(latencies),
        "full_name_queries_exact_first": f"{found_first}/{full_names}",
        "peer_sql_like_ms (database rows only)": pct(peer),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--period", default="2025")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--peer-queries", type=int, default=30)
    parser.add_argument(
        "--replicate-to",
        type=int,
        default=60_000,
        help="Also time the computation on the year's incidents copied up to this many.",
    )
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--skip-analytics", action="store_true")
    args = parser.parse_args()
    database = Database(normalise_database_url(args.db))
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 1) for x in os.getloadavg()],
        }
    }
    if not args.skip_analytics:
        report["analytics"] = bench_analytics(database, args.period, args.repeat, args.replicate_to)
    if not args.skip_search:
        report["search"] = bench_search(database, args.addresses, args.queries, args.peer_queries)
    report["machine"]["load_average_end"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(report, ensure_ascii=False, indent=2))
    database.dispose()


if __name__ == "__main__":
    main()
