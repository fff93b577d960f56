"""The area method as data: ``area_indicators.yaml`` parsed and checked.

Pydantic checks shapes; :func:`parse_area_method` then checks the rules between fields
(known groups and measures, anchors that differ, AHP matrices naming exactly the group's
members, every matrix's consistency ratio ≤ 0.1). Any failure raises
:class:`~firegrid.risk.errors.CatalogueInvalid` naming the indicator and the field.
The setting ``FIREGRID_RISK_AREA_METHOD`` may name another YAML file (see
``docs/risk-area-method.md``).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from firegrid.risk.ahp import HierarchyResult, hierarchical_weights
from firegrid.risk.errors import CatalogueInvalid, RiskError
from firegrid.risk.grades import GradeScheme

#: Per-area measures an indicator may name (computed in :mod:`firegrid.risk.area`).
MEASURES = frozenset(
    {
        "n_venues",
        "population",
        "area_km2",
        "floor_area_m2",
        "n_red_orange",
        "n_key_or_high_risk",
        "n_small_or_rental",
        "n_crowded_mixed",
        "n_hazardous",
        "stations",
        "stations_required",
        "units",
        "n_hydrant_missing",
        "n_hydrant_known",
        "n_inspection_known",
        "n_not_inspected_1y",
        "n_overdue_venues",
        "n_key",
        "n_key_unconnected",
        "offline_devices",
        "device_count",
        "n_beyond_5min",
        "n_travel_known",
        "incidents_3y",
    }
)
#: Venue columns an indicator may take a quantile of.
QUANTILE_COLUMNS = frozenset({"first_due_travel_time_s", "full_assignment_travel_time_s"})
#: Measures that exist only for a piece of land (city, town, village, grid).
SPATIAL_MEASURES = frozenset({"population", "area_km2", "stations", "stations_required", "units"})


def _judgement(value: Any) -> Any:
    if isinstance(value, str) and "/" in value:
        num, _, den = value.partition("/")
        return float(num) / float(den)
    return value


Judgement = Annotated[float, BeforeValidator(_judgement)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueSpec(_Strict):
    ratio: tuple[str, str] | None = None
    quantile: tuple[str, float] | None = None
    scale: float = 1.0


class Anchors(_Strict):
    good: float
    bad: float


class AreaIndicator(_Strict):
    """One area indicator: a ratio of two measures (or a quantile) and its anchors."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str
    group: str
    unit: str
    value: ValueSpec
    anchors: Anchors
    spatial: bool = False
    action: str = "none"


class Group(_Strict):
    name_zh: str
    name_en: str


class Matrix(_Strict):
    order: list[str]
    matrix: list[list[Judgement]]


class Weights(_Strict):
    groups: Matrix
    within: dict[str, Matrix]


class Thresholds(_Strict):
    thresholds: dict[str, float]


class AreaMethodDoc(_Strict):
    version: str
    groups: dict[str, Group]
    indicators: list[AreaIndicator]
    grades: Thresholds
    weights: Weights
    station_district_km2: float = Field(gt=0)
    five_minute_travel_s: float = Field(gt=0)
    category_sets: dict[str, list[str]]


class AreaMethod:
    """A parsed, checked area method: indicators, AHP weights and area thresholds."""

    def __init__(self, doc: AreaMethodDoc, hierarchy: HierarchyResult) -> None:
        self.doc = doc
        self.version = doc.version
        self.indicators = tuple(doc.indicators)
        self.by_key = {i.key: i for i in doc.indicators}
        self.weights = dict(hierarchy.weights)
        self.group_weights = dict(hierarchy.group_weights)
        self.consistency = {name: m.cr for name, m in hierarchy.matrices.items()}
        t = doc.grades.thresholds
        self.scheme = GradeScheme(red=t["red"], orange=t["orange"], yellow=t["yellow"])

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.indicators)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "thresholds": self.scheme.thresholds,
            "weights": {k: round(w, 6) for k, w in self.weights.items()},
            "group_weights": {k: round(w, 6) for k, w in self.group_weights.items()},
            "consistency_ratio": {k: round(cr, 4) for k, cr in self.consistency.items()},
        }


