"""Cost of the road-network door check for facilities (issue #24), beside the city check.

Run: ``python bench/bench_geo_facilities.py [--nodes 250000] [--checks 2000]``.

A synthetic city (one square grid, a generated network of ``--nodes`` nodes, stored in a
temporary SQLite database with its array cache) is built; then it times:

* the first check after a network change, which builds the node index — from the array
  cache (the usual case: the network was just saved or loaded) and from the rows;
* a warm check (``check_on_network``) per facility, beside ``resolve_point`` (the city
  outline and grid lookup every located row already paid): the floor it is compared with;
* the engine's skip test (``split_reachable``) for 100 stations, one of them in Beijing.

The data is synthetic. Measured figures go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from shapely.geometry import box, mapping


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=250_000)
    parser.add_argument("--checks", type=int, default=2000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="firegrid-bench-door-"))
    os.environ["FIREGRID_DATA_DIR"] = str(work / "data")
    from firegrid.core.db import Database
    from firegrid.core.migrate import upgrade
    from firegrid.core.settings import get_settings
    from firegrid.geo import facilities
    from firegrid.geo.engine import TravelTimeEngine
    from firegrid.geo.generate import generate_city_network
    from firegrid.geo.store import cache_path, save_network
    from firegrid.places.crs import Crs
    from firegrid.places.models import Jurisdiction
    from firegrid.places.service import resolve_point

    get_settings.cache_clear()
    url = f"sqlite:///{work / 'bench.db'}"
    upgrade(url)
    db = Database(url)
    outline = box(113.5, 22.7, 114.2, 23.1)  # about 72 km x 44 km (synthetic)
    with db.session() as session:
        city = Jurisdiction(
            code="900000",
            level="city",
            path="/900000/",
            name_zh="c",
            name_en="c",
            center_lon=113.85,
            center_lat=22.9,
            boundary=mapping(outline),
        )
        session.add(city)
        session.flush()
        session.add(
            Jurisdiction(
                code="90000001",
                level="grid",
                parent_id=city.id,
                path="/900000/90000001/",
                name_zh="g",
                name_en="g",
                center_lon=113.85,
                center_lat=22.9,
                boundary=mapping(outline),
            )
        )
    t = time.perf_counter()
    network = generate_city_network(outline, 7, args.nodes)
    generate_s = time.perf_counter() - t
    saved = save_network(db, network, source="bench", cache_dir=get_settings().data_dir)
    rng = np.random.default_rng(1)
    pick = rng.integers(0, network.n_nodes, args.checks)
    lon = np.clip(
        network.node_lon[pick] + rng.uniform(-0.001, 0.001, args.checks), 113.501, 114.199
    )
    lat = np.clip(network.node_lat[pick] + rng.uniform(-0.001, 0.001, args.checks), 22.701, 23.099)

    def cold(from_cache: bool) -> float:
        facilities._indexes.clear()
        path = cache_path(get_settings().data_dir, saved["checksum"])
        if not from_cache and path.exists():
            path.rename(path.with_suffix(".off"))
        with db.session() as session:
            start = time.perf_counter()
            facilities.check_on_network(session, "station", "B0", float(lon[0]), float(lat[0]))
            elapsed = time.perf_counter() - start
        if not from_cache:
            path.with_suffix(".off").rename(path)
        return elapsed

    cold_cache_s = min(cold(True) for _ in range(3))
    cold_rows_s = min(cold(False) for _ in range(3))

    def per_call(fn: object) -> list[float]:
        out = []
        with db.session() as session:
            for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
                start = time.perf_counter()
                fn(session, x, y)  # type: ignore[operator]
                out.append((time.perf_counter() - start) * 1e6)
        return out

    door = per_call(lambda s, x, y: facilities.check_on_network(s, "station", "B", x, y))
    floor = per_call(lambda s, x, y: resolve_point(s, x, y, Crs.WGS84, "station B"))

    engine = TravelTimeEngine(network)
    stations = [
        facilities.FacilityPoint("station", i, f"S{i:03d}", float(lon[i]), float(lat[i]))
        for i in range(99)
    ] + [facilities.FacilityPoint("station", 99, "S-BJ", 116.397, 39.908)]
    times = []
    for _ in range(50):
        start = time.perf_counter()
        keep, skipped = facilities.split_reachable(engine, stations)
        times.append((time.perf_counter() - start) * 1e6)
    assert len(keep) == 99
    assert [s.code for s in skipped] == ["S-BJ"]
    db.dispose()

    def summary(values: list[float]) -> str:
        ordered = sorted(values)
        return (
            f"median {statistics.median(ordered):.0f} µs, "
            f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.0f} µs"
        )

    print(
        json.dumps(
            {
                "machine": f"{os.cpu_count()} cores, {platform.platform()}, "
                f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}",
                "network_nodes": network.n_nodes,
                "generate_s": round(generate_s, 1),
                "first_check_from_array_cache_s": round(cold_cache_s, 3),
                "first_check_from_rows_s": round(cold_rows_s, 3),
                f"warm_check_on_network_{args.checks}_calls": summary(door),
                f"resolve_point_{args.checks}_calls (floor: the existing city check)": summary(
                    floor
                ),
                "split_reachable_100_stations": summary(times),
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
