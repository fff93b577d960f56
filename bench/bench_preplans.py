"""Time the first-due sheet on the demo city: HTML (target ≤ 300 ms) and PDF (≤ 2 s).

    python bench/bench_preplans.py --db sqlite:////path/demo.db --data-dir /path/data
    python bench/bench_preplans.py --build /tmp/preplans-bench   # builds the demo city first

Each sample is one whole sheet as the API/CLI make it: read the plan, the venue's devices
and open alarms, hydrants within 150 m by road (geo), the route from the first-due station,
then render. The engine is warmed once first (the API warms it at start-up) and timed
separately. For reference the same run times the crew page's old straight-line hydrant
query (``dispatch.crew_api.preplan``), the "peer" the plan's by-road hydrants replace.
The demo city is synthetic (Dongguan-shaped, seeded): it shows the cost per sheet on a
city of that size, not the content of a real plan.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.crew_api import preplan as straight_line_preplan
from firegrid.dispatch.incident_models import Incident
from firegrid.geo.service import geo_context
from firegrid.places.models import Venue
from firegrid.preplans import live, service, sheet
from firegrid.preplans.models import Preplan


def _stats(values_ms: list[float]) -> str:
    arr = np.asarray(values_ms)
    return (
        f"median {statistics.median(values_ms):.1f} ms, p95 {np.percentile(arr, 95):.1f} ms, "
        f"max {arr.max():.1f} ms (n={len(values_ms)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="database URL of a built demo city")
    parser.add_argument("--data-dir", type=Path, help="its data directory (road cache)")
    parser.add_argument("--build", type=Path, help="build the demo city into this directory")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.build:
        from firegrid.demo.run import build_demo

        args.build.mkdir(parents=True, exist_ok=True)
        args.db = f"sqlite:///{args.build / 'demo.db'}"
        args.data_dir = args.build / "data"
        started = time.perf_counter()
        build_demo(Settings(database_url=args.db, data_dir=args.data_dir), log=False)
        print(f"demo city built in {time.perf_counter() - started:.1f} s")
    if not args.db:
        parser.error("--db or --build")
    settings = Settings(database_url=args.db, data_dir=args.data_dir or Path("."))
    database = Database(settings.database_url)
    font = sheet.cjk_font(settings.cjk_font)
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()}")
    started = time.perf_counter()
    context = geo_context(database, settings)
    print(f"engine warm-up (once per process): {time.perf_counter() - started:.1f} s")
    with database.session() as session:
        ids = list(session.scalars(select(Preplan.id).order_by(Preplan.id)))
    print(f"plans in the city: {len(ids)}")
    rng = np.random.default_rng(args.seed)
    chosen = rng.choice(ids, size=min(args.samples, len(ids)), replace=False).tolist()
    html_ms: list[float] = []
    pdf_ms: list[float] = []
    peer_ms: list[float] = []
    hydrants: list[int] = []
    pdf_kb: list[float] = []

    def data_of(plan_id: int) -> dict[str, Any]:
        with database.session() as session:
            plan = session.get(Preplan, plan_id)
            assert plan is not None
            venue = session.get(Venue, plan.venue_id)
            assert venue is not None
            return live.live_plan(
                session, plan, venue, context, version=service.published_version(session, plan)
            )

    for plan_id in chosen:
        t0 = time.perf_counter()
        data = data_of(plan_id)
        sheet.render_html(data)
        html_ms.append((time.perf_counter() - t0) * 1000)
        hydrants.append(len(data["hydrants"]))
        t0 = time.perf_counter()
        pdf = sheet.render_pdf(data_of(plan_id), font)
        pdf_ms.append((time.perf_counter() - t0) * 1000)
        pdf_kb.append(len(pdf) / 1024)
        with database.session() as session:
            venue = session.get(Venue, data["venue"]["venue_id"])
            assert venue is not None
            incident = Incident(venue_id=venue.id, lon=venue.lon, lat=venue.lat)
            t0 = time.perf_counter()
            straight_line_preplan(session, incident)
            peer_ms.append((time.perf_counter() - t0) * 1000)
    print(f"sheet HTML (data + render): {_stats(html_ms)}  target ≤ 300 ms")
    print(
        f"sheet PDF (data + render, CJK font subset embedded): {_stats(pdf_ms)}  target ≤ 2000 ms"
    )
    print(f"PDF size: median {statistics.median(pdf_kb):.0f} KB")
    print(f"hydrants by road per sheet: median {statistics.median(hydrants)}, max {max(hydrants)}")
    print(f"peer: crew page's straight-line hydrant query (old preplan): {_stats(peer_ms)}")
    database.dispose()


if __name__ == "__main__":
    main()
