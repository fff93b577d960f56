"""Server texts as codes: every code the server can emit has a translation in both of the
console's languages, with the same parameters; the error envelope and the validation
problems carry their codes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.errors import Conflict
from firegrid.core.problems import validation_text
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode

LOCALES = Path(__file__).resolve().parents[2] / "web" / "src" / "locales"


def translation(locale: str, code: str) -> str | None:
    node: Any = json.loads((LOCALES / f"{locale}.json").read_text(encoding="utf-8"))
    for part in ["server", *code.split(".")]:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, str) else None


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_text_code_is_translated(locale: str) -> None:
    missing = [code.value for code in TextCode if not translation(locale, code.value)]
    assert not missing, f"{locale} lacks server.<code> for {missing}"


def test_both_languages_use_the_same_parameters() -> None:
    def names(text: str | None) -> set[str]:
        return set(re.findall(r"\{(\w+)\}", text or ""))

    differ = {
        code.value: (names(translation("zh-CN", code.value)), names(translation("en", code.value)))
        for code in TextCode
        if names(translation("zh-CN", code.value)) != names(translation("en", code.value))
    }
    assert not differ


def test_a_refusal_carries_its_code_and_params_in_the_envelope() -> None:
    refused = Conflict(
        "incident 7 is closed", text=TextCode.INCIDENT_CLOSED, params={"incident_id": 7}
    )
    error = refused.envelope()["error"]
    assert error["code"] == "conflict"
    assert error["message"] == "incident 7 is closed"
    assert error["message_code"] == "incident.closed"
    assert error["message_params"] == {"incident_id": 7}
    plain = Conflict("no code").envelope()["error"]
    assert plain["message_code"] is None
    assert plain["message_params"] == {}


def test_pydantic_errors_become_codes_with_their_limits() -> None:
    text = validation_text(
        {
            "type": "string_too_long",
            "loc": ("body", "cause"),
            "msg": "...",
            "ctx": {"max_length": 300},
        }
    )
    assert text.code is TextCode.VALIDATION_STRING_TOO_LONG
    assert text.params == {"field": "cause", "max_length": 300}
    assert validation_text({"type": "no_such_type", "loc": ()}).code is TextCode.VALIDATION_INVALID


def test_the_api_names_each_invalid_field_with_a_code(settings: Settings, db: Database) -> None:
    client = TestClient(create_app(settings, db))
    answer = client.post("/api/v1/auth/login", json={"username": "x"})
    assert answer.status_code == 422
    problems = answer.json()["error"]["details"]
    assert [(p["code"], p["params"]["field"]) for p in problems] == [
        ("validation.missing", "password")
    ]


@pytest.mark.parametrize(
    ("cause", "code", "params"),
    [
        ("acknowledged by the operator", "alarm_cause.acknowledged", {"note": ""}),
        ("closed: 已处理", "alarm_cause.closed", {"note": "已处理"}),
        (
            "call by monitor (user:3): false_alarm (cooking): 厨房油烟",
            "alarm_cause.decided",
            {
                "method": "call",
                "actor": "monitor (user:3)",
                "outcome": "false_alarm",
                "reason": "cooking",
                "note": "厨房油烟",
            },
        ),
        (
            "work order 4 closed by admin",
            "alarm_cause.work_order_closed",
            {"order_id": "4", "actor": "admin", "note": ""},
        ),
        ("a sentence nobody wrote", None, None),
    ],
)
def test_alarm_causes_are_recognised(
    cause: str, code: str | None, params: dict[str, str] | None
) -> None:
    from firegrid.alarms.cause_texts import cause_text

    text = cause_text(cause)
    if code is None:
        assert text is None
        return
    assert text is not None
    assert (text.code.value, text.params) == (code, params)


def test_every_refused_state_change_carries_a_text_code() -> None:
    """Each ``raise Conflict(...)`` (or a subclass) in the source passes ``text=``: a 409
    the console shows is never English-only."""
    import ast

    root = Path(__file__).resolve().parents[2] / "src" / "firegrid"
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in root.rglob("*.py")}
    conflicts = {"Conflict"}
    grown = True
    while grown:  # subclasses of subclasses, wherever they are declared
        grown = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in conflicts:
                    bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
                    if bases & conflicts:
                        conflicts.add(node.name)
                        grown = True
    uncoded = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in conflicts and not any(k.arg == "text" for k in node.exc.keywords):
                    uncoded.append(f"{path.relative_to(root)}:{node.lineno}")
    assert len(conflicts) > 1  # the walk found the subclasses (InvalidTransition, ...)
    assert not uncoded, f"raise Conflict(..., text=TextCode.X, params=...) at {uncoded}"
