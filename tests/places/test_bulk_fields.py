"""Each refused cell of a bulk file says why as a problem code with the parameters its
sentence needs (``problem.<code>`` in zh-CN and en), next to the English the CLI prints."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from firegrid.core.problems import Problem
from firegrid.places.bulk_fields import (
    CellError,
    Parser,
    choice,
    code_text,
    day,
    integer,
    latitude,
    longitude,
    number,
    text,
    timestamp,
)

LOCALES = Path(__file__).resolve().parents[2] / "web" / "src" / "locales"

CASES: list[tuple[str, Parser, Any, Problem, dict[str, Any]]] = [
    ("too long", text(5), "abcdefg", Problem.STRING_TOO_LONG, {"max_length": 5}),
    ("control", text(50), "a\x07b", Problem.CONTROL_CHARACTER, {}),
    ("line break", text(50), "a\nb", Problem.CONTROL_CHARACTER, {}),
    ("code too long", code_text, "x" * 41, Problem.STRING_TOO_LONG, {"max_length": 40}),
    ("not whole", integer(), "ten", Problem.INT_PARSING, {"value": "ten"}),
    ("fraction", integer(), "2.5", Problem.INT_PARSING, {"value": "2.5"}),
    ("below", integer(1), "0", Problem.GREATER_THAN_EQUAL, {"ge": 1, "value": 0}),
    ("above", integer(0, 9), "10", Problem.LESS_THAN_EQUAL, {"le": 9, "value": 10}),
    ("not a number", number(0, 10), "x", Problem.FLOAT_PARSING, {"value": "x"}),
    ("number below", number(0, 10), "-1", Problem.GREATER_THAN_EQUAL, {"ge": 0, "value": -1.0}),
    ("number above", number(0, 10), "11", Problem.LESS_THAN_EQUAL, {"le": 10, "value": 11.0}),
    ("not finite", number(0, 10), "nan", Problem.FLOAT_PARSING, {"value": "nan"}),
    ("infinite", number(0, float("inf")), "inf", Problem.FLOAT_PARSING, {"value": "inf"}),
    ("a truth value", number(0, 10), True, Problem.FLOAT_PARSING, {"value": "True"}),
    ("nan degrees", longitude(), "NaN", Problem.FLOAT_PARSING, {"value": "NaN"}),
    ("projected x", longitude(), "500000", Problem.NOT_DEGREES, {"value": 500000.0}),
    ("projected y", latitude(), "2500000", Problem.NOT_DEGREES, {"value": 2500000.0}),
    ("not a time", timestamp, "yesterday", Problem.DATETIME, {"value": "yesterday"}),
    (
        "no offset",
        timestamp,
        "2026-11-03T09:30:00",
        Problem.TIMEZONE_NAIVE,
        {"value": "2026-11-03T09:30:00"},
    ),
    (
        "not a day",
        day,
        "03/11/2026",
        Problem.FORMAT,
        {"expected": "YYYY-MM-DD", "value": "03/11/2026"},
    ),
    (
        "not an option",
        choice("open", "rectified"),
        "closed",
        Problem.ENUM,
        {"expected": "open, rectified", "value": "closed"},
    ),
]


def _placeholders(locale: str, problem: Problem) -> set[str]:
    texts = json.loads((LOCALES / f"{locale}.json").read_text(encoding="utf-8"))["problem"]
    return set(re.findall(r"\{(\w+)\}", texts[problem.value]))


@pytest.mark.parametrize(
    ("parse", "value", "problem", "params"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_refused_cell_carries_its_problem_and_parameters(
    parse: Parser, value: Any, problem: Problem, params: dict[str, Any]
) -> None:
    with pytest.raises(CellError) as refused:
        parse(value)
    assert refused.value.problem is problem
    assert refused.value.params == params
    assert str(refused.value)  # the English reason, for the CLI
    found = refused.value.found("cell")
    assert found.as_params() == {"field": "cell", "problem": problem, **params}
    for locale in ("zh-CN", "en"):
        assert _placeholders(locale, problem) <= set(params), (locale, problem)
