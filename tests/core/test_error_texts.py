"""Every refusal the server raises carries a text code (issue #19): a ``DomainError`` (or a
subclass) built anywhere in ``src/firegrid`` passes ``text=TextCode.X`` with ``params=``
holding every ``{name}`` its translations use, unless its class says one thing always
(``default_text``, or an ``__init__`` that passes ``text=`` itself). A ``kind`` named in the
parameters is a token the console translates (``entityKind.<kind>``)."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from firegrid.core.errors import DomainError, NotFound, ValidationFailed
from firegrid.core.problems import PYDANTIC_TYPES, Problem
from firegrid.core.texts import Text, TextCode

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "firegrid"
LOCALES = ROOT / "web" / "src" / "locales"
BASE = "DomainError"
#: parameters a sentence may carry without naming them (appended by the console; ``detail``
#: shown apart, verbatim)
SUFFIXES = {"reason", "note", "more", "detail"}
#: parameters holding a :class:`Problem` code (``problem.<code>`` in the locales)
PROBLEM_PARAMS = ("problem", "error")


@cache
def locale(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((LOCALES / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def translation(name: str, code: str) -> str:
    node: Any = locale(name)["server"]
    for part in code.split("."):
        node = node[part]
    assert isinstance(node, str)
    return node


@dataclass(frozen=True)
class Site:
    where: str
    cls: str
    call: ast.Call


@cache
def trees() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(SRC)): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(SRC.rglob("*.py"))
    }


def _name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")


def _passes_text_itself(cls: ast.ClassDef) -> bool:
    """Whether the class declares ``default_text`` or its ``__init__`` passes ``text=``."""
    for item in cls.body:
        targets = (
            [t for t in item.targets if isinstance(t, ast.Name)]
            if isinstance(item, ast.Assign)
            else [item.target]
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == "default_text" for t in targets):
            return True
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            for node in ast.walk(item):
                if (
                    isinstance(node, ast.Call)
                    and _name(node.func) == "__init__"
                    and any(k.arg == "text" for k in node.keywords)
                ):
                    return True
    return False


@cache
def error_classes() -> tuple[frozenset[str], frozenset[str]]:
    """Names of the DomainError classes, and those of them that carry their own text."""
    known, coded = {BASE}, set[str]()
    grown = True
    while grown:  # subclasses of subclasses, wherever they are declared
        grown = False
        for tree in trees().values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in known:
                    bases = {_name(b) for b in node.bases}
                    if bases & known:
                        known.add(node.name)
                        if _passes_text_itself(node) or bases & coded:
                            coded.add(node.name)
                        grown = True
    return frozenset(known), frozenset(coded)


@cache
def sites() -> tuple[Site, ...]:
    known, _coded = error_classes()
    found = []
    for path, tree in trees().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in known:
                found.append(Site(f"{path}:{node.lineno}", _name(node.func), node))
    return tuple(found)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_the_walk_sees_the_error_classes_and_their_raises() -> None:
    known, coded = error_classes()
    assert {"ValidationFailed", "NotFound", "Forbidden", "Unauthenticated", "OutsideCity"} <= known
    assert {"InvalidEido", "SignatureError", "CatalogueInvalid", "LogUnavailable"} <= known
    assert {"InputContractError", "CatalogueInvalid", "LoginThrottled"} <= coded
    assert "ValidationFailed" not in coded
    assert "NotFound" not in coded
    assert len(sites()) > 400


def test_every_domain_error_built_in_the_source_carries_a_text_code() -> None:
    """Raised, returned or kept in a variable: each construction names its text."""
    _known, coded = error_classes()
    uncoded = [s.where for s in sites() if s.cls not in coded and _keyword(s.call, "text") is None]
    assert not uncoded, f"add text=TextCode.X, params={{...}} at {uncoded}"


def test_each_raise_gives_every_parameter_its_sentence_uses() -> None:
    checked, missing = 0, []
    for site in sites():
        text, params = _keyword(site.call, "text"), _keyword(site.call, "params")
        if not (isinstance(text, ast.Attribute) and _name(text.value) == "TextCode"):
            continue
        code = TextCode[text.attr].value
        needed = set()
        for name in ("zh-CN", "en"):
            needed |= set(re.findall(r"\{(\w+)\}", translation(name, code))) - SUFFIXES
        if params is None:
            given: set[str] = set()
        elif isinstance(params, ast.Dict) and all(isinstance(k, ast.Constant) for k in params.keys):
            given = {str(k.value) for k in params.keys if isinstance(k, ast.Constant)}
        else:
            continue  # built elsewhere: the translation test of its code covers it
        checked += 1
        if needed - given:
            missing.append(f"{site.where} {code}: {sorted(needed - given)}")
    assert checked > 400
    assert not missing


def test_every_kind_named_in_a_refusal_is_translated() -> None:
    kinds = set[str]()
    for site in sites():
        params = _keyword(site.call, "params")
        if isinstance(params, ast.Dict):
            for key, value in zip(params.keys, params.values, strict=True):
                named = isinstance(key, ast.Constant) and str(key.value).endswith("kind")
                if named and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    kinds.add(value.value)
    assert {"venue", "incident", "alarm", "device", "station"} <= kinds
    for name in ("zh-CN", "en"):
        untranslated = sorted(kinds - set(locale(name)["entityKind"]))
        assert not untranslated, f"{name} lacks entityKind.<kind> for {untranslated}"


def test_places_and_resources_kinds_are_translated() -> None:
    """Kinds taken from data rather than written out: levels, CRUD resources, import kinds."""
    from firegrid.places.bulk_kinds import BULK_KINDS
    from firegrid.places.importexport import resources
    from firegrid.risk.service import AREA_LEVELS, RANK_LEVELS

    kinds = {*AREA_LEVELS, *RANK_LEVELS, *resources(), *BULK_KINDS}
    kinds |= {name.rstrip("s").replace("-", "_") for name in resources()}
    for name in ("zh-CN", "en"):
        assert not sorted(kinds - set(locale(name)["entityKind"]))


def test_the_data_files_a_refusal_names_are_translated() -> None:
    """A data file's ``label`` (``merge rules``) becomes the kind ``merge_rules``."""
    labels = set[str]()
    for tree in trees().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in {
                "parse_yaml_model",
                "load_yaml_model",
            }:
                label = _keyword(node, "label")
                if isinstance(label, ast.Constant) and isinstance(label.value, str):
                    labels.add(label.value.replace(" ", "_"))
    assert {"merge_rules", "staffing_rules"} <= labels
    for name in ("zh-CN", "en"):
        assert not sorted(labels - set(locale(name)["entityKind"]))


