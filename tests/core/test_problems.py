"""Third-party validation messages become problem codes with parameters: pydantic errors by
their ``type`` (one mapping for documents and for request validation), jsonschema errors by
their ``validator``; what no code says travels as ``detail``, apart from the sentence."""

from __future__ import annotations

import json
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import (
    Found,
    Problem,
    first_of,
    jsonschema_problem,
    pydantic_problems,
    validation_text,
)
from firegrid.core.texts import TextCode


class Shift(BaseModel):
    model_config = ConfigDict(extra="forbid")

    crew: int = Field(ge=1)
    name: str = Field(max_length=3)
    kind: Literal["day", "night"]
    start_s: float = Field(lt=86400)
    colour: str = "red"

    @field_validator("colour")
    @classmethod
    def known_colour(cls, value: str) -> str:
        if value not in {"red", "blue"}:
            raise ValueError(f"{value} is not a colour")
        return value


def _problems(data: dict[str, Any]) -> dict[str, tuple[Problem, dict[str, Any]]]:
    with pytest.raises(ValidationError) as info:
        Shift.model_validate(data)
    return {f.field: (f.problem, dict(f.params)) for f in pydantic_problems(info.value.errors())}


def test_pydantic_errors_map_by_type_with_their_limits() -> None:
    found = _problems({"crew": 0, "name": "night", "kind": "dusk", "extra": 1, "colour": "red"})
    assert found == {
        "crew": (Problem.GREATER_THAN_EQUAL, {"ge": 1}),
        "name": (Problem.STRING_TOO_LONG, {"max_length": 3}),
        "kind": (Problem.ENUM, {"expected": "'day', 'night'"}),  # pydantic's "or" dropped
        "start_s": (Problem.MISSING, {}),
        "extra": (Problem.EXTRA_FORBIDDEN, {}),
    }


def test_pydantic_parsing_errors_and_the_unmapped_ones() -> None:
    found = _problems({"crew": "many", "name": "a", "kind": "day", "start_s": 1, "colour": "x"})
    assert found["crew"] == (Problem.INT_PARSING, {})
    # a mapped type whose reason pydantic words in English: the code, the words apart
    when = validation_text(
        {
            "type": "datetime_parsing",
            "loc": ("body", "at"),
            "msg": "m",
            "ctx": {"error": "too short"},
        }
    )
    assert (when.code, when.params) == (
        TextCode.VALIDATION_DATETIME,
        {"field": "at", "detail": "too short"},
    )
    # a custom validator's words: no code says them, so they go apart as ``detail``
    problem, params = found["colour"]
    assert problem is Problem.INVALID
    assert params == {"detail": "Value error, x is not a colour"}


def test_one_mapping_names_the_request_validation_sentence() -> None:
    with pytest.raises(ValidationError) as info:
        Shift.model_validate({"crew": 0, "name": "a", "kind": "day", "start_s": 90000})
    texts = [validation_text({**e, "loc": ("body", *e["loc"])}) for e in info.value.errors()]
    assert [(t.code, t.params) for t in texts] == [
        (TextCode.VALIDATION_GREATER_THAN_EQUAL, {"field": "crew", "ge": 1}),
        (TextCode.VALIDATION_LESS_THAN, {"field": "start_s", "lt": 86400}),
    ]
    guard = validation_text({"type": "control_character", "loc": ("query", "q"), "msg": "m"})
    assert (guard.code, guard.params) == (TextCode.VALIDATION_CONTROL_CHARACTER, {"field": "q"})


SCHEMA = {
    "type": "object",
    "required": ["id", "kind"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "maxLength": 3, "pattern": "^[a-z]+$"},
        "kind": {"enum": ["fire", "rescue"]},
        "crew": {"type": "integer", "minimum": 1},
        "units": {"type": "array", "minItems": 1},
        "where": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    },
}


def _schema_problems(document: Any) -> dict[str, tuple[Problem, dict[str, Any]]]:
    errors = jsonschema.Draft202012Validator(SCHEMA).iter_errors(document)
    found = [jsonschema_problem(e) for e in errors]
    return {f.field: (f.problem, dict(f.params)) for f in found}


