"""Warm start of the API: the first unit recommendation after a restart.

Runs real ``firegrid serve`` processes on the demo city (synthetic: ~100 stations,
~500 vehicles, a generated 250,000-node road network; built by the script into an empty
database) and measures, per start:

* ``ready_s``: from spawning the process until ``/readyz`` answers 200;
* ``engine_s``: the engine load inside the process (``/healthz``'s engine.seconds);
* ``first_ms``: the first ``GET /api/v1/recommendations`` (a level-2 building fire at a
  random venue), then ``second_ms`` for the next one.

Scenarios, in one run:

1. **peer — before (build on first use)**: ``FIREGRID_WARM_ENGINE=false`` and no station
   trees cache: the first request builds the engine and the ~100 station trees;
2. **first start ever**: warm start, no station trees cache yet (computed, then saved);
3. **restart** (``--restarts`` times): warm start with the cache; target first_ms ≤ 200.

Usage::

    python bench/bench_warm_start.py --workdir /tmp/fg-bench-warm
    python bench/bench_warm_start.py --db postgresql://postgres@127.0.0.1:5432/fg_bench_warm
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select, text

from firegrid.core.db import Database
from firegrid.core.settings import Settings, normalise_database_url
from firegrid.places.models import Venue

TARGET_FIRST_MS = 200.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_pg_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    base, name = url.rsplit("/", 1)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name})
        if not found.first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def ensure_city(settings: Settings) -> dict[str, Any]:
    from firegrid.demo.run import build_demo

    started = time.perf_counter()
    result = build_demo(settings, seed=7, log=False)
    return {"built": result.get("built"), "seconds": round(time.perf_counter() - started, 1)}


def api_key(database: Database, city_code: str) -> str:
    from firegrid.accounts.principal import system_principal
    from firegrid.accounts.service import create_api_key

    with database.session() as session:
        new = create_api_key(
            session,
            system_principal("bench"),
            name=f"warm-start bench {time.time():.0f}",
            role="dispatcher",
            scope_code=city_code,
            routes=["/api/v1/recommendations"],
        )
    return new.secret


def venue_points(database: Database, n: int, seed: int) -> list[tuple[float, float]]:
    with database.session() as session:
        rows = session.execute(select(Venue.lon, Venue.lat).limit(20_000)).all()
    rng = random.Random(seed)
    return [(float(lon), float(lat)) for lon, lat in rng.sample(rows, n)]


def drop_station_trees(data_dir: Path) -> int:
    found = list((data_dir / "roads").glob("stations-*.npz"))
    for path in found:
        path.unlink()
    return len(found)


def one_start(
    url: str, data_dir: Path, key: str, points: list[tuple[float, float]], *, warm: bool
) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "FIREGRID_DATA_DIR": str(data_dir),
        "FIREGRID_WARM_ENGINE": "true" if warm else "false",
        "FIREGRID_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "firegrid.cli", "serve", "--db", url, "--port", str(port)]
    command.append("--no-migrate")
    t0 = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            deadline = time.perf_counter() + 300
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        process.stderr.read().decode()[-2000:] if process.stderr else ""
                    )
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.perf_counter() > deadline:
                    raise TimeoutError("not ready after 300 s")
                time.sleep(0.05)
            ready_s = time.perf_counter() - t0
            engine = client.get("/healthz").json()["engine"]
            headers = {"X-API-Key": key}
            times = []
            for lon, lat in points[:2]:
                t1 = time.perf_counter()
                response = client.get(
                    "/api/v1/recommendations",
                    params={"lon": lon, "lat": lat, "incident_type": "building_fire", "level": 2},
                    headers=headers,
                )
                times.append((time.perf_counter() - t1) * 1000)
                response.raise_for_status()
                units = len(response.json()["units"])
    finally:
        process.terminate()
        process.wait(30)
    return {
        "warm": warm,
        "ready_s": round(ready_s, 2),
        "engine_state": engine["state"],
        "engine_s": engine["seconds"],
        "first_ms": round(times[0], 1),
        "second_ms": round(times[1], 1),
        "units_recommended": units,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="database URL (default: SQLite in the workdir)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fg-bench-warm"))
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    data_dir = args.workdir / "data"
    url = normalise_database_url(args.db or f"sqlite:///{args.workdir / 'warm.db'}")
    ensure_pg_database(url)
    settings = Settings(env="development", database_url=url, data_dir=data_dir)
    city = ensure_city(settings)
    database = Database(url)
    key = api_key(database, settings.city_code)
    points = venue_points(database, 2 * (args.restarts + 2), args.seed)
    database.dispose()

    runs: dict[str, Any] = {}
    drop_station_trees(data_dir)
    runs["before_build_on_first_use"] = one_start(url, data_dir, key, points[0:2], warm=False)
    drop_station_trees(data_dir)
    runs["first_start_no_cache"] = one_start(url, data_dir, key, points[2:4], warm=True)
    runs["restarts"] = [
        one_start(url, data_dir, key, points[4 + 2 * i : 6 + 2 * i], warm=True)
        for i in range(args.restarts)
    ]
    worst_first = max(r["first_ms"] for r in runs["restarts"])
    print(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "database": url.split("://")[0],
                "machine": f"{os.cpu_count()} cores, {platform.python_version()}, "
                f"load average {os.getloadavg()[0]:.1f}",
                "city": city,
                **runs,
                "restart_first_ms_worst": worst_first,
                "target_first_ms": TARGET_FIRST_MS,
                "met": worst_first <= TARGET_FIRST_MS,
                "peer_first_ms": runs["before_build_on_first_use"]["first_ms"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
