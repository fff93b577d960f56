"""Candidate sites for new facilities: road nodes on a grid, a user's list, or both.

* **grid**: the network is cut into squares of ``spacing_m``; in each square holding road
  nodes, the node nearest the square's centre is a candidate (a site on a road, by
  construction);
* **file**: a CSV, GeoJSON (Point features) or xlsx list with ``lon``, ``lat`` (WGS-84)
  and optionally ``code``, ``name`` and ``cost``; every bad row is reported with its line
  and reason, and a point farther than ``FIREGRID_FACILITY_MAX_SNAP_M`` from every road node
  is refused (a station must stand on the network). Nothing is kept when any row is bad.

Then the siting rules (:mod:`firegrid.planning.siting`) exclude candidates, each with its
reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from firegrid.core.errors import ImportFailed, ValidationFailed
from firegrid.core.problems import Found, Problem, row_error, row_text
from firegrid.core.texts import Text, TextCode
from firegrid.geo.engine import TravelTimeEngine
from firegrid.places.public import CellError, latitude, longitude, number
from firegrid.planning.siting import Exclusion, SitingRules, Venues, check_sites

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
MAX_ROW_ERRORS = 200


@dataclass(frozen=True)
class Candidates:
    """Candidate sites on the network; ``leg_s`` is the off-network leg of a listed site."""

    code: list[str]
    lon: FloatArray
    lat: FloatArray
    node: IntArray
    leg_s: FloatArray
    cost: FloatArray
    source: list[str]
    excluded: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.code)

    def take(self, keep: npt.NDArray[np.bool_]) -> Candidates:
        idx = np.flatnonzero(keep)
        return Candidates(
            [self.code[i] for i in idx],
            self.lon[idx],
            self.lat[idx],
            self.node[idx],
            self.leg_s[idx],
            self.cost[idx],
            [self.source[i] for i in idx],
            self.excluded,
        )

    @classmethod
    def concat(cls, parts: list[Candidates]) -> Candidates:
        return cls(
            [c for p in parts for c in p.code],
            np.concatenate([p.lon for p in parts]) if parts else np.empty(0),
            np.concatenate([p.lat for p in parts]) if parts else np.empty(0),
            np.concatenate([p.node for p in parts]).astype(np.int64)
            if parts
            else np.empty(0, np.int64),
            np.concatenate([p.leg_s for p in parts]) if parts else np.empty(0),
            np.concatenate([p.cost for p in parts]) if parts else np.empty(0),
            [s for p in parts for s in p.source],
            [e for p in parts for e in p.excluded],
        )


def grid_candidates(engine: TravelTimeEngine, spacing_m: float) -> Candidates:
    """One road node per occupied square of ``spacing_m`` (the one nearest its centre)."""
    if not 50 <= spacing_m <= 20000:
        raise ValidationFailed(
            f"candidate spacing must be between 50 and 20000 m, got {spacing_m}",
            {"spacing_m": spacing_m},
            text=TextCode.VALIDATION_RANGE,
            params={"field": "spacing_m", "min": 50, "max": 20000},
        )
    net = engine.network
    x, y = engine.projection.forward(net.node_lon, net.node_lat)
    i = np.floor(x / spacing_m)
    j = np.floor(y / spacing_m)
    off = np.hypot(x - (i + 0.5) * spacing_m, y - (j + 0.5) * spacing_m)
    key = i.astype(np.int64) * 1_000_003 + j.astype(np.int64)
    order = np.lexsort((np.arange(len(key)), off, key))
    first = np.ones(len(order), dtype=np.bool_)
    first[1:] = key[order][1:] != key[order][:-1]
    nodes = np.sort(order[first]).astype(np.int64)
    return Candidates(
        [f"N{n}" for n in nodes.tolist()],
        net.node_lon[nodes].astype(np.float64),
        net.node_lat[nodes].astype(np.float64),
        nodes,
        np.zeros(len(nodes)),
        np.ones(len(nodes)),
        ["grid"] * len(nodes),
    )


_LONGITUDE, _LATITUDE = longitude(), latitude()
_COST = number(0.0, math.inf)


def _cell(column: str, parse: Callable[[Any], Any], raw: Any, found: list[Found]) -> float | None:
    """``raw`` parsed as the bulk importer parses the same column (one check of a number or
    a coordinate for every file); a problem goes to ``found``."""
    try:
        value: float | None = parse(raw)
    except CellError as err:
        found.append(err.found(column))
        return None
    if value is None:
        found.append(Found(column, Problem.MISSING, "missing value"))
    return value


def file_candidates(engine: TravelTimeEngine, path: Path, max_snap_m: float) -> Candidates:
    """Candidates from a CSV, GeoJSON or xlsx file; ``ImportFailed`` lists every bad row."""
    from firegrid.places.importexport import file_format, read_rows

    if not path.is_file():
        raise ValidationFailed(
            f"candidate file {str(path)!r} not found",
            {"file": str(path)},
            text=TextCode.FILE_NOT_FOUND,
            params={"file": str(path)},
        )
    rows = read_rows(path.read_bytes(), file_format(path))
    return rows_to_candidates(engine, [(r.line, r.values, r.problems) for r in rows], max_snap_m)


def rows_to_candidates(
    engine: TravelTimeEngine,
    rows: Sequence[tuple[int, dict[str, Any], tuple[tuple[str | None, Text], ...]]],
    max_snap_m: float,
) -> Candidates:
    """Candidates from ``(line, values, problems)`` rows; all or nothing."""
    errors: list[dict[str, Any]] = []
    codes: list[str] = []
    lons: list[float] = []
    lats: list[float] = []
    costs: list[float] = []
    lines: list[int] = []
    seen: dict[str, int] = {}
    for line, values, problems in rows:
        errors.extend(row_error(line, column, text) for column, text in problems)
        found: list[Found] = []
        lon = _cell("lon", _LONGITUDE, values.get("lon"), found)
        lat = _cell("lat", _LATITUDE, values.get("lat"), found)
        cost = 1.0 if values.get("cost") is None else _cell("cost", _COST, values["cost"], found)
        code = str(values.get("code") or f"C{line}").strip()
        if code in seen:
            message = f"duplicate code {code!r}"
            params = {"value": code, "first_line": seen[code]}
            found.append(Found("code", Problem.DUPLICATE_CODE, message, params))
        errors.extend(row_error(line, f.field, row_text(f)) for f in found)
        seen.setdefault(code, line)
        if lon is None or lat is None or cost is None:
            continue
        codes.append(code)
        lons.append(lon)
        lats.append(lat)
        costs.append(cost)
        lines.append(line)
    if not rows:
        nothing = Text(
            TextCode.IMPORT_NOTHING, "the file lists no candidate", {"kind": "candidate"}
        )
        errors.append(row_error(None, None, nothing))
    lon_a, lat_a = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    if len(lon_a) and not errors:
        distance = engine.snap_distance_m(lon_a, lat_a)
        for k in np.flatnonzero(~(distance <= max_snap_m)).tolist():
            errors.append(
                row_error(
                    lines[k],
                    "lon",
                    _off_road(codes[k], lon_a[k], lat_a[k], distance[k], max_snap_m),
                )
            )
    if errors:
        raise ImportFailed(
            f"{len(errors)} problem(s) in the candidate list; nothing was used",
            {"errors": errors[:MAX_ROW_ERRORS], "total": len(errors)},
            text=TextCode.IMPORT_ROWS_INVALID,
            params={"kind": "candidate", "count": len(errors)},
        )
    snapped = engine.snap(lon_a, lat_a)
    return Candidates(
        codes,
        lon_a,
        lat_a,
        snapped.node.astype(np.int64),
        snapped.leg_time_s.astype(np.float64),
        np.asarray(costs, dtype=np.float64),
        ["file"] * len(codes),
    )


def apply_siting_rules(
    candidates: Candidates, rules: SitingRules, venues: Venues
) -> tuple[Candidates, list[dict[str, Any]]]:
    """The candidates allowed by the rules, and the excluded ones with their reasons."""
    broken: list[list[Exclusion]] = check_sites(rules, candidates.lon, candidates.lat, venues)
    keep = np.asarray([not b for b in broken], dtype=np.bool_)
    excluded = [
        {
            "code": candidates.code[i],
            "lon": round(float(candidates.lon[i]), 7),
            "lat": round(float(candidates.lat[i]), 7),
            "reasons": [e.as_dict() for e in broken[i]],
        }
        for i in np.flatnonzero(~keep).tolist()
    ]
    return candidates.take(keep), excluded


def _off_road(code: str, lon: float, lat: float, distance_m: float, max_snap_m: float) -> Text:
    """Why a candidate cannot be a station site: too far from the road network, or (no road
    node reachable at all: an infinite distance) off the network."""
    if not math.isfinite(distance_m):
        return Text(
            TextCode.GEO_OFF_NETWORK,
            "no road node near the point: a station must stand on the road network",
            {"lon": round(float(lon), 6), "lat": round(float(lat), 6)},
        )
    return Text(
        TextCode.GEO_FACILITY_OFF_ROAD,
        f"{distance_m:.0f} m from the nearest road node "
        f"(limit {max_snap_m:.0f} m): a station must stand on the road network",
        {
            "kind": "candidate",
            "code": code,
            "distance_m": round(float(distance_m)),
            "limit_m": round(float(max_snap_m)),
        },
    )
