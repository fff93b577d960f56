"""Time the demo city build: generation and writing, per phase, on SQLite and PostgreSQL.

    python bench/bench_demo.py                 # default Dongguan-sized city, SQLite + PG
    python bench/bench_demo.py --scale 20      # 1 M venues
    python bench/bench_demo.py --no-postgres

PostgreSQL is used when reachable at FIREGRID_TEST_PG_ADMIN (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres); a throw-away database is created
and dropped.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from firegrid.core.db import Database
from firegrid.core.migrate import upgrade
from firegrid.demo import DemoSpec, build_demo_city, demo_road_network

PG_ADMIN_URL = os.environ.get(
    "FIREGRID_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'demo.db'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    name = f"firegrid_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_reachable() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means PostgreSQL is not usable here
        return False


def run(label: str, url: str, spec: DemoSpec, seed: int, network_reuse: bool) -> float:
    upgrade(url)
    database = Database(url)
    timings: dict[str, float] = {}
    network = demo_road_network(spec, seed) if network_reuse else None
    start = time.perf_counter()
    counts = build_demo_city(database, spec, seed, network=network, timings=timings)
    total = time.perf_counter() - start
    database.dispose()
    generate = sum(v for k, v in timings.items() if k.startswith("generate."))
    write = sum(v for k, v in timings.items() if k.startswith("write."))
    print(f"\n== {label}: total {total:.2f} s (generate {generate:.2f} s, write {write:.2f} s)")
    for key, seconds in timings.items():
        print(f"  {key:32s} {seconds:7.2f} s")
    print("  counts: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="venues/hydrants multiplier")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--reuse-network", action="store_true", help="generate the road network outside the timing"
    )
    args = parser.parse_args()
    spec = DemoSpec().scaled(args.scale) if args.scale != 1.0 else DemoSpec()
    print(
        f"demo city bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"scale {args.scale:g}, seed {args.seed}"
    )
    if not args.no_sqlite:
        with sqlite_url() as url:
            run("SQLite", url, spec, args.seed, args.reuse_network)
    if not args.no_postgres:
        if postgres_reachable():
            with postgres_url() as url:
                run("PostgreSQL", url, spec, args.seed, args.reuse_network)
        else:
            print("\nPostgreSQL not reachable: skipped")


if __name__ == "__main__":
    main()
