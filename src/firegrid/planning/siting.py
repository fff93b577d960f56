"""Siting rules for new stations, as data (``siting_rules.yaml``), and the check that
excludes the candidate sites breaking them, each with its reason.

* ``keep_away``: at least ``min_distance_m`` from venues of the listed categories (schools,
  kindergartens, hospitals, cinemas, markets ...);
* ``hazards``: at least ``min_distance_m`` from LPG, gas and oxygen stations, and not
  downwind of one (within ``downwind_reach_m``, inside the sector of half-width
  ``wind.sector_half_angle_deg`` about the downwind bearing of every prevailing wind).

Distances are straight-line in a local metric projection: these rules are about proximity,
not about travel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field
from scipy.spatial import cKDTree

from firegrid.core.datafiles import load_yaml_model
from firegrid.geo.projection import LocalProjection

FloatArray = npt.NDArray[np.float64]
_SHAPE = "a mapping with 'keep_away', 'hazards' and 'wind'"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeepAway(_Strict):
    name: str
    min_distance_m: float = Field(gt=0, le=5000)
    categories: list[str] = Field(min_length=1)


class Hazard(_Strict):
    name: str
    min_distance_m: float = Field(gt=0, le=5000)
    categories: list[str] = Field(min_length=1)
    downwind_reach_m: float = Field(0.0, ge=0, le=20000)


class Wind(_Strict):
    from_deg: list[float] = Field(default_factory=list)
    sector_half_angle_deg: float = Field(45.0, gt=0, le=180)


class SitingRules(_Strict):
    keep_away: list[KeepAway] = Field(default_factory=list)
    hazards: list[Hazard] = Field(default_factory=list)
    wind: Wind = Field(default_factory=Wind)

    def with_wind(self, from_deg: Sequence[float] | None) -> SitingRules:
        """These rules with the prevailing winds replaced (the setting's override)."""
        if from_deg is None:
            return self
        wind = Wind(
            from_deg=[float(d) % 360 for d in from_deg],
            sector_half_angle_deg=self.wind.sector_half_angle_deg,
        )
        return self.model_copy(update={"wind": wind})

    def categories(self) -> set[str]:
        keep = {c for rule in self.keep_away for c in rule.categories}
        return keep | {c for rule in self.hazards for c in rule.categories}


def load_siting_rules(path: Path | None = None) -> SitingRules:
    """The rules of ``path``, or the packaged ``siting_rules.yaml``."""
    return load_yaml_model(
        SitingRules,
        path,
        package="firegrid.planning",
        default_file="siting_rules.yaml",
        label="siting rules",
        setting="FIREGRID_PLANNING_SITING_RULES",
        shape=_SHAPE,
    )


@lru_cache(maxsize=4)
def _cached(path: Path | None, wind: tuple[float, ...] | None) -> SitingRules:
    return load_siting_rules(path).with_wind(wind)


def active_siting_rules() -> SitingRules:
    """The process's rules: the file of ``FIREGRID_PLANNING_SITING_RULES`` (or the packaged
    one) with ``FIREGRID_PLANNING_WIND_FROM_DEG`` when set."""
    from firegrid.core.settings import get_settings

    settings = get_settings()
    wind = settings.planning_wind_from_deg
    return _cached(settings.planning_siting_rules, None if wind is None else tuple(wind))


@dataclass(frozen=True)
class Venues:
    """The venues the rules look at: codes, categories and points."""

    code: list[str]
    category: list[str]
    lon: FloatArray
    lat: FloatArray


@dataclass(frozen=True)
class Exclusion:
    """Why a candidate is excluded: the rule, the venue and how far it is."""

    rule: str
    reason: str  # "too_close" | "downwind"
    venue_code: str
    venue_category: str
    distance_m: float
    limit_m: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "reason": self.reason,
            "venue_code": self.venue_code,
            "venue_category": self.venue_category,
            "distance_m": round(self.distance_m, 1),
            "limit_m": self.limit_m,
        }


def _bearing_deg(dx: FloatArray, dy: FloatArray) -> FloatArray:
    """Compass bearing (0 = north, clockwise) of the vector ``(dx east, dy north)``."""
    return np.asarray(np.degrees(np.arctan2(dx, dy)) % 360.0)


def _angle_between(a: FloatArray, b: float) -> FloatArray:
    d = np.abs((a - b) % 360.0)
    return np.asarray(np.minimum(d, 360.0 - d))


def check_sites(
    rules: SitingRules, lon: FloatArray, lat: FloatArray, venues: Venues
) -> list[list[Exclusion]]:
    """For each candidate point, the rules it breaks (empty: the site is allowed).

    Only the nearest offending venue of each rule is named.
    """
    out: list[list[Exclusion]] = [[] for _ in range(len(lon))]
    if not len(lon) or not len(venues.lon):
        return out
    projection = LocalProjection.around(
        np.concatenate([lon, venues.lon]), np.concatenate([lat, venues.lat])
    )
    cx, cy = projection.forward(lon, lat)
    vx, vy = projection.forward(venues.lon, venues.lat)
    category = np.asarray(venues.category, dtype=object)

    def nearest_within(
        cats: list[str], radius_m: float, extra: Any = None
    ) -> list[tuple[int, int, float]]:
        """``(candidate, venue, distance)`` of the nearest qualifying venue per candidate."""
        sel = np.flatnonzero(np.isin(category, cats))
        if not len(sel) or radius_m <= 0:
            return []
        tree = cKDTree(np.column_stack([vx[sel], vy[sel]]))
        found: list[tuple[int, int, float]] = []
        for c, hits in enumerate(tree.query_ball_point(np.column_stack([cx, cy]), radius_m)):
            if not hits:
                continue
            idx = sel[np.asarray(hits, dtype=np.int64)]
            dist = np.hypot(vx[idx] - cx[c], vy[idx] - cy[c])
            keep = np.ones(len(idx), dtype=np.bool_) if extra is None else extra(c, idx)
            if keep.any():
                k = int(np.argmin(np.where(keep, dist, np.inf)))
                found.append((c, int(idx[k]), float(dist[k])))
        return found

    def add(rule: str, reason: str, limit_m: float, hits: list[tuple[int, int, float]]) -> None:
        for c, v, d in hits:
            out[c].append(
                Exclusion(rule, reason, venues.code[v], venues.category[v], d, float(limit_m))
            )

    for keep_rule in rules.keep_away:
        add(
            keep_rule.name,
            "too_close",
            keep_rule.min_distance_m,
            nearest_within(keep_rule.categories, keep_rule.min_distance_m),
        )
    half = rules.wind.sector_half_angle_deg
    for hazard in rules.hazards:
        add(
            hazard.name,
            "too_close",
            hazard.min_distance_m,
            nearest_within(hazard.categories, hazard.min_distance_m),
        )
        if not rules.wind.from_deg or hazard.downwind_reach_m <= hazard.min_distance_m:
            continue

        def downwind(c: int, idx: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
            # bearing from the hazard to the candidate vs. where each wind blows to
            bearing = _bearing_deg(cx[c] - vx[idx], cy[c] - vy[idx])
            hit = np.zeros(len(idx), dtype=np.bool_)
            for from_deg in rules.wind.from_deg:
                hit |= _angle_between(bearing, (from_deg + 180.0) % 360.0) <= half
            return hit

        add(
            hazard.name,
            "downwind",
            hazard.downwind_reach_m,
            [
                hit
                for hit in nearest_within(hazard.categories, hazard.downwind_reach_m, downwind)
                if hit[2] > hazard.min_distance_m  # closer ones are already "too_close"
            ],
        )
    return out
