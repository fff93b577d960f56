"""Planning benchmark on the demo city (synthetic: `firegrid demo`, seed 7).

1. MCLP at city scale: the 100 existing stations fixed, ~3,000 demand cells (900 m cells of
   the latest risk run's venues), ~20,000 candidate road nodes (a 350 m grid, siting rules
   applied), 5 new sites, T = 5 min — wall time of the whole `plan stations` call, the
   travel-time matrix included, and its parts.
2. The same with p-median.
3. What-if: a 60,000-call year (the dispatch generator) replayed before and after the MCLP
   plan's sites.

The demo city and its risk run are built by the script when the database has none.

CPU seconds are reported beside wall times, so a run on a shared machine can be judged:
``cpu_s`` is this process (HiGHS's threads included) plus its children — the travel-time
matrix's worker processes (the search pool is closed after each case so that they are
reaped and counted) and the what-if's forked "after" run — from ``getrusage``.

Usage::

    python bench/bench_planning.py --db sqlite:////tmp/fg-bench-planning/demo.db
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.core.settings import get_settings, normalise_database_url


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "firegrid.cli", *args], check=True)


def ensure_city(url: str) -> None:
    from firegrid.places.models import Venue
    from firegrid.risk.models import RiskRun

    database = Database(url)
    try:
        with database.session() as session:
            venues = session.scalar(select(func.count(Venue.id)))
    except Exception:  # noqa: BLE001 - no schema yet
        venues = 0
    if not venues:
        _cli("demo", "--no-serve", "--db", url, "--json")
    with database.session() as session:
        runs = session.scalar(select(func.count(RiskRun.id)))
    if not runs:
        _cli("assess", "--db", url, "--json")
    database.dispose()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def cpu_now() -> float:
    """CPU seconds so far of this process and its reaped children (user + system)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def close_search_pool(database: Database) -> None:
    """Stop the matrix workers (so their CPU is counted as reaped children)."""
    from firegrid.geo.service import geo_context

    settings = get_settings().model_copy(update={"database_url": database.url})
    geo_context(database, settings).engine.search_pool.close()


def station_case(database: Database, model: str, args: argparse.Namespace) -> dict[str, Any]:
    from firegrid.planning.stations import StationParams, plan_stations

    settings = get_settings().model_copy(update={"database_url": database.url})
    params = StationParams(
        model=model,
        add=5,
        minutes=5.0,
        spacing_m=args.spacing,
        cell_m=args.cell,
        time_limit_s=args.time_limit,
    )
    t0, c0, a0 = time.perf_counter(), time.process_time(), cpu_now()
    result = plan_stations(database, settings, params)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    close_search_pool(database)
    return {
        "model": model,
        "wall_s": round(wall, 2),
        "cpu_s_main_process": round(cpu, 2),
        "cpu_s": round(cpu_now() - a0, 2),
        "peak_rss_mb_so_far": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "parts_s": result["seconds"],
        "demand_points": result["demand"]["points"],
        "candidates": {
            k: result["candidates"][k]
            for k in (
                "grid",
                "allowed",
                "excluded_count",
                "useful",
                "improve_nothing",
                "dominated",
                "solver_columns",
            )
            if k in result["candidates"]
        },
        "existing_stations": result["existing_stations"],
        "sites": [(s["lon"], s["lat"]) for s in result["sites"]],
        "objective": result["objective"],
        "bound": result["bound"],
        "gap": result["gap"],
        "optimal": result["optimal"],
        "method": result["method"],
        "coverage_before": result["coverage"]["before"]["covered_share"],
        "coverage_after": result["coverage"]["after"]["covered_share"],
        "_result": result,
    }


def whatif_case(database: Database, result: dict[str, Any], args: argparse.Namespace) -> Any:
    from firegrid.dispatch.generate import generate_records, load_points, write_jsonl
    from firegrid.planning.simulate import simulate_plan

    settings = get_settings().model_copy(update={"database_url": database.url})
    calls = Path(args.workdir) / "calls.jsonl"
    if not calls.exists():
        write_jsonl(generate_records(load_points(database), args.calls, seed=1), calls)
    t0, c0, a0 = time.perf_counter(), time.process_time(), cpu_now()
    report = simulate_plan(database, settings, result, calls, seed=0)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "calls": args.calls,
        "wall_s": round(wall, 1),
        "cpu_s_main_process": round(cpu, 1),
        "cpu_s": round(cpu_now() - a0, 1),
        "before_s": report["before"]["elapsed_s"],
        "after_s": report["after"]["elapsed_s"],
        "comparison": report["comparison"],
        "new_units": report["new_units"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--workdir", default="/tmp/fg-bench-planning")
    parser.add_argument("--spacing", type=float, default=350.0)
    parser.add_argument("--cell", type=float, default=900.0)
    parser.add_argument("--calls", type=int, default=60_000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--skip", default="", help="comma list of: mclp,pmedian,whatif")
    args = parser.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FIREGRID_DATA_DIR", str(Path(args.workdir) / "data"))
    url = normalise_database_url(args.db)
    ensure_city(url)
    database = Database(url)
    skip = set(filter(None, args.skip.split(",")))
    out: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}",
        "load_average_at_start": os.getloadavg(),
        "uptime_at_start": uptime(),
        "database": url.split("://")[0],
        "synthetic": "the demo city (seed 7): synthetic venues, risk, roads and stations",
    }
    mclp = None
    for model in ("mclp", "pmedian"):
        if model in skip:
            continue
        try:
            case = station_case(database, model, args)
        except Exception as err:  # noqa: BLE001 - reported, the other cases still run
            out[model] = {"error": f"{type(err).__name__}: {err}"}
            continue
        if model == "mclp":
            mclp = case.pop("_result")
        else:
            case.pop("_result")
        out[model] = case
        print(json.dumps({model: case}, ensure_ascii=False), flush=True)
    if "whatif" not in skip:
        plan = mclp or {"kind": "stations", "sites": []}
        out["whatif"] = whatif_case(database, plan, args)
        out["whatif"]["plan"] = "the MCLP plan's sites" if mclp else "no sites (MCLP failed)"
    database.dispose()
    out["load_average_at_end"] = os.getloadavg()
    out["uptime_at_end"] = uptime()
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
