"""The area assessment's read of the population register, with and without its covering index.

    python bench/bench_population_read.py [--rows 500000] [--repeat 3] [--json]

Builds the ``population_counts`` table (the platform's own model) in a fresh SQLite file
(the embedded default, whose planner the index is for; PostgreSQL answered the same read
with a parallel scan and hash aggregate either way), fills it with ``--rows``
SYNTHETIC register rows spread over a Dongguan-sized tree (33 towns × 18 villages × 5 grids)
in random order, and times :func:`firegrid.risk.area_population.read_register` — the real
grouped query and roll-up — best of ``--repeat``, first with the covering index of migration
0034 (``ix_population_counts_path_totals``), then with it dropped (the path index alone, as
before). It also prints the database's query plan for each. Synthetic rows: the figures show
the query's cost, nothing about a real register.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session

from firegrid.places.public import PopulationCount
from firegrid.risk.area_population import read_register

INDEX = "ix_population_counts_path_totals"


def _paths() -> list[str]:
    return [
        f"/441900/t{t:02d}/v{t:02d}{v:03d}/g{t:02d}{v:03d}{g}/"
        for t in range(33)
        for v in range(18)
        for g in range(5)
    ]


def _timed(engine: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        with Session(engine) as session:
            started = time.perf_counter()
            read_register(session)
            best = min(best, time.perf_counter() - started)
    return best


def _plan(engine: Any) -> str:
    query = (
        "SELECT jurisdiction_path, sum(residents), count(*), max(as_of) FROM population_counts "
        "WHERE deleted_at IS NULL GROUP BY jurisdiction_path"
    )
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}").all()
    return "; ".join(str(row[-1]) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-population-")
    engine = create_engine(f"sqlite:///{Path(workdir) / 'population.db'}")
    table = PopulationCount.__table__
    table.create(engine)  # type: ignore[attr-defined]
    rng = random.Random(2026)
    paths = _paths()
    as_of = date(2026, 6, 30)
    rows = [
        {
            "code": f"syn-{i}",
            "jurisdiction_id": 1,
            "jurisdiction_path": rng.choice(paths),
            "residents": rng.randint(0, 40),
            "as_of": as_of,
        }
        for i in range(args.rows)
    ]
    with engine.begin() as connection:
        connection.execute(insert(table), rows)
        connection.exec_driver_sql("ANALYZE")
    result: dict[str, Any] = {"rows": args.rows}
    result["covering_index_s"] = round(_timed(engine, args.repeat), 4)
    result["covering_index_plan"] = _plan(engine)
    with engine.begin() as connection:
        connection.execute(text(f"DROP INDEX {INDEX}"))
    engine.dispose()  # no pooled connection keeps a statement prepared with the index
    result["path_index_only_s"] = round(_timed(engine, args.repeat), 4)
    result["path_index_only_plan"] = _plan(engine)
    engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