def test_a_class_text_is_the_default_and_a_raise_may_still_name_its_own() -> None:
    class EngineRefused(ValidationFailed):
        default_text = TextCode.RISK_INPUT_INVALID

    assert EngineRefused("x").envelope()["error"]["message_code"] == "risk.input_invalid"
    own = EngineRefused("x", text=TextCode.VALIDATION_EMPTY, params={"field": "f"})
    assert own.envelope()["error"]["message_code"] == "validation.empty"
    assert own.envelope()["error"]["message_params"] == {"field": "f"}
    assert DomainError("plain").envelope()["error"]["message_code"] is None


@pytest.mark.parametrize(
    ("error", "code", "params"),
    [
        (
            NotFound(
                "venue 7 not found",
                text=TextCode.ENTITY_NOT_FOUND,
                params={"kind": "venue", "id": 7},
            ),
            "entity.not_found",
            {"kind": "venue", "id": 7},
        ),
        (
            ValidationFailed(
                "level must be one of a, b",
                text=TextCode.VALIDATION_UNKNOWN_VALUE,
                params={"field": "level", "value": "x", "allowed": ["a", "b"]},
            ),
            "validation.unknown_value",
            {"field": "level", "value": "x", "allowed": "a, b"},
        ),
    ],
)
def test_the_envelope_carries_the_code_and_flat_params(
    error: DomainError, code: str, params: dict[str, Any]
) -> None:
    body = error.envelope()["error"]
    assert (body["message_code"], body["message_params"]) == (code, params)


def _problem_value_fault(value: ast.expr) -> str | None:
    """Why a ``problem``/``error`` value is not a code (``None`` when it is one or is computed)."""
    if isinstance(value, ast.Attribute) and _name(value.value) == "Problem":
        return None if value.attr in Problem.__members__ else f"no Problem.{value.attr}"
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        known = value.value in {p.value for p in Problem}
        return None if known else f"the literal {value.value!r} is not a Problem code"
    if isinstance(value, ast.JoinedStr | ast.BinOp):
        return "text built from English words, not a Problem code"
    return None


