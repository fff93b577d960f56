"""Command and dispatch benchmark on the demo city.

1. Recommendation for a new incident (~100 stations, ~500 vehicles, 250,000-node roads):
   p50/p99 of the engine call (units preloaded) and of the full service call (plan + units
   read from the database + engine), against a networkx-per-call baseline on the same graph
   (one Dijkstra per call on the reverse graph from the incident, then the same optimal
   assignment) — the baseline's answers are checked equal.
   The service call is what the API handler does: the warm engine (stamp checked), the plan
   and the available units (cached, stamp checked), then the engine.
2. A year of calls (60,000) generated and replayed through intake -> recommendation ->
   dispatch -> simulated unit moves -> close, committed in batches.

Usage::

    python bench/bench_dispatch.py --db sqlite:////tmp/fg-bench/dispatch.db --workdir /tmp/fg-bench
    python bench/bench_dispatch.py --db postgresql://postgres@127.0.0.1:5432/fg_bench_dispatch
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, func, select, text

from firegrid.core.db import Database
from firegrid.core.settings import Settings, normalise_database_url
from firegrid.dispatch.models import Station, Vehicle
from firegrid.dispatch.plans import PlanBook, plan_for
from firegrid.dispatch.recommend import (
    available_units,
    load_units,
    recommend_units,
    select_units,
)
from firegrid.places.models import Venue

CASES = [
    ("building_fire", "high_rise_office", 2),
    ("building_fire", "", 1),
    ("building_fire", "factory_large", 2),
    ("building_fire", "", 3),
    ("rescue", "", 1),
    ("hazmat", "", 2),
    ("outdoor_fire", "", 1),
    ("social_assistance", "", 1),
]


def pct(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values)
    return {
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p90": round(float(np.percentile(arr, 90)), 3),
        "p99": round(float(np.percentile(arr, 99)), 3),
        "max": round(float(arr.max()), 3),
        "n": len(values),
    }


def ensure_pg_database(url: str) -> None:
    url = normalise_database_url(url)
    if not url.startswith("postgresql"):
        return
    base, name = url.rsplit("/", 1)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}
        ).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def build_city(settings: Settings) -> dict[str, Any]:
    from firegrid.demo.run import build_demo

    started = time.perf_counter()
    result = build_demo(settings, seed=7, log=False)
    return {"built": result.get("built"), "seconds": round(time.perf_counter() - started, 1)}


def bench_recommend(database: Database, settings: Settings, n: int, baseline_n: int) -> dict:
    from firegrid.geo.service import geo_context

    t0 = time.perf_counter()
    engine = geo_context(database, settings).engine
    warm_s = time.perf_counter() - t0
    rng = np.random.default_rng(11)
    with database.session() as session:
        book = PlanBook.load(session)
        venues = session.execute(select(Venue.lon, Venue.lat)).all()
        stations = session.scalar(select(func.count(Station.id)))
        vehicles = session.scalar(select(func.count(Vehicle.id)))
        units = load_units(session, "/")
    pick = rng.choice(len(venues), size=n, replace=False)
    points = [(float(venues[i].lon), float(venues[i].lat)) for i in pick]
    engine_ms: list[float] = []
    full_ms: list[float] = []
    for k, (lon, lat) in enumerate(points):
        kind, category, level = CASES[k % len(CASES)]
        plan = book.match(kind, category, level)
        t = time.perf_counter()
        recommend_units(engine, plan, units, lon, lat)
        engine_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()  # what the API handler does, HTTP aside
        warm = geo_context(database, settings).engine
        with database.session() as session:
            plan = plan_for(session, kind, category, level)
            fresh = available_units(session, "/")
        recommend_units(warm, plan, fresh, lon, lat)
        full_ms.append((time.perf_counter() - t) * 1000)
    # networkx baseline on the same graph, same rule; answers compared
    import networkx as nx

    net = engine.network
    t = time.perf_counter()
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(
        zip(net.edge_dst.tolist(), net.edge_src.tolist(), net.travel_time_s.tolist(), strict=True),
        weight="time",
    )  # reversed: one search from the incident gives every origin's time to it
    build_graph_s = time.perf_counter() - t
    fs = engine.facilities("stations")
    station_node = {sid: int(fs.nodes[i]) for sid, i in fs.index_of.items()}
    station_leg = {sid: float(fs.leg_time_s[i]) for sid, i in fs.index_of.items()}
    base_ms: list[float] = []
    equal = 0
    for k, (lon, lat) in enumerate(points[:baseline_n]):
        kind, category, level = CASES[k % len(CASES)]
        plan = book.match(kind, category, level)
        t = time.perf_counter()
        snapped = engine.snap(lon, lat)
        node, leg = int(snapped.node[0]), float(snapped.leg_time_s[0])
        dist = nx.single_source_dijkstra_path_length(graph, node, weight="time")
        eta = np.asarray(
            [
                station_leg[u.station_id] + dist.get(station_node[u.station_id], np.inf) + leg
                for u in units
            ]
        )
        pairs, _ = select_units(plan.requirements, units, eta)
        base_ms.append((time.perf_counter() - t) * 1000)
        ours = recommend_units(engine, plan, units, lon, lat)
        equal += int(sorted(units[i].id for _, i in pairs) == sorted(ours.vehicle_ids))
    return {
        "stations": stations,
        "vehicles": vehicles,
        "road_nodes": net.n_nodes,
        "road_edges": net.n_edges,
        "engine_warm_s": round(warm_s, 1),
        "recommend_engine_ms": pct(engine_ms),
        "recommend_service_ms": pct(full_ms),
        "networkx_baseline_ms": pct(base_ms),
        "networkx_graph_build_s": round(build_graph_s, 1),
        "baseline_equal": f"{equal}/{len(base_ms)}",
    }


def bench_replay(
    database: Database, settings: Settings, workdir: Path, count: int, batch: int
) -> dict[str, Any]:
    from firegrid.dispatch.generate import generate_records, load_points, write_jsonl
    from firegrid.dispatch.replay import replay_file

    out = workdir / f"calls-{count}.jsonl"
    t = time.perf_counter()
    gen = write_jsonl(generate_records(load_points(database), count, seed=1, year=2025), out)
    gen_s = time.perf_counter() - t
    with database.engine.begin() as conn:  # a re-run starts from a clean board
        for table in (
            "dispatch_notifications",
            "aid_requests",
            "incident_timeline",
            "incident_units",
            "vehicle_status_log",
            "calls",
            "incidents",
        ):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("UPDATE vehicles SET status='available_in_station', incident_id=NULL"))
    t = time.perf_counter()
    result = replay_file(database, settings, out, seed=1, batch=batch)
    result["wall_s"] = round(time.perf_counter() - t, 1)
    with database.session() as session:
        rows = {
            name: session.scalar(text(f"SELECT count(*) FROM {name}"))
            for name in (
                "incidents",
                "calls",
                "incident_timeline",
                "incident_units",
                "vehicle_status_log",
            )
        }
    return {"generate_s": round(gen_s, 1), "generated": gen, "replay": result, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--workdir", default="/tmp/fg-bench-dispatch")
    parser.add_argument("--count", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--recommend-n", type=int, default=1000)
    parser.add_argument("--baseline-n", type=int, default=30)
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--skip-recommend", action="store_true")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    ensure_pg_database(args.db)
    settings = Settings(env="test", database_url=args.db, data_dir=workdir / "data")
    out: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}, Python "
        f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}",
        "db": Database(args.db).engine.dialect.name,
    }
    out["build"] = build_city(settings)
    database = Database(args.db)
    if not args.skip_recommend:
        out["recommend"] = bench_recommend(database, settings, args.recommend_n, args.baseline_n)
        print(json.dumps(out, indent=1), flush=True)
    if not args.skip_replay:
        out["replay"] = bench_replay(database, settings, workdir, args.count, args.batch)
    database.dispose()
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