def test_jsonschema_errors_map_by_validator() -> None:
    document = {"id": "ABCD", "crew": 0, "units": [], "colour": "red", "where": None}
    found = _schema_problems(document)
    assert found["/kind"] == (Problem.MISSING, {})
    assert found["/crew"] == (Problem.GREATER_THAN_EQUAL, {"ge": 1})
    assert found["/units"] == (Problem.TOO_SHORT, {"min_length": 1})
    assert found["/colour"] == (Problem.EXTRA_FORBIDDEN, {})
    problem, params = found["/where"]  # oneOf: no code says it
    assert problem is Problem.INVALID
    assert params["detail"].startswith("None is not valid under any of the given schemas")
    by_id = _schema_problems({"id": "ABCD", "kind": "flood"})
    assert by_id["/kind"] == (Problem.ENUM, {"expected": "fire, rescue"})
    assert _schema_problems({"id": 7, "kind": "fire"})["/id"] == (
        Problem.WRONG_TYPE,
        {"expected": "string"},
    )
    long_id = [
        jsonschema_problem(e)
        for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors({"id": "ABCD", "kind": "fire"})
    ]
    assert {(f.problem, tuple(f.params.items())) for f in long_id} == {
        (Problem.STRING_TOO_LONG, (("max_length", 3),)),
        (Problem.STRING_PATTERN_MISMATCH, (("pattern", "^[a-z]+$"),)),
    }


def test_a_list_of_problems_says_the_first_and_counts_the_rest() -> None:
    found = [
        Found("add", Problem.INTERVAL, "add must be in [0, 500]", {"interval": "[0, 500]"}),
        Found("model", Problem.ENUM, "model must be one of a, b", {"expected": ["a", "b"]}),
    ]
    assert first_of(found) == {
        "field": "add",
        "problem": "interval",
        "interval": "[0, 500]",
        "more": 1,
    }
    assert found[1].as_dict() == {
        "field": "model",
        "code": "enum",
        "params": {"expected": "a, b"},
        "message": "model must be one of a, b",
    }


def test_refusals_carry_codes_not_english() -> None:
    """A few refusals end to end: the planning parameters, a data file, an EIDO document and
    the travel-time engine's error."""
    from firegrid.core.datafiles import parse_yaml_model
    from firegrid.geo.api import engine_error
    from firegrid.geo.errors import GeoError, NoRoute
    from firegrid.interop.eido import InvalidEido, validate
    from firegrid.planning.stations import StationParams

    with pytest.raises(ValidationFailed) as planning:
        StationParams(add=600, model="nope").check()
    assert planning.value.text_params["problem"] == Problem.ENUM
    assert planning.value.text_params["field"] == "model"
    assert planning.value.text_params["more"] == 1
    assert [p["code"] for p in planning.value.details["problems"]] == ["enum", "interval"]

    with pytest.raises(ValidationFailed) as datafile:
        parse_yaml_model(
            Shift, "crew: 0\n", label="shift rules", origin="x.yaml", shape="a mapping"
        )
    params = datafile.value.text_params
    assert (params["kind"], params["field"], params["problem"]) == (
        "shift_rules",
        "crew",
        "greater_than_equal",
    )
    assert params["ge"] == 1
    with pytest.raises(ValidationFailed) as not_mapping:
        parse_yaml_model(Shift, "- 1\n", label="shift rules", origin="x.yaml", shape="a mapping")
    assert not_mapping.value.text_params["problem"] == Problem.NOT_MAPPING

    with pytest.raises(InvalidEido) as eido:
        validate({"not": "an eido"})
    assert eido.value.text_params["problem"] in set(Problem)
    assert all(p["code"] in set(Problem) for p in eido.value.details["problems"])

    assert engine_error(NoRoute("no way")) == {"error": Problem.NO_ROUTE}

    class Newer(GeoError):
        code = "brand_new_token"

    assert engine_error(Newer("x")) == {"error": Problem.GEO_ERROR, "detail": "brand_new_token"}


def test_a_bad_boundary_says_what_is_wrong_as_a_code() -> None:
    from firegrid.places.service import validate_boundary

    def refusal(geometry: dict[str, Any]) -> dict[str, Any]:
        with pytest.raises(ValidationFailed) as info:
            validate_boundary(geometry)
        assert info.value.text_code is TextCode.GEO_BAD_BOUNDARY
        return dict(info.value.text_params)

    bow_tie = [[[120.0, 30.0], [120.1, 30.1], [120.1, 30.0], [120.0, 30.1], [120.0, 30.0]]]
    assert refusal({"type": "Polygon", "coordinates": bow_tie}) == {"problem": "self_intersection"}
    point = refusal({"type": "Point", "coordinates": [120.0, 30.0]})
    assert point == {"problem": "not_polygon", "geometry_type": "Point"}
    garbage = refusal({"type": "Polygon", "coordinates": "nope"})
    assert garbage["problem"] == "not_geometry"
    assert garbage["detail"]  # shapely's own words, kept apart


def test_the_problem_is_json_on_the_wire() -> None:
    error = ValidationFailed(
        "x", text=TextCode.GEO_BAD_BOUNDARY, params={"problem": Problem.SELF_INTERSECTION}
    )
    wire = json.loads(json.dumps(error.envelope()))
    assert wire["error"]["message_params"] == {"problem": "self_intersection"}
