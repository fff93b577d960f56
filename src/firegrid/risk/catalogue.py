"""The indicator catalogue: indicators, groups, grade scheme and named models, as data.

The default catalogue is ``indicators.yaml`` in this package (read with
:mod:`importlib.resources`). A catalogue is validated in two passes: pydantic checks shapes
and types, then :func:`_check_semantics` checks the rules between fields (breakpoints
increasing, scores in ``[0, 1]`` and ordered with the indicator's direction, groups known,
AHP matrices naming exactly the group's members …). Any failure raises
:class:`~firegrid.risk.errors.CatalogueInvalid` naming the indicator and the field.

Normalisation kinds (each maps a raw value to a *risk score* in ``[0, 1]``, 1 = riskiest):

``minmax``
    ``(x - lo) / (hi - lo)`` clipped to ``[0, 1]``; ``lo``/``hi`` are the quantiles
    ``lower_quantile``/``upper_quantile`` of the run's data (frozen in the fitted normaliser).
    Reversed (``1 - …``) when ``higher_is_riskier`` is false.
``percentile``
    The value's percentile in the run's data, interpolated between 101 frozen quantile
    breakpoints. Reversed when ``higher_is_riskier`` is false.
``thresholds``
    Explicit ``breakpoints`` b1 < … < bm and ``scores`` s0 … sm (m + 1 of them): a value below
    b1 scores s0, a value in ``[bj, bj+1)`` scores sj, a value ≥ bm scores sm. The scores are
    risk scores already; they must be non-decreasing when ``higher_is_riskier`` is true and
    non-increasing when it is false.
``boolean``
    Risk 1 when the value equals ``higher_is_riskier`` (true is risky), else 0.
``categorical``
    ``map`` from category value to risk score, ``default`` for values not in the map.

Missing-value rules: ``median`` (the run's median of the raw value; numeric kinds only),
``zero`` (raw value 0 / false), ``worst`` (the highest risk score the normalisation can give)
or ``{value: x}`` (raw value x).
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from firegrid.risk.errors import CatalogueInvalid

GROUPS_ORDER = ("static", "management", "device_health", "response_capacity", "history")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MinMax(_Strict):
    kind: Literal["minmax"]
    lower_quantile: float = 0.0
    upper_quantile: float = 1.0


class Percentile(_Strict):
    kind: Literal["percentile"]


class Thresholds(_Strict):
    kind: Literal["thresholds"]
    breakpoints: list[float]
    scores: list[float]


class Boolean(_Strict):
    kind: Literal["boolean"]


class Categorical(_Strict):
    kind: Literal["categorical"]
    map: dict[str, float]
    default: float


Normalisation = Annotated[
    MinMax | Percentile | Thresholds | Boolean | Categorical, Field(discriminator="kind")
]
NUMERIC_KINDS = ("minmax", "percentile", "thresholds")


class MissingValue(_Strict):
    value: float | bool | str


MissingRule = Literal["median", "zero", "worst"] | MissingValue


class Indicator(_Strict):
    """One risk indicator."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str
    group: str
    source: str
    unit: str
    normalisation: Normalisation
    higher_is_riskier: bool
    missing: MissingRule
    weight: float | None = None
    modifiable: bool = False
    fix: dict[str, float | bool | int] | None = None
    action_zh: str = ""
    action_en: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.normalisation.kind in NUMERIC_KINDS


class Group(_Strict):
    name_zh: str
    name_en: str


class GradeLabel(_Strict):
    zh: str
    en: str


class GradeSpec(_Strict):
    """Grade thresholds (score ≥ threshold), labels and the three-colour mapping."""

    thresholds: dict[Literal["red", "orange", "yellow"], float]
    labels: dict[Literal["red", "orange", "yellow", "blue"], GradeLabel]
    three_colour: dict[
        Literal["red", "orange", "yellow", "blue"], Literal["red", "yellow", "green"]
    ]


def _judgement(value: Any) -> Any:
    """Accept AHP judgements written as fractions ("1/3") as well as numbers."""
    if isinstance(value, str) and "/" in value:
        num, _, den = value.partition("/")
        try:
            return float(num) / float(den)
        except (ValueError, ZeroDivisionError):
            return value
    return value


Judgement = Annotated[float, BeforeValidator(_judgement)]


class PairwiseMatrix(_Strict):
    order: list[str]
    matrix: list[list[Judgement]]


