"""Inspection plan rules and checklists, declared as data and validated on load.

``plan_rules.yaml``: venue category × risk grade × three-colour status → visit interval
(days) and a checklist; the first matching rule wins. ``checklists.yaml``: the checklists,
items with a code and zh/en text. An unknown category, grade, colour or checklist is a
:class:`ValidationFailed` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Problem, first_of, pydantic_problems
from firegrid.core.texts import TextCode
from firegrid.places.public import load_taxonomy

GRADES: tuple[str, ...] = ("red", "orange", "yellow", "blue", "none")  # none: never assessed
COLOURS: tuple[str, ...] = ("red", "yellow", "green")
BY_CLASS = "by_class"
KEY_UNIT = "key_unit"  # matches a venue flagged is_key_unit, whatever its category


class ChecklistItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, max_length=40)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Checklist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name_zh: str
    name_en: str
    items: list[ChecklistItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> Checklist:
        codes = [item.code for item in self.items]
        if len(codes) != len(set(codes)):
            raise ValueError(f"checklist item codes repeat: {codes}")
        return self


class ChecklistFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    checklists: dict[str, Checklist] = Field(min_length=1)


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    village_after_days: int = Field(ge=0)
    town_after_days: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Escalation:
        if self.town_after_days < self.village_after_days:
            raise ValueError("town_after_days must be at least village_after_days")
        return self


class PlanRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    categories: list[str] | None = None
    grades: list[str] | None = None
    colours: list[str] | None = None
    interval_days: int = Field(ge=1, le=366)
    checklist: str


class PlanRulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    escalation: Escalation
    rules: list[PlanRule] = Field(min_length=1)
    class_checklists: dict[str, str]


@dataclass(frozen=True)
class VenueFacts:
    """What a rule looks at for one venue."""

    category: str
    venue_class: str
    is_key_unit: bool
    grade: str  # red/orange/yellow/blue or "none"
    colour: str  # red/yellow/green


@dataclass(frozen=True)
class Decision:
    rule: str
    interval_days: int
    checklist: str


@dataclass(frozen=True)
class PlanRules:
    escalation: Escalation
    rules: tuple[PlanRule, ...]
    class_checklists: dict[str, str]
    checklists: dict[str, Checklist]

    def decide(self, venue: VenueFacts) -> Decision:
        for rule in self.rules:
            if _matches(rule, venue):
                checklist = rule.checklist
                if checklist == BY_CLASS:
                    checklist = self.class_checklists.get(venue.venue_class, "general")
                return Decision(rule.name, rule.interval_days, checklist)
        raise ValidationFailed(
            "no plan rule matches the venue",
            {"venue": venue.__dict__},
            text=TextCode.INSPECTION_NO_PLAN_RULE,
            params={},
        )


def _matches(rule: PlanRule, venue: VenueFacts) -> bool:
    if rule.grades is not None and venue.grade not in rule.grades:
        return False
    if rule.colours is not None and venue.colour not in rule.colours:
        return False
    if rule.categories is None:
        return True
    wanted = set(rule.categories)
    return (
        venue.category in wanted
        or venue.venue_class in wanted
        or (venue.is_key_unit and KEY_UNIT in wanted)
    )


def _load_yaml(text: str, what: str) -> Any:
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValidationFailed(
            f"{what} is not valid YAML: {exc}",
            text=TextCode.DOCUMENT_NOT_YAML,
            params={"kind": what.replace(" ", "_")},
        ) from None


def parse_checklists(text: str) -> dict[str, Checklist]:
    try:
        return dict(ChecklistFile.model_validate(_load_yaml(text, "checklists")).checklists)
    except ValidationError as exc:
        found = pydantic_problems(exc.errors())
        raise ValidationFailed(
            f"checklists are not valid: {exc}",
            {"problems": [f.as_dict() for f in found]},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "checklists", **first_of(found)},
        ) from None


def parse_plan_rules(text: str, checklists: dict[str, Checklist]) -> PlanRules:
    """Parse and check the rules against the taxonomy, the grades, colours and checklists."""
    try:
        data = PlanRulesFile.model_validate(_load_yaml(text, "plan rules"))
    except ValidationError as exc:
        found = pydantic_problems(exc.errors())
        raise ValidationFailed(
            f"plan rules are not valid: {exc}",
            {"problems": [f.as_dict() for f in found]},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "plan_rules", **first_of(found)},
        ) from None
    taxonomy = load_taxonomy()
    known_categories = set(taxonomy.categories) | set(taxonomy.classes) | {KEY_UNIT}
    for rule in data.rules:
        _check_known(rule.name, "category", rule.categories, known_categories)
        _check_known(rule.name, "grade", rule.grades, set(GRADES))
        _check_known(rule.name, "colour", rule.colours, set(COLOURS))
        if rule.checklist != BY_CLASS and rule.checklist not in checklists:
            _unknown(rule.name, "checklist", rule.checklist, set(checklists))
    for venue_class, checklist in data.class_checklists.items():
        if venue_class not in taxonomy.classes:
            _unknown("class_checklists", "class", venue_class, set(taxonomy.classes))
        if checklist not in checklists:
            _unknown("class_checklists", "checklist", checklist, set(checklists))
    last = data.rules[-1]
    if last.categories is not None or last.grades is not None or last.colours is not None:
        raise ValidationFailed(
            "the last plan rule must match every venue (no categories, grades or colours)",
            {"rule": last.name},
            text=TextCode.DOCUMENT_INVALID,
            params={
                "kind": "plan_rules",
                "field": last.name,
                "problem": Problem.LAST_RULE_MATCHES_ALL,
            },
        )
    return PlanRules(data.escalation, tuple(data.rules), dict(data.class_checklists), checklists)


def _check_known(rule: str, kind: str, values: list[str] | None, known: set[str]) -> None:
    for value in values or ():
        if value not in known:
            _unknown(rule, kind, value, known)


def _unknown(rule: str, kind: str, value: str, known: set[str]) -> None:
    raise ValidationFailed(
        f"plan rule {rule!r}: unknown {kind} {value!r}",
        {"rule": rule, kind: value, "known": sorted(known)},
        text=TextCode.DOCUMENT_INVALID,
        params={
            "kind": "plan_rules",
            "field": f"{rule}.{kind}",
            "problem": Problem.UNKNOWN_VALUE,
            "value": value,
        },
    )


@lru_cache(maxsize=1)
def default_plan_rules() -> PlanRules:
    package = files("firegrid.inspections")
    checklists = parse_checklists((package / "checklists.yaml").read_text(encoding="utf-8"))
    return parse_plan_rules((package / "plan_rules.yaml").read_text(encoding="utf-8"), checklists)
