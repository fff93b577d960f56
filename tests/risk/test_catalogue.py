"""Catalogue validation: the packaged default, and clear errors naming indicator and field."""

from __future__ import annotations

import copy
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml

from firegrid.risk import load_catalogue, load_model
from firegrid.risk.catalogue import default_catalogue, parse_catalogue
from firegrid.risk.errors import CatalogueInvalid, InconsistentJudgements, UnknownModel


@pytest.fixture
def raw() -> dict[str, Any]:
    text = (files("firegrid.risk") / "indicators.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _indicator(raw: dict[str, Any], key: str) -> dict[str, Any]:
    return next(i for i in raw["indicators"] if i["key"] == key)


def test_default_catalogue_is_valid_and_versioned() -> None:
    cat = default_catalogue()
    assert cat.version
    assert len(cat.indicators) >= 15
    assert set(cat.groups) == {
        "static",
        "management",
        "device_health",
        "response_capacity",
        "history",
    }
    kinds = {i.normalisation.kind for i in cat.indicators}
    assert kinds == {"minmax", "percentile", "thresholds", "boolean", "categorical"}
    assert all(i.fix for i in cat.indicators if i.modifiable)


def test_load_from_path(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["version"] = "test-9"
    path = tmp_path / "cat.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert load_catalogue(path).version == "test-9"


@pytest.mark.parametrize(
    ("key", "mutate", "field", "message"),
    [
        (
            "open_hazards",
            lambda i: i["normalisation"].update(scores=[0, 1]),
            "normalisation.scores",
            "len(scores)",
        ),
        (
            "open_hazards",
            lambda i: i["normalisation"].update(breakpoints=[1, 6, 3, 10]),
            "normalisation.breakpoints",
            "strictly increasing",
        ),
        (
            "open_hazards",
            lambda i: i["normalisation"].update(scores=[1.0, 0.85, 0.6, 0.3, 0.0]),
            "normalisation.scores",
            "non-decreasing",
        ),
        ("floors", lambda i: i.update(group="weather"), "group", "unknown group"),
        ("construction_class", lambda i: i.update(missing="median"), "missing", "median"),
        ("occupancy", lambda i: i.update(normalisation={"kind": "zscore"}), "normalisation", None),
        ("occupancy", lambda i: i.update(missing="mean"), "missing", None),
        ("occupancy", lambda i: i.pop("source"), "source", "Field required"),
        ("open_hazards", lambda i: i.update(fix=None), "fix", "modifiable"),
        ("occupancy", lambda i: i.update(weight=-1), "weight", ">= 0"),
        ("occupancy", lambda i: i.update(colour="red"), "colour", "Extra inputs"),
    ],
)
def test_invalid_indicator_names_indicator_and_field(
    raw: dict[str, Any], key: str, mutate: Any, field: str, message: str | None
) -> None:
    bad = copy.deepcopy(raw)
    mutate(_indicator(bad, key))
    with pytest.raises(CatalogueInvalid) as info:
        parse_catalogue(bad)
    err = info.value
    assert err.indicator == key
    assert err.field is not None
    assert err.field.startswith(field)
    assert repr(key) in str(err)
    if message:
        assert message in str(err)


def test_duplicate_key(raw: dict[str, Any]) -> None:
    raw["indicators"].append(copy.deepcopy(raw["indicators"][0]))
    with pytest.raises(CatalogueInvalid, match="duplicate"):
        parse_catalogue(raw)


def test_grade_thresholds_must_be_ordered(raw: dict[str, Any]) -> None:
    raw["grades"]["thresholds"] = {"red": 40, "orange": 50, "yellow": 30}
    with pytest.raises(CatalogueInvalid) as info:
        parse_catalogue(raw)
    assert info.value.field == "grades.thresholds"


def test_model_grade_override_must_be_ordered(raw: dict[str, Any]) -> None:
    raw["models"]["equal-weights"]["grade_thresholds"] = {"red": 20}
    with pytest.raises(CatalogueInvalid) as info:
        parse_catalogue(raw)
    assert info.value.field == "models.equal-weights.grade_thresholds"


def test_ahp_matrix_must_name_the_group_members(raw: dict[str, Any]) -> None:
    raw["models"]["expert-ahp"]["within"]["management"]["order"][0] = "nonsense"
    with pytest.raises(CatalogueInvalid) as info:
        parse_catalogue(raw)
    assert info.value.field == "models.expert-ahp.within.management.order"


def test_inconsistent_model_matrix_refused_when_built(raw: dict[str, Any]) -> None:
    raw["models"]["expert-ahp"]["within"]["management"]["matrix"] = [
        [1, 9, "1/9"],
        ["1/9", 1, 9],
        [9, "1/9", 1],
    ]
    cat = parse_catalogue(raw)
    with pytest.raises(InconsistentJudgements) as info:
        load_model("expert-ahp", cat)
    assert info.value.matrix_name == "within.management"
    assert info.value.cr > 0.1


def test_direct_model_needs_weights(raw: dict[str, Any]) -> None:
    del _indicator(raw, "floors")["weight"]
    with pytest.raises(CatalogueInvalid) as info:
        parse_catalogue(raw)
    assert info.value.indicator == "floors"
    assert info.value.field == "weight"


def test_unknown_model() -> None:
    with pytest.raises(UnknownModel):
        load_model("crystal-ball")
