"""Import a SYNTHETIC 6.21 M-row standard-address register, then geocode against it.

    python bench/bench_import_addresses.py                       # 6,210,000 rows, both databases
    python bench/bench_import_addresses.py --rows 200000 --db sqlite --json

Goals (issue #18): the import ≤ 10 min on SQLite and on PostgreSQL with peak memory ≤ 1 GB;
geocode p99 ≤ 20 ms on that register.

The register is synthetic, labelled so in its file name: Dongguan-like — the demo city's 33
towns, village names and road names (``firegrid.demo``), 18 villages per town, 5 grids per
village; each grid has three roads, house numbers, and per number a base address plus
buildings, units and rooms (``…路15号2栋1单元301房``). Every row is a pure function of its
index, so the geocoder's queries are drawn from the same rows without keeping the file.

Each import runs in its own process (``firegrid import addresses FILE`` as the CLI runs it)
and reports its own peak RSS (``getrusage``); the wall time includes reading, checking,
staging and writing. Geocoding: 1,000 queries drawn at random from the register, written
four ways (with the city prefix, without the village, full-width digits, with spaces), each
timed alone on one warm session.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_ROWS = 6_210_000
TOWNS_CSV = Path(__file__).resolve().parents[1] / "src/firegrid/demo/data/dongguan-towns.csv"
VILLAGES_PER_TOWN = 18
GRIDS_PER_VILLAGE = 5
ROADS_PER_GRID = 3
PER_NUMBER = 100  # base address + 3 buildings x (building address + 2 units x 16 rooms)
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_NAME = "firegrid_bench_addresses"
HEADER = [
    "code",
    "town",
    "village",
    "road",
    "number",
    "building",
    "unit",
    "room",
    "full_text",
    "lon",
    "lat",
    "jurisdiction_code",
]


@dataclass(frozen=True)
class Town:
    code: str
    name: str
    lon: float
    lat: float
    roads: list[str]


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    town: int
    roads: list[str]


class Register:
    """The synthetic register: row ``i`` computed from ``i`` (no state per row)."""

    def __init__(self, rows: int, seed: int = 7) -> None:
        from firegrid.demo.jurisdictions import short_town_name
        from firegrid.demo.names import town_roads, village_names

        rng = np.random.default_rng(seed)
        with TOWNS_CSV.open(encoding="utf-8") as handle:
            seeds = list(csv.DictReader(handle))
        self.towns = [
            Town(
                f"441900{int(s['code']):03d}",
                s["name_zh"],
                float(s["lon"]),
                float(s["lat"]),
                town_roads(rng, short_town_name(s["name_zh"])),
            )
            for s in seeds
        ]
        stems = village_names(rng, len(self.towns) * VILLAGES_PER_TOWN)
        self.villages: list[Village] = []
        for t, town in enumerate(self.towns):
            for v in range(VILLAGES_PER_TOWN):
                stem = stems[t * VILLAGES_PER_TOWN + v][0]
                roads = [town.roads[(v * 2 + k) % len(town.roads)] for k in range(ROADS_PER_GRID)]
                self.villages.append(
                    Village(
                        f"{town.code}{v + 1:03d}",
                        stem + ("社区" if v % 2 else "村"),
                        t,
                        roads,
                    )
                )
        self.grids = len(self.villages) * GRIDS_PER_VILLAGE
        self.rows = rows
        self.quota = math.ceil(rows / self.grids)  # rows per grid
        self.numbers_per_road = math.ceil(self.quota / (PER_NUMBER * ROADS_PER_GRID))

    def grid_code(self, grid: int) -> str:
        village = self.villages[grid // GRIDS_PER_VILLAGE]
        return f"{village.code}{grid % GRIDS_PER_VILLAGE + 1:02d}"

    def row(self, i: int) -> list[Any]:
        grid, within = divmod(i, self.quota)
        village = self.villages[grid // GRIDS_PER_VILLAGE]
        town = self.towns[village.town]
        slot, entry = divmod(within, PER_NUMBER)
        road = village.roads[slot % ROADS_PER_GRID]
        base = (grid % GRIDS_PER_VILLAGE) * self.numbers_per_road
        number = str(base + slot // ROADS_PER_GRID + 1)
        building = unit = room = ""
        if entry:
            b, rest = divmod(entry - 1, 33)
            building = str(b + 1)
            if rest:
                u, k = divmod(rest - 1, 16)
                unit, room = str(u + 1), f"{k // 4 + 1}{k % 4 + 1:02d}"
        text = town.name + village.name + road + f"{number}号"
        text += (f"{building}栋" if building else "") + (f"{unit}单元" if unit else "")
        text += f"{room}房" if room else ""
        lon = town.lon + ((grid * 7919) % 1000 - 500) / 25_000 + (within % 97) / 200_000
        lat = town.lat + ((grid * 104729) % 1000 - 500) / 25_000 + (within % 89) / 200_000
        return [
            f"A{i + 1:09d}",
            town.name,
            village.name,
            road,
            number,
            building,
            unit,
            room,
            text,
            round(lon, 6),
            round(lat, 6),
            self.grid_code(grid),
        ]

    def write_csv(self, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for start in range(0, self.rows, 50_000):
                writer.writerows(self.row(i) for i in range(start, min(self.rows, start + 50_000)))

    def jurisdiction_rows(self) -> list[dict[str, Any]]:
        from firegrid.core.clock import utcnow

        now = utcnow()
        common = {"created_at": now, "updated_at": now, "boundary": None, "population": None}
        rows: list[dict[str, Any]] = []
        ids: dict[str, int] = {}

        def add(
            code: str, level: str, parent: str | None, path: str, name: str, lon: float, lat: float
        ) -> None:
            ids[code] = len(rows) + 1
            rows.append(
                {
                    "id": ids[code],
                    "code": code,
                    "level": level,
                    "parent_id": ids[parent] if parent else None,
                    "path": path,
                    "name_zh": name,
                    "name_en": code,
                    "center_lon": lon,
                    "center_lat": lat,
                    **common,
                }
            )

        add("441900", "city", None, "/441900/", "东莞市", 113.75, 23.02)
        for town in self.towns:
            add(town.code, "town", "441900", f"/441900/{town.code}/", town.name, town.lon, town.lat)
        for village in self.villages:
            town = self.towns[village.town]
            vpath = f"/441900/{town.code}/{village.code}/"
            add(village.code, "village", town.code, vpath, village.name, town.lon, town.lat)
            for g in range(GRIDS_PER_VILLAGE):
                code = f"{village.code}{g + 1:02d}"
                add(
                    code,
                    "grid",
                    village.code,
                    f"{vpath}{code}/",
                    f"{village.name}{g + 1}网格",
                    town.lon,
                    town.lat,
                )
        return rows


def fresh_database(kind: str, workdir: Path, rows: int = DEFAULT_ROWS) -> str:
    """An empty, migrated database of ``kind`` (one per size, so runs of different sizes
    do not drop each other's); returns its URL."""
    from sqlalchemy import create_engine, text

    from firegrid.core.migrate import upgrade

    if kind == "sqlite":
        path = workdir / "bench-addresses.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = f"{PG_NAME}_{rows}"
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    return url


def load_jurisdictions(url: str, register: Register) -> None:
    from firegrid.core.bulk import advance_id_sequences, insert_chunks, table_of
    from firegrid.core.db import Database
    from firegrid.places.models import Jurisdiction

    database = Database(url)
    table = table_of(Jurisdiction)
    with database.engine.begin() as connection:
        insert_chunks(connection, table, register.jurisdiction_rows())
        advance_id_sequences(connection, [table])
    database.dispose()


def child_import(url: str, path: Path, copy: bool) -> None:
    """Run in its own process: import the file, print the report and this process's peak RSS."""
    from firegrid.core.db import Database
    from firegrid.places.bulk_import import import_stream

    database = Database(url)
    started = time.perf_counter()
    with path.open("rb") as stream:
        report = import_stream(database, "addresses", stream, "csv", mode="upsert", copy=copy)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    database.dispose()
    cpu = usage.ru_utime + usage.ru_stime
    print(
        json.dumps(
            {"report": report, "wall_s": wall, "cpu_s": cpu, "peak_rss_mib": usage.ru_maxrss / 1024}
        )
    )


def geocode_sample(url: str, register: Register, n: int = 1000) -> dict[str, Any]:
    from sqlalchemy import text

    from firegrid.core.db import Database
    from firegrid.places.geocode import geocode

    rng = random.Random(11)
    picks = [rng.randrange(register.rows) for _ in range(n)]
    database = Database(url)
    timings: list[float] = []
    matched = correct = 0
    with database.session() as session:
        for i in picks[:20]:  # warm the connection and the caches
            geocode(session, register.row(i)[8])
        for k, i in enumerate(picks):
            row = register.row(i)
            query = _variant(row, k)
            started = time.perf_counter()
            result = geocode(session, query)
            timings.append((time.perf_counter() - started) * 1000)
            matched += result.matched
            correct += result.address_code == row[0]
        round_trips = []  # the floor a loaded machine puts under every query (PostgreSQL)
        for _ in range(200):
            started = time.perf_counter()
            session.execute(text("SELECT 1")).all()
            round_trips.append((time.perf_counter() - started) * 1000)
    database.dispose()
    timings.sort()
    round_trips.sort()
    return {
        "select1_p50_ms": round(statistics.median(round_trips), 2),
        "select1_p99_ms": round(round_trips[int(0.99 * (len(round_trips) - 1))], 2),
        "queries": n,
        "p50_ms": round(statistics.median(timings), 2),
        "p99_ms": round(timings[int(0.99 * (n - 1))], 2),
        "max_ms": round(timings[-1], 2),
        "matched": matched,
        "correct": correct,
    }


def _variant(row: list[Any], k: int) -> str:
    text = str(row[8])
    if k % 4 == 0:
        return "广东省东莞市" + text
    if k % 4 == 1:
        return text.replace(str(row[2]), "", 1)  # without the village
    if k % 4 == 2:
        return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return " ".join([str(row[1]), text[len(str(row[1])) :]])


def run(kind: str, register: Register, csv_path: Path, workdir: Path, copy: bool) -> dict[str, Any]:
    url = fresh_database(kind, workdir, register.rows)
    load_jurisdictions(url, register)
    command = [sys.executable, __file__, "--child-import", url, str(csv_path)]
    if not copy:
        command.append("--no-copy")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    child = json.loads(output.strip().splitlines()[-1])
    report = child["report"]
    result = {
        "db": kind,
        "rows": report["rows"],
        "created": report["created"],
        "import_wall_s": round(child["wall_s"], 1),
        "import_cpu_s": round(child["cpu_s"], 1),  # this process only (the server's is apart)
        "rows_per_s": round(report["rows"] / child["wall_s"]),
        "peak_rss_mib": round(child["peak_rss_mib"], 1),
        "stage": "copy" if copy and kind == "postgres" else "executemany",
        "geocode": geocode_sample(url, register),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/firegrid-bench-addresses"))
    parser.add_argument(
        "--no-copy", action="store_true", help="PostgreSQL: stage with executemany, not COPY"
    )
    parser.add_argument("--geocode-only", metavar="URL", help="only geocode against URL")
    parser.add_argument("--child-import", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.geocode_only:  # the register of that size is already loaded
        print(json.dumps(geocode_sample(args.geocode_only, Register(args.rows)), indent=2))
        return
    if args.child_import:
        child_import(args.child_import[0], Path(args.child_import[1]), copy=not args.no_copy)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    register = Register(args.rows)
    csv_path = args.workdir / f"synthetic-standard-addresses-{args.rows}.csv"
    started = time.perf_counter()
    if not csv_path.exists():
        register.write_csv(csv_path)
    generated_s = time.perf_counter() - started
    results: dict[str, Any] = {
        "synthetic": True,
        "rows": args.rows,
        "grids": register.grids,
        "csv_mib": round(csv_path.stat().st_size / 2**20, 1),
        "csv_generated_s": round(generated_s, 1),
        "load_before": os.getloadavg(),
        "runs": [],
    }
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        outcome = run(kind, register, csv_path, args.workdir, copy=not args.no_copy)
        results["runs"].append(outcome)
        if not args.json:
            print(json.dumps(outcome, ensure_ascii=False), flush=True)
    results["load_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        load = f"load {results['load_before']} → {results['load_after']}"
        print(f"synthetic register: {args.rows:,} rows, {results['csv_mib']} MiB CSV; {load}")


if __name__ == "__main__":
    main()
