"""Population of each city, town, village and grid for the area assessment, and where it
came from.

Rules (docs/risk-area-method.md, "Population"):

* **Register first.** A jurisdiction that has at least one live row of the imported
  population register (人口, ``places.public.PopulationCount``) inside it takes the sum of
  those rows' ``residents``. "Inside" is the ``jurisdiction_path`` prefix roll-up used for
  venues and stations: a row of a grid counts for the grid, its village, its town and the
  city; a row attached to a village itself counts for the village, its town and the city,
  and for no grid. The register's ``code`` is unique (one row per key, replaced by an
  upsert import), so its current rows are summed as they are; rows are taken as disjoint
  (each resident counted in one row). Rows both on a jurisdiction itself and inside it (a
  village's own total next to its grids' rows) may count people twice, or may be residents
  outside every grid: the module cannot tell, so it sums them and the report names those
  jurisdictions (``register_nested``) and the run warns.
* **Jurisdiction tree as the fallback.** Without register rows inside, the figure typed into
  the jurisdiction tree (``Jurisdiction.population``) is used; without either, the
  population is unknown (null) and the indicators that need it are left out of that area.
* **Both and disagreeing:** the register wins (it is the detailed, dated source); the tree's
  figure is not mixed in.
* **Partial coverage under-counts.** A town whose grids are only partly in the register takes
  the sum of the rows it has. The report counts such jurisdictions per level
  (``register_partial``: taking the register's sum while some grid inside has no row) and
  the run gets a warning, so a reader can see the coverage.

The register is read with ONE aggregate query (``GROUP BY jurisdiction_path``); the roll-up
to the four levels is done on its few grouped rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.core.texts import Text, TextCode
from firegrid.places.public import PopulationCount

#: Position of a level's code in a materialised jurisdiction path (``/city/town/…/``).
PATH_DEPTH = {"city": 0, "town": 1, "village": 2, "grid": 3}
#: Where an area's population came from.
REGISTER, TREE, NONE = "register", "tree", "none"
#: How many of the nested register paths a report lists.
NESTED_PATHS_SHOWN = 10
#: A source's count in the report.
REPORT_KEY = {REGISTER: "from_register", TREE: "from_tree", NONE: "no_population"}


def path_codes(path: str | None) -> list[str]:
    """The codes of a materialised path, city first."""
    return [p for p in (path or "").split("/") if p]


def roll_up(weighted_paths: Iterable[tuple[str | None, int]]) -> dict[str, dict[str, int]]:
    """Per level, per code: the sum of the weights of the paths inside it."""
    out: dict[str, dict[str, int]] = {level: {} for level in PATH_DEPTH}
    for path, weight in weighted_paths:
        parts = path_codes(path)
        for level, depth in PATH_DEPTH.items():
            if depth < len(parts):
                per_code = out[level]
                per_code[parts[depth]] = per_code.get(parts[depth], 0) + int(weight)
    return out


@dataclass(frozen=True)
class Register:
    """The population register rolled up: residents and rows per level and code."""

    residents: dict[str, dict[str, int]]
    rows: dict[str, dict[str, int]]
    n_rows: int
    n_residents: int
    as_of: date | None
    #: paths that have register rows of their own AND rows strictly inside (sorted)
    nested_paths: tuple[str, ...] = ()


def read_register(session: Session) -> Register:
    """The live register rows grouped by jurisdiction path (one query), rolled up."""
    p = PopulationCount
    grouped = session.execute(
        select(p.jurisdiction_path, func.sum(p.residents), func.count(), func.max(p.as_of))
        .where(p.deleted_at.is_(None))
        .group_by(p.jurisdiction_path)
    ).all()
    dates = [r[3] for r in grouped if r[3] is not None]
    return Register(
        residents=roll_up((r[0], int(r[1] or 0)) for r in grouped),
        rows=roll_up((r[0], int(r[2])) for r in grouped),
        n_rows=sum(int(r[2]) for r in grouped),
        n_residents=sum(int(r[1] or 0) for r in grouped),
        as_of=max(dates) if dates else None,
        nested_paths=nested_paths(r[0] for r in grouped),
    )


def nested_paths(paths: Iterable[str | None]) -> tuple[str, ...]:
    """The paths among ``paths`` that are a proper ancestor of another of them (sorted)."""
    present = {path for path in paths if path}
    nested: set[str] = set()
    for path in present:
        parts = path_codes(path)
        for depth in range(1, len(parts)):
            ancestor = "/" + "/".join(parts[:depth]) + "/"
            if ancestor in present:
                nested.add(ancestor)
    return tuple(sorted(nested))


@dataclass(frozen=True)
class TreeNode:
    """A live jurisdiction as the area context reads it."""

    code: str
    level: str
    path: str
    population: int | None


@dataclass(frozen=True)
class LevelPopulation:
    """One level's jurisdictions (tree order): population (None = unknown) and its source."""

    codes: list[str]
    population: list[float | None]
    source: list[str]
    partial: list[bool]


def population_by_level(
    nodes: Sequence[TreeNode], register: Register
) -> dict[str, LevelPopulation]:
    """Every level's population by the rules of this module."""
    uncovered_grids = roll_up(
        (n.path, 1) for n in nodes if n.level == "grid" and not register.rows["grid"].get(n.code)
    )
    out: dict[str, LevelPopulation] = {}
    for level in PATH_DEPTH:
        chosen = [n for n in nodes if n.level == level]
        rows, residents = register.rows[level], register.residents[level]
        population: list[float | None] = []
        source: list[str] = []
        partial: list[bool] = []
        for node in chosen:
            if rows.get(node.code):
                population.append(float(residents.get(node.code, 0)))
                source.append(REGISTER)
                partial.append(bool(uncovered_grids[level].get(node.code)))
            else:
                population.append(None if node.population is None else float(node.population))
                source.append(TREE if node.population is not None else NONE)
                partial.append(False)
        out[level] = LevelPopulation([n.code for n in chosen], population, source, partial)
    return out


def population_report(by_level: dict[str, LevelPopulation], register: Register) -> dict[str, Any]:
    """What a run reports: per level how many jurisdictions took their population from the
    register (and how many of them only partly covered), from the tree, or have none; the
    register's size and latest ``as_of``. Each level's sentence travels as a code."""
    as_of = register.as_of.isoformat() if register.as_of else None
    levels: dict[str, Any] = {}
    for level, block in by_level.items():
        counts = {s: block.source.count(s) for s in (REGISTER, TREE, NONE)}
        partial = sum(block.partial)
        params: dict[str, Any] = {
            "kind": level,
            "jurisdictions": len(block.codes),
            **counts,
            "partial": partial,
            "as_of": as_of,
        }
        message = (
            f"{level} ({len(block.codes)}): population from the register {counts[REGISTER]} "
            f"(of them partly covered, so under-counted: {partial}), from the jurisdiction "
            f"tree {counts[TREE]}, none {counts[NONE]}; register as of {as_of or '—'}"
        )
        levels[level] = {
            "jurisdictions": len(block.codes),
            **{REPORT_KEY[s]: n for s, n in counts.items()},
            "register_partial": partial,
            "text": Text(TextCode.RISK_POPULATION_SOURCES, message, params).as_dict(),
        }
    return {
        "register_rows": register.n_rows,
        "register_residents": register.n_residents,
        "as_of": as_of,
        "register_nested": len(register.nested_paths),
        "register_nested_paths": list(register.nested_paths[:NESTED_PATHS_SHOWN]),
        "levels": levels,
    }