class ModelSpec(_Strict):
    """A named weighting model over the catalogue's indicators."""

    version: str
    method: Literal["ahp", "equal", "direct"]
    description_en: str = ""
    description_zh: str = ""
    groups: PairwiseMatrix | None = None
    within: dict[str, PairwiseMatrix] = Field(default_factory=dict)
    weights: dict[str, float] | None = None
    grade_thresholds: dict[Literal["red", "orange", "yellow"], float] | None = None


class Catalogue(_Strict):
    """A versioned indicator catalogue."""

    version: str
    groups: dict[str, Group]
    indicators: list[Indicator]
    grades: GradeSpec
    models: dict[str, ModelSpec]

    @property
    def keys(self) -> list[str]:
        return [i.key for i in self.indicators]

    def indicator(self, key: str) -> Indicator:
        for ind in self.indicators:
            if ind.key == key:
                return ind
        raise KeyError(key)

    def members(self, group: str) -> list[str]:
        return [i.key for i in self.indicators if i.group == group]


def _pydantic_to_catalogue_error(exc: ValidationError, raw: Any) -> CatalogueInvalid:
    err = exc.errors()[0]
    loc = list(err["loc"])
    indicator: str | None = None
    field_path = loc
    if len(loc) >= 2 and loc[0] == "indicators" and isinstance(loc[1], int):
        try:
            indicator = str(raw["indicators"][loc[1]].get("key", f"#{loc[1]}"))
        except (KeyError, IndexError, TypeError, AttributeError):
            indicator = f"#{loc[1]}"
        field_path = loc[2:]
    # Drop discriminator tags such as 'thresholds' from the reported path.
    kinds = {"minmax", "percentile", "thresholds", "boolean", "categorical", "MissingValue"}
    parts = [str(p) for p in field_path if str(p) not in kinds]
    field = ".".join(parts) or None
    where = f"indicator {indicator!r}, field {field!r}" if indicator else f"field {field!r}"
    return CatalogueInvalid(
        f"invalid catalogue: {where}: {err['msg']}",
        indicator=indicator,
        field=field,
        details={"errors": exc.errors(include_url=False, include_context=False)},
    )


def _fail(message: str, indicator: str | None, field: str) -> CatalogueInvalid:
    where = f"indicator {indicator!r}, field {field!r}" if indicator else f"field {field!r}"
    return CatalogueInvalid(
        f"invalid catalogue: {where}: {message}", indicator=indicator, field=field
    )


def _check_indicator(ind: Indicator, groups: dict[str, Group]) -> None:
    k = ind.key
    if ind.group not in groups:
        raise _fail(f"unknown group {ind.group!r} (known: {sorted(groups)})", k, "group")
    norm = ind.normalisation
    if isinstance(norm, MinMax):
        if not 0.0 <= norm.lower_quantile < norm.upper_quantile <= 1.0:
            raise _fail("need 0 <= lower_quantile < upper_quantile <= 1", k, "normalisation")
    elif isinstance(norm, Thresholds):
        bp, sc = norm.breakpoints, norm.scores
        if not bp:
            raise _fail("at least one breakpoint is needed", k, "normalisation.breakpoints")
        if any(b >= c for b, c in itertools.pairwise(bp)):
            raise _fail("breakpoints must be strictly increasing", k, "normalisation.breakpoints")
        if len(sc) != len(bp) + 1:
            raise _fail(
                f"need len(scores) == len(breakpoints) + 1 ({len(bp) + 1}), got {len(sc)}",
                k,
                "normalisation.scores",
            )
        if any(not 0.0 <= s <= 1.0 for s in sc):
            raise _fail("scores must lie in [0, 1]", k, "normalisation.scores")
        pairs = list(itertools.pairwise(sc))
        if ind.higher_is_riskier and any(a > b for a, b in pairs):
            raise _fail(
                "scores must be non-decreasing when higher_is_riskier is true",
                k,
                "normalisation.scores",
            )
        if not ind.higher_is_riskier and any(a < b for a, b in pairs):
            raise _fail(
                "scores must be non-increasing when higher_is_riskier is false",
                k,
                "normalisation.scores",
            )
    elif isinstance(norm, Categorical):
        values = [*norm.map.values(), norm.default]
        if any(not 0.0 <= s <= 1.0 for s in values):
            raise _fail("map scores and default must lie in [0, 1]", k, "normalisation.map")
    if ind.missing == "median" and not ind.is_numeric:
        raise _fail("'median' needs a numeric normalisation", k, "missing")
    if isinstance(norm, Categorical) and (
        ind.missing in ("zero", "median")
        or (isinstance(ind.missing, MissingValue) and not isinstance(ind.missing.value, str))
    ):
        raise _fail("a categorical indicator takes 'worst' or a category value", k, "missing")
    if (
        not isinstance(norm, Categorical)
        and isinstance(ind.missing, MissingValue)
        and isinstance(ind.missing.value, str)
    ):
        raise _fail("a numeric or boolean indicator needs a numeric missing value", k, "missing")
    if ind.weight is not None and ind.weight < 0:
        raise _fail("weight must be >= 0", k, "weight")
    if ind.modifiable and not ind.fix:
        raise _fail("a modifiable indicator needs a 'fix' (raw column -> value)", k, "fix")


