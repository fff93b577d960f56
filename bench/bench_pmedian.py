"""p-median benchmark: firegrid's solver against spopt's PMedian (PuLP + CBC), same run.

Real OR-Library instances (every ``pmed*.txt`` in ``--instances``) are solved by both and
compared with ``optima.csv``. Then *generated* instances of the sizes of pmed6–40 (built by the
OR-Library paper's rules, not Beasley's files; their optima are unknown) show our time, cost,
bound and proof on the larger sizes; spopt runs on them only with ``--spopt-generated``.

    python bench/bench_pmedian.py --instances /work/shared/data/pmed --generated all --json out.json

Prints a table and (``--json``) writes every figure as JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from firegrid.planning.orlib import (
    PMedianInstance,
    generate_pmedian_text,
    parse_pmedian,
    read_pmedian,
)
from firegrid.planning.solver import Model, SolveOptions, solve

# (n, p) of pmed6 … pmed40, in order (Beasley 1985, OR-Library "pmedinfo")
PMED_SIZES = [
    *[(200, p) for p in (5, 10, 20, 40, 67)],
    *[(300, p) for p in (5, 10, 30, 60, 100)],
    *[(400, p) for p in (5, 10, 40, 80, 133)],
    *[(500, p) for p in (5, 10, 50, 100, 167)],
    *[(600, p) for p in (5, 10, 60, 120, 200)],
    *[(700, p) for p in (5, 10, 70, 140)],
    *[(800, p) for p in (5, 10, 80)],
    *[(900, p) for p in (5, 10, 90)],
]


def ours(instance: PMedianInstance, time_limit_s: float) -> dict[str, Any]:
    started = time.perf_counter()
    solution = solve(Model.PMEDIAN, instance.problem(), SolveOptions(time_limit_s=time_limit_s))
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "cost": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "optimal": solution.optimal,
        "method": solution.method,
    }


def spopt_pmedian(instance: PMedianInstance, time_limit_s: float) -> dict[str, Any]:
    import pulp
    from spopt.locate import PMedian

    started = time.perf_counter()
    model = PMedian.from_cost_matrix(
        instance.distance, np.ones(instance.n), p_facilities=instance.p
    )
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=int(time_limit_s))
    model.solve(solver, results=False)
    seconds = time.perf_counter() - started
    status = pulp.LpStatus[model.problem.status]
    cost = pulp.value(model.problem.objective)
    return {
        "seconds": round(seconds, 2),
        "cost": None if cost is None else float(cost),
        "status": status,
        "timed_out": seconds >= time_limit_s,
    }


def real_instances(folder: Path, limit_s: float, spopt_limit_s: float) -> list[dict[str, Any]]:
    optima: dict[str, int] = {}
    if (folder / "optima.csv").exists():
        with (folder / "optima.csv").open(encoding="utf-8") as handle:
            optima = {r["instance"]: int(r["optimal_cost"]) for r in csv.DictReader(handle)}
    rows = []
    files = sorted(folder.glob("pmed*.txt"), key=lambda p: int(p.stem.removeprefix("pmed")))
    for path in files:
        instance = read_pmedian(path)
        row: dict[str, Any] = {"instance": path.stem, "n": instance.n, "p": instance.p}
        row["published_optimum"] = optima.get(path.stem)
        row["firegrid"] = ours(instance, limit_s)
        row["spopt_cbc"] = spopt_pmedian(instance, spopt_limit_s) if spopt_limit_s > 0 else None
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def generated_instances(
    which: str, limit_s: float, spopt_limit_s: float, seed: int
) -> list[dict[str, Any]]:
    sizes = (
        PMED_SIZES
        if which == "all"
        else [tuple(int(x) for x in item.split(":")) for item in which.split(",") if item]
    )
    rows = []
    for index, (n, p) in enumerate(sizes):
        instance = parse_pmedian(generate_pmedian_text(n, p, seed=seed + index))
        row: dict[str, Any] = {"instance": f"generated-{n}-{p}", "n": n, "p": p}
        row["published_optimum"] = None
        row["firegrid"] = ours(instance, limit_s)
        row["spopt_cbc"] = spopt_pmedian(instance, spopt_limit_s) if spopt_limit_s > 0 else None
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def _line(row: dict[str, Any]) -> str:
    ours_ = row["firegrid"]
    theirs = row["spopt_cbc"]
    spopt_text = (
        f"{theirs['seconds']:>8.2f} s {theirs['cost']!s:>8} {theirs['status']}"
        if theirs
        else "      (not run)"
    )
    return (
        f"{row['instance']:<20} n={row['n']:<4} p={row['p']:<4} "
        f"opt={row['published_optimum']!s:<6} | firegrid {ours_['seconds']:>7.2f} s "
        f"{ours_['cost']:>8.0f} bound {ours_['bound']:>9.1f} optimal={ours_['optimal']!s:<5} | "
        f"spopt+CBC {spopt_text}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=Path, default=Path("/work/shared/data/pmed"))
    parser.add_argument("--generated", default="", help="'all' or 'n:p,n:p'; '' = none")
    parser.add_argument("--time-limit", type=float, default=60.0, help="ours, per instance")
    parser.add_argument("--spopt-time-limit", type=float, default=600.0)
    parser.add_argument("--spopt-generated", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    header = {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "highspy": version("highspy"),
        "spopt": version("spopt"),
        "pulp": version("pulp"),
        "time_limit_s": args.time_limit,
        "spopt_time_limit_s": args.spopt_time_limit,
    }
    print(json.dumps(header), flush=True)
    rows = real_instances(args.instances, args.time_limit, args.spopt_time_limit)
    if args.generated:
        spopt_limit = args.spopt_time_limit if args.spopt_generated else 0.0
        rows += generated_instances(args.generated, args.time_limit, spopt_limit, args.seed)
    result = {"header": header, "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