def _problem_values() -> list[tuple[str, ast.expr]]:
    """Every value given to a ``problem``/``error`` key of a dict literal, and the problem
    argument of each ``Found(field, problem, ...)``."""
    found = []
    for path, tree in trees().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value in PROBLEM_PARAMS:
                        found.append((f"{path}:{value.lineno}", value))
            elif isinstance(node, ast.Call) and _name(node.func) == "Found" and len(node.args) > 1:
                found.append((f"{path}:{node.lineno}", node.args[1]))
    return found


def test_every_problem_parameter_is_a_problem_code() -> None:
    """A ``problem`` written as English (``"need lon, lat and address"``) is refused: it
    would stand untranslated inside the Chinese sentence."""
    values = _problem_values()
    assert len(values) > 30
    faults = [f"{where}: {fault}" for where, v in values if (fault := _problem_value_fault(v))]
    assert not faults


def test_the_problem_check_catches_english() -> None:
    def fault(source: str) -> str | None:
        return _problem_value_fault(ast.parse(source, mode="eval").body)

    assert fault('"need lon, lat and address"') is not None
    assert fault('f"must be {shape}"') is not None
    assert fault('"grades must be exactly " + ", ".join(GRADES)') is not None
    assert fault("Problem.NO_SUCH_PROBLEM") is not None
    assert fault('"self_intersection"') is None
    assert fault("Problem.NOT_MAPPING") is None


def test_every_problem_code_has_its_zh_cn_and_english_text() -> None:
    for name in ("zh-CN", "en"):
        texts = locale(name)["problem"]
        assert not sorted(p.value for p in Problem if p.value not in texts), name
        assert not sorted(set(texts) - {p.value for p in Problem}), f"{name}: unused texts"
    for problem in Problem:
        zh, en = locale("zh-CN")["problem"][problem], locale("en")["problem"][problem]
        assert set(re.findall(r"\{(\w+)\}", zh)) == set(re.findall(r"\{(\w+)\}", en)), problem


def test_a_pydantic_problem_has_its_request_validation_sentence() -> None:
    """One mapping for both: a request's invalid field is ``validation.<problem>``."""
    codes = {c.value for c in TextCode}
    assert not sorted(
        p
        for p in set(PYDANTIC_TYPES.values())
        if f"validation.{p}" not in codes and p not in {Problem.NOT_LIST, Problem.NOT_MAPPING}
    )


def test_every_token_of_the_travel_time_engine_is_a_problem_code() -> None:
    from firegrid.geo import errors

    tokens = {
        cls.code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.GeoError)
    }
    assert {"no_route", "point_off_network"} <= tokens
    assert not sorted(tokens - {p.value for p in Problem})


def _uncoded_rows(modules: dict[str, ast.Module]) -> tuple[int, list[str]]:
    """How many dict literals look like a row of a refused import (a ``line`` and a
    ``reason``), and where those without a ``code`` and ``params`` are."""
    rows, uncoded = 0, []
    for path, tree in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = {str(k.value) for k in node.keys if isinstance(k, ast.Constant)}
                if {"line", "reason"} <= keys:
                    rows += 1
                    if not {"code", "params"} <= keys:
                        uncoded.append(f"{path}:{node.lineno}")
    return rows, uncoded


def test_every_import_row_carries_a_text_code() -> None:
    """A bad row of an import (``details.errors[]`` of ``import.rows_invalid``) is built by
    :func:`firegrid.core.problems.row_error` from a text: a row with only an English
    ``reason`` would reach a Chinese reader in English."""
    rows, uncoded = _uncoded_rows(trees())
    assert rows, "the walk must see row_error's own dict"
    assert not uncoded, f"build the row with row_error(line, column, Text(...)) at {uncoded}"
    from firegrid.core.problems import row_error

    row = row_error(3, "lon", Text(TextCode.IMPORT_ROW_PROBLEM, "x", {"field": "lon"}))
    assert (row["code"], row["reason"]) == ("import.row_problem", "x")


def test_the_row_check_catches_a_row_without_a_code() -> None:
    source = 'errors.append({"line": 2, "column": "cost", "reason": "not a number >= 0"})'
    assert _uncoded_rows({"candidates.py": ast.parse(source)}) == (1, ["candidates.py:1"])


def test_the_import_row_sentence_names_its_field_and_problem() -> None:
    for name in ("zh-CN", "en"):
        sentence = translation(name, TextCode.IMPORT_ROW_PROBLEM.value)
        assert set(re.findall(r"\{(\w+)\}", sentence)) == {"field", "problem"}