def _check_model(name: str, spec: ModelSpec, cat: Catalogue) -> None:
    keys = set(cat.keys)
    where = f"models.{name}"
    if spec.grade_thresholds:
        t = {**cat.grades.thresholds, **spec.grade_thresholds}
        if not t["red"] > t["orange"] > t["yellow"] > 0:
            raise _fail("need red > orange > yellow > 0", None, f"{where}.grade_thresholds")
    if spec.method == "ahp":
        if spec.groups is None:
            raise _fail("an AHP model needs a 'groups' pairwise matrix", None, f"{where}.groups")
        used_groups = {i.group for i in cat.indicators}
        if set(spec.groups.order) != used_groups:
            raise _fail(
                f"group matrix order {spec.groups.order} must name exactly the groups in use "
                f"{sorted(used_groups)}",
                None,
                f"{where}.groups.order",
            )
        for group in used_groups:
            members = cat.members(group)
            pm = spec.within.get(group)
            if pm is None:
                if len(members) > 1:
                    raise _fail(
                        f"group {group!r} has {len(members)} indicators and needs a matrix",
                        None,
                        f"{where}.within.{group}",
                    )
                continue
            if sorted(pm.order) != sorted(members):
                raise _fail(
                    f"matrix order {pm.order} must name exactly the members {members}",
                    None,
                    f"{where}.within.{group}.order",
                )
        unknown = set(spec.within) - used_groups
        if unknown:
            raise _fail(f"unknown groups {sorted(unknown)}", None, f"{where}.within")
    elif spec.method == "direct":
        if spec.weights is not None:
            extra = set(spec.weights) - keys
            if extra:
                raise _fail(f"weights for unknown indicators {sorted(extra)}", None, where)
            missing = keys - set(spec.weights)
            if missing:
                raise _fail(f"no weight for {sorted(missing)}", None, f"{where}.weights")
        else:
            for ind in cat.indicators:
                if ind.weight is None:
                    raise _fail(f"model {name!r} (direct) needs a weight", ind.key, "weight")
        weights = spec.weights or {i.key: float(i.weight or 0.0) for i in cat.indicators}
        if sum(weights.values()) <= 0:
            raise _fail("direct weights must not all be zero", None, f"{where}.weights")


def _check_semantics(cat: Catalogue) -> None:
    seen: set[str] = set()
    for ind in cat.indicators:
        if ind.key in seen:
            raise _fail("duplicate indicator key", ind.key, "key")
        seen.add(ind.key)
        _check_indicator(ind, cat.groups)
    if not cat.indicators:
        raise _fail("the catalogue has no indicators", None, "indicators")
    t = cat.grades.thresholds
    if set(t) != {"red", "orange", "yellow"} or not (t["red"] > t["orange"] > t["yellow"] > 0):
        raise _fail("need thresholds red > orange > yellow > 0", None, "grades.thresholds")
    for name, spec in cat.models.items():
        _check_model(name, spec, cat)


def parse_catalogue(raw: Any) -> Catalogue:
    """Validate a catalogue given as plain data (the parsed YAML)."""
    if not isinstance(raw, dict):
        raise CatalogueInvalid("invalid catalogue: the document must be a mapping")
    try:
        cat = Catalogue.model_validate(raw)
    except ValidationError as exc:
        raise _pydantic_to_catalogue_error(exc, raw) from None
    _check_semantics(cat)
    return cat


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load a catalogue from ``path``, or the packaged default when ``path`` is None."""
    if path is None:
        return default_catalogue()
    text = Path(path).read_text(encoding="utf-8")
    return parse_catalogue(yaml.safe_load(text))


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The packaged, versioned default catalogue (``indicators.yaml``)."""
    text = (files("firegrid.risk") / "indicators.yaml").read_text(encoding="utf-8")
    return parse_catalogue(yaml.safe_load(text))
