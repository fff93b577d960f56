"""Regenerate the inspection plans of every grid of the demo city (goal ≤ 30 s for 2,952).

    python bench/bench_inspection_plans.py --db sqlite:////path/demo.db
    python bench/bench_inspection_plans.py --build /tmp/plans-bench   # builds the demo city

Plans are derived (nothing is stored): one regeneration reads the venues, the last
inspection per venue, the latest risk grades and the monitoring centre's colours, applies
the rules and builds every grid's due list. Also times the JSON summary the CLI prints.
The demo city is synthetic (Dongguan-shaped, seeded): it shows the cost at city scale, not
how many visits a real city would have due.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from firegrid.accounts.public import system_principal
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.inspections.plans import compute_plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="database URL of a built demo city")
    parser.add_argument("--build", type=Path, help="build the demo city into this directory")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.build:
        from firegrid.demo.run import build_demo

        args.build.mkdir(parents=True, exist_ok=True)
        args.db = f"sqlite:///{args.build / 'demo.db'}"
        build_demo(Settings(database_url=args.db, data_dir=args.build / "data"), log=False)
    if not args.db:
        parser.error("give --db URL or --build DIR")
    database = Database(args.db)
    principal = system_principal("bench")
    totals_s: list[float] = []
    summaries_s: list[float] = []
    grids = venues = due = 0
    for _ in range(args.repeat):
        started = time.perf_counter()
        with database.session() as session:
            plans = compute_plans(session, principal, utcnow())
        computed = time.perf_counter()
        summaries = [plans[code].summary() for code in sorted(plans)]
        done = time.perf_counter()
        totals_s.append(done - started)
        summaries_s.append(done - computed)
        grids = len(plans)
        venues = sum(s["venues"] for s in summaries)
        due = sum(len(s["due"]) for s in summaries)
    database.dispose()
    print(f"backend            {args.db.split(':', 1)[0]}")
    print(f"machine            {platform.machine()}, {os.cpu_count()} cores (shared)")
    print(f"grids              {grids}")
    print(f"venues             {venues}")
    print(f"due or overdue     {due}")
    print(
        f"regenerate all     median {statistics.median(totals_s):.2f} s, "
        f"max {max(totals_s):.2f} s over {len(totals_s)} runs (goal <= 30 s)"
    )
    print(f"  of which lists   median {statistics.median(summaries_s):.2f} s")


if __name__ == "__main__":
    main()
