"""Benchmark of the travel-time engine on a generated city, beside networkx and pandana.

Run: ``python bench/bench_geo.py [--nodes 250000]``. The network is generated on the
Dongguan boundary in a child process (so that the memory figure is that of the loaded
engine, not of the generator), cached as ``.npz`` and loaded here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from firegrid.geo.coverage import PointSet, coverage
from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.generate import generate_city_network, load_boundary
from firegrid.geo.network import RoadNetwork

BOUNDARY = os.environ.get("FIREGRID_BOUNDARY")  # a GeoJSON outline; default: packaged city

Row = tuple[str, str, str, str, str]


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size in MiB (Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    current = peak
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024.0
    return current, peak


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall, CPU) seconds of a call: CPU time is what a busy shared machine cannot inflate."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def wall_cpu(samples: list[tuple[float, float]]) -> str:
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    return f"{ms(wall)} ({ms(cpu)} CPU)"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def generate_child(path: Path, nodes: int, seed: int) -> None:
    if BOUNDARY:
        boundary = load_boundary(BOUNDARY)
    else:
        from firegrid.demo.geometry import load_outline

        boundary = load_outline()
    seconds, network = timed(lambda: generate_city_network(boundary, seed, nodes))
    network.save(path)
    print(json.dumps({"seconds": seconds, "nodes": network.n_nodes, "edges": network.n_edges}))


def random_points(network: RoadNetwork, rng: np.random.Generator, n: int) -> np.ndarray:
    """Points near random nodes (up to ~50 m away)."""
    pick = rng.choice(network.n_nodes, n)
    return np.column_stack(
        [
            network.node_lon[pick] + rng.uniform(-4e-4, 4e-4, n),
            network.node_lat[pick] + rng.uniform(-4e-4, 4e-4, n),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--venues", type=int, default=100_000)
    parser.add_argument("--nx-reps", type=int, default=3)
    parser.add_argument("--no-networkx", action="store_true")
    parser.add_argument("--no-pandana", action="store_true")
    parser.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate_child(args.generate_only, args.nodes, args.seed)
        return

    rng = np.random.default_rng(args.seed)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "city.npz"
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--nodes",
                str(args.nodes),
                "--seed",
                str(args.seed),
                "--generate-only",
                str(cache),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        gen = json.loads(child.stdout.strip().splitlines()[-1])
        load_s, network = timed(lambda: RoadNetwork.load(cache))
    print(
        f"network: {network.n_nodes:,} nodes, {network.n_edges:,} directed edges "
        f"(generated in {gen['seconds']:.2f} s, cache loaded in {ms(load_s)})",
        flush=True,
    )
    rows.append(("generate network", "<= 20 s", f"{gen['seconds']:.2f} s", "-", "-"))
    rows.append(("load .npz cache", "< 1 s", ms(load_s), "-", "-"))

    engine_s, engine = timed(lambda: TravelTimeEngine(network))
    stations = random_points(network, rng, args.stations)
    register_s, _ = timed(lambda: engine.register_facilities("stations", stations))
    engine.node_xy_equal_area  # noqa: B018 - warm the cached projection
    rows.append(("engine build (KD-tree, CSR)", "-", ms(engine_s), "-", "-"))
    rows.append((f"register {args.stations} station trees", "-", ms(register_s), "-", "-"))

    # k nearest
    queries = random_points(network, rng, args.queries)
    for lon, lat in queries[:50]:
        engine.k_nearest("stations", lon, lat, k=5)
    lat_s, cpu_s = [], []
    for lon, lat in queries:
        start, cpu = time.perf_counter(), time.process_time()
        engine.k_nearest("stations", lon, lat, k=5)
        lat_s.append(time.perf_counter() - start)
        cpu_s.append(time.process_time() - cpu)
    p50, p99 = np.percentile(lat_s, [50, 99])
    cpu99 = float(np.percentile(cpu_s, 99))
    knn = (
        f"k=5 nearest of {args.stations} (p50 / p99)",
        "p99 <= 2 ms",
        f"{ms(p50)} / {ms(p99)} ({ms(cpu99)} CPU p99)",
    )

    # one-to-all
    one = [
        timed_cpu(lambda p=p: engine.travel_times_from(p[0], p[1]))
        for p in random_points(network, rng, 20)
    ]
    one_to_all = (
        "one-to-all travel times (median; max wall)",
        "<= 60 ms",
        f"{wall_cpu(one)}; {ms(max(o[0] for o in one))}",
    )

    # coverage
    venue_pts = random_points(network, rng, args.venues)
    venues = PointSet(
        "venues",
        venue_pts[:, 0],
        venue_pts[:, 1],
        weight=rng.integers(1, 300, args.venues).astype(float),
        zone=rng.integers(0, 33, args.venues),
    )
    report = coverage(engine, "stations", 300.0, [venues])
    cov_t = timed_cpu(lambda: coverage(engine, "stations", 300.0, [venues]))
    cov = (
        f"5-min coverage, {args.stations} stations (+{args.venues:,} venues, area)",
        "<= 10 s",
        wall_cpu([cov_t]),
    )

    # bounded searches from scratch (what networkx is compared with)
    bounded_t = timed_cpu(
        lambda: sum(
            int(np.isfinite(engine.travel_times_from_node(int(s), limit=300.0)).sum())
            for s in engine.facilities("stations").nodes
        )
    )
    bounded = (
        f"5-min node counts from scratch ({args.stations} bounded searches)",
        "-",
        wall_cpu([bounded_t]),
    )

    # matrix
    origins = random_points(network, rng, 50)
    dests = random_points(network, rng, 2000)
    mat = [timed_cpu(lambda: engine.travel_time_matrix(origins, dests)) for _ in range(3)]
    matrix = ("50 x 2,000 matrix (median of 3)", "<= 1 s", wall_cpu(mat))
    mat_limited = [
        timed_cpu(lambda: engine.travel_time_matrix(origins, dests, limit=600.0)) for _ in range(3)
    ]
    matrix_limited = ("50 x 2,000 matrix, limit=600 s (median of 3)", "-", wall_cpu(mat_limited))

    current, peak = rss_mib()
    memory = (
        "RSS of loaded engine + station trees (now / peak)",
        "<= 1 GiB",
        f"{current:.0f} / {peak:.0f} MiB",
    )

    nx_cells = (
        run_networkx(network, engine, queries, origins, dests, args)
        if not (args.no_networkx)
        else {}
    )
    pd_cells = (
        run_pandana(network, engine, origins, dests, stations)
        if not (args.no_pandana)
        else {"note": "pandana: skipped"}
    )

    for key, row in (
        ("knn", knn),
        ("one", one_to_all),
        ("cov", cov),
        ("bounded", bounded),
        ("matrix", matrix),
        ("matrix_limited", matrix_limited),
        ("memory", memory),
    ):
        rows.append((*row, nx_cells.get(key, "-"), pd_cells.get(key, "-")))

    print()
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M UTC}; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}; "
        f"load average {os.getloadavg()[0]:.1f} at the end (shared machine)"
    )
    print(
        f"coverage check: {report.combined.nodes_reached:,} nodes, "
        f"{report.combined.road_length_km:,.0f} km of road, {report.combined.area_km2:,.0f} km²"
        f" within 5 min of any station"
    )
    header = ("measure", "target", "firegrid", "networkx", "pandana")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    for note in (nx_cells.get("note"), pd_cells.get("note")):
        if note:
            print(note)


def run_networkx(
    network: RoadNetwork,
    engine: TravelTimeEngine,
    queries: np.ndarray,
    origins: np.ndarray,
    dests: np.ndarray,
    args: argparse.Namespace,
) -> dict[str, str]:
    import networkx as nx

    before, _ = rss_mib()
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(
        zip(
            network.edge_src.tolist(),
            network.edge_dst.tolist(),
            network.travel_time_s.tolist(),
            strict=True,
        ),
        weight="time",
    )
    after, _ = rss_mib()
    reverse = graph.reverse(copy=False)
    station_nodes = set(engine.facilities("stations").nodes.tolist())
    reps = args.nx_reps

    def knn(lon: float, lat: float) -> list[float]:
        node = int(engine.snap(lon, lat).node[0])
        times = nx.single_source_dijkstra_path_length(reverse, node, weight="time")
        return sorted(t for n, t in times.items() if n in station_nodes)[:5]

    knn_t = [timed_cpu(lambda q=q: knn(q[0], q[1])) for q in queries[:reps]]
    one_t = [
        timed_cpu(
            lambda q=q: nx.single_source_dijkstra_path_length(
                graph, int(engine.snap(q[0], q[1]).node[0]), weight="time"
            )
        )
        for q in queries[:reps]
    ]

    def cov() -> int:
        return sum(
            len(nx.single_source_dijkstra_path_length(graph, int(s), cutoff=300.0, weight="time"))
            for s in engine.facilities("stations").nodes
        )

    cov_t = timed_cpu(cov)
    dest_nodes = engine.snap(dests[:, 0], dests[:, 1]).node.tolist()

    def row(o: np.ndarray) -> list[float]:
        times = nx.single_source_dijkstra_path_length(
            graph, int(engine.snap(o[0], o[1]).node[0]), weight="time"
        )
        return [times.get(d, np.inf) for d in dest_nodes]

    mat_t = [timed_cpu(lambda o=o: row(o)) for o in origins[:reps]]
    mat_wall = statistics.median(t[0] for t in mat_t) * 50
    mat_cpu = statistics.median(t[1] for t in mat_t) * 50
    return {
        "knn": f"{wall_cpu(knn_t)}, full reverse search, {reps} reps",
        "one": f"{wall_cpu(one_t)}, {reps} reps",
        "bounded": wall_cpu([cov_t]),
        "matrix": f"~{mat_wall:.0f} s (~{mat_cpu:.0f} s CPU), {reps} of 50 rows x 50",
        "memory": f"DiGraph alone +{after - before:.0f} MiB",
    }


def run_pandana(
    network: RoadNetwork,
    engine: TravelTimeEngine,
    origins: np.ndarray,
    dests: np.ndarray,
    stations: np.ndarray,
) -> dict[str, str]:
    try:
        import pandana
        import pandas as pd
    except ImportError as err:
        return {"note": f"pandana: unavailable ({type(err).__name__}: {err})"}
    nodes = pd.DataFrame({"x": network.node_lon, "y": network.node_lat})
    weights = pd.DataFrame({"time": network.travel_time_s})
    before, _ = rss_mib()
    build_s, net = timed(
        lambda: pandana.Network(
            nodes["x"],
            nodes["y"],
            pd.Series(network.edge_src),
            pd.Series(network.edge_dst),
            weights,
            twoway=False,
        )
    )
    after, _ = rss_mib()
    o = engine.snap(origins[:, 0], origins[:, 1]).node
    d = engine.snap(dests[:, 0], dests[:, 1]).node
    a = np.repeat(o, len(d))
    b = np.tile(d, len(o))
    mat_s, lengths = timed(lambda: net.shortest_path_lengths(a, b, imp_name="time"))
    ours = engine.node_matrix(o, d).ravel()
    agree = np.allclose(np.asarray(lengths, dtype=float), ours, rtol=1e-3)
    one_s, _ = timed(lambda: net.nodes_in_range([int(o[0])], 1e9, imp_name="time"))
    net.set_pois("stations", 3600.0, 5, pd.Series(stations[:, 0]), pd.Series(stations[:, 1]))
    knn_s, _ = timed(lambda: net.nearest_pois(3600.0, "stations", num_pois=5))
    n = network.n_nodes
    return {
        "knn": f"{ms(knn_s / n)} per node (nearest_pois, all {n:,} nodes in {knn_s:.1f} s)",
        "one": f"{ms(one_s)} (nodes_in_range, unbounded)",
        "matrix": f"{mat_s:.2f} s (CH, 100k pair queries; equal to ours: {agree})",
        "memory": f"+{after - before:.0f} MiB",
        "note": f"pandana {pandana.__version__}: contraction hierarchy built in {build_s:.1f} s",
    }


if __name__ == "__main__":
    main()