def _invalid(message: str, indicator: str | None = None, field: str | None = None) -> None:
    raise CatalogueInvalid(message, indicator=indicator, field=field)


def _check(doc: AreaMethodDoc) -> None:
    seen: set[str] = set()
    for ind in doc.indicators:
        if ind.key in seen:
            _invalid(f"area indicator {ind.key!r} is declared twice", ind.key, "key")
        seen.add(ind.key)
        if ind.group not in doc.groups:
            _invalid(f"area indicator {ind.key!r}: unknown group {ind.group!r}", ind.key, "group")
        if ind.anchors.good == ind.anchors.bad:
            _invalid(f"area indicator {ind.key!r}: anchors good and bad are equal", ind.key)
        spec = ind.value
        if (spec.ratio is None) == (spec.quantile is None):
            _invalid(f"area indicator {ind.key!r}: give exactly one of ratio, quantile", ind.key)
        names = list(spec.ratio or ())
        for name in names:
            if name not in MEASURES:
                _invalid(f"area indicator {ind.key!r}: unknown measure {name!r}", ind.key, "value")
        if spec.quantile is not None:
            col, q = spec.quantile
            if col not in QUANTILE_COLUMNS or not 0.0 <= q <= 1.0:
                _invalid(f"area indicator {ind.key!r}: bad quantile {spec.quantile}", ind.key)
        if any(n in SPATIAL_MEASURES for n in names) and not ind.spatial:
            _invalid(f"area indicator {ind.key!r} uses land measures: mark it spatial", ind.key)
    if set(doc.category_sets) != {"crowded_mixed", "hazardous"}:
        _invalid("category_sets must define crowded_mixed and hazardous", field="category_sets")
    t = doc.grades.thresholds
    if set(t) != {"red", "orange", "yellow"} or not t["red"] > t["orange"] > t["yellow"]:
        _invalid("area grades need thresholds red > orange > yellow", field="grades")


def parse_area_method(data: Any) -> AreaMethod:
    """Validate a parsed YAML document as an area method."""
    try:
        doc = AreaMethodDoc.model_validate(data)
    except ValidationError as exc:
        raise CatalogueInvalid(
            f"area method is invalid: {exc.errors()[0]['msg']}",
            field=".".join(str(p) for p in exc.errors()[0]["loc"]),
        ) from exc
    _check(doc)
    members: dict[str, list[str]] = {}
    for ind in doc.indicators:
        members.setdefault(ind.group, []).append(ind.key)
    if sorted(doc.weights.groups.order) != sorted(doc.groups):
        _invalid("weights.groups.order must name every group exactly once", field="weights")
    for g, m in doc.weights.within.items():
        if sorted(m.order) != sorted(members.get(g, [])):
            _invalid(
                f"weights.within.{g}.order must name exactly the group's indicators",
                field=f"weights.within.{g}",
            )
    try:
        hierarchy = hierarchical_weights(
            (doc.weights.groups.order, doc.weights.groups.matrix),
            {g: (m.order, m.matrix) for g, m in doc.weights.within.items() if len(m.order) > 1},
            members,
        )
    except RiskError as exc:
        raise CatalogueInvalid(f"area method weights: {exc.message}", field="weights") from exc
    return AreaMethod(doc, hierarchy)


def load_area_method(path: str | Path | None = None) -> AreaMethod:
    """The method from ``path`` (``Settings.risk_area_method``), else the packaged one."""
    if path is None:
        return default_area_method()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueInvalid(f"cannot read the area method {str(path)!r}: {exc}") from exc
    return parse_area_method(yaml.safe_load(text))


@lru_cache(maxsize=1)
def default_area_method() -> AreaMethod:
    text = (files("firegrid.risk") / "area_indicators.yaml").read_text(encoding="utf-8")
    return parse_area_method(yaml.safe_load(text))
