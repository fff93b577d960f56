"""Correlation rules and the monitoring-centre policy, declared as data.

The defaults ship in ``rules.yaml``; rules stored in ``alarm_rules`` override them by name.
Every rule is validated with pydantic and an error names the rule and the field::

    rule 'two_detectors' (#1): when.count.at_least: Input should be greater than or equal to 1

Evaluation is pure: :func:`evaluate` takes the facts of one alarm (its folded history,
venue tags and category, whether a maintenance window is open) and returns the outcomes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from firegrid.alarms.states import AlarmKind
from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Found, Problem, first_of, pydantic_problems
from firegrid.core.texts import Params, TextCode
from firegrid.ingest.public import EventKind

RULE_NAME = r"^[a-z][a-z0-9_]{1,63}$"
#: A positive duration in seconds (at most a year).
Seconds = Annotated[float, Field(gt=0, le=366 * 86400)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventMatch(_Strict):
    """Matches one line of an alarm's history; every given field must match."""

    kinds: list[EventKind] = Field(default_factory=list)
    device_kinds: list[str] = Field(default_factory=list)
    values_below: dict[str, float] = Field(default_factory=dict)
    values_above: dict[str, float] = Field(default_factory=dict)
    values_equal: dict[str, str | int | float | bool] = Field(default_factory=dict)
    any_of: list[EventMatch] = Field(default_factory=list)

    def matches(self, line: HistoryLine) -> bool:
        if self.kinds and line.kind not in self.kinds:
            return False
        if self.device_kinds and line.device_kind not in self.device_kinds:
            return False
        for key, limit in self.values_below.items():
            value = line.values.get(key)
            if not isinstance(value, int | float) or not value < limit:
                return False
        for key, limit in self.values_above.items():
            value = line.values.get(key)
            if not isinstance(value, int | float) or not value > limit:
                return False
        for key, expected in self.values_equal.items():
            if line.values.get(key) != expected:
                return False
        return not self.any_of or any(sub.matches(line) for sub in self.any_of)


class CountCondition(_Strict):
    """At least ``at_least`` distinct components (or devices) matching, in one group."""

    match: EventMatch = Field(default_factory=EventMatch)
    distinct: Literal["component", "device"] = "component"
    group_by: Literal["zone", "venue"] = "zone"
    at_least: int = Field(2, ge=1, le=1000)


class When(_Strict):
    alarm_kinds: list[AlarmKind] = Field(default_factory=list)
    count: CountCondition | None = None
    all_of: list[EventMatch] = Field(default_factory=list)
    venue_tags_any: list[str] = Field(default_factory=list)
    venue_categories: list[str] = Field(default_factory=list)
    in_maintenance_window: bool | None = None


class Then(_Strict):
    action: Literal["confirm", "raise_priority", "suppress"]
    by: int = Field(1, ge=-10, le=10)


class Rule(_Strict):
    name: str = Field(pattern=RULE_NAME)
    description: str = ""
    enabled: bool = True
    when: When
    then: Then


class Policy(_Strict):
    """Windows and timeouts of the monitoring centre (seconds)."""

    fold_window_s: float = Field(120.0, gt=0, le=86400)
    acknowledge_timeout_s: float = Field(60.0, gt=0)
    escalation_levels: list[Literal["village", "town", "city"]] = Field(
        default_factory=lambda: ["village", "town", "city"],  # type: ignore[arg-type]
        min_length=1,
    )
    verify_timeout_s: dict[str, Seconds] = Field(default_factory=lambda: {"default": 180.0})
    night_occupied_verify_timeout_s: float | None = Field(120.0, gt=0)
    task_due_s: float = Field(90.0, gt=0)
    #: True: asking a grid worker for an on-site check holds the auto-forward until the
    #: task is overdue (then the overdue timer forwards). False: the task must fall due
    #: before the shortest auto-forward (checked when a policy is saved).
    task_pauses_auto_forward: bool = False
    work_order_due_s: dict[str, Seconds] = Field(
        default_factory=lambda: {"fault": 259200.0, "offline": 86400.0, "low_battery": 604800.0}
    )
    reminder_interval_s: float = Field(86400.0, gt=0)
    incident_kind: dict[str, str] = Field(default_factory=lambda: {"default": "building_fire"})

    def shortest_verify_timeout(self) -> tuple[str, float]:
        """The field and value of the shortest auto-forward delay this policy can give."""
        pairs = [(f"verify_timeout_s.{k}", v) for k, v in self.verify_timeout_s.items()]
        if self.night_occupied_verify_timeout_s is not None:
            pairs.append(("night_occupied_verify_timeout_s", self.night_occupied_verify_timeout_s))
        return min(pairs, key=lambda pair: pair[1]) if pairs else ("verify_timeout_s", 180.0)

    def verify_timeout_for(self, category: str, tags: Iterable[str] = ()) -> float:
        timeout = self.verify_timeout_s.get(category, self.verify_timeout_s.get("default", 180.0))
        if self.night_occupied_verify_timeout_s is not None and "night_occupied" in tags:
            timeout = min(timeout, self.night_occupied_verify_timeout_s)
        return timeout

    def incident_kind_for(self, category: str) -> str:
        return self.incident_kind.get(category, self.incident_kind.get("default", "building_fire"))

    def work_order_due_for(self, kind: str) -> float:
        return self.work_order_due_s.get(kind, 259200.0)


# Facts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    """What a rule sees of one line of an alarm's history."""

    kind: str
    device_kind: str
    device_id: int | None
    component: str
    zone: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlarmFacts:
    alarm_kind: str
    venue_category: str
    venue_tags: frozenset[str]
    lines: Sequence[HistoryLine]
    maintenance_reason: str | None = None  # "test" / "maintenance" when a window is open


@dataclass(frozen=True)
class Outcome:
    rule: str
    action: str
    by: int = 0


def _count_ok(cond: CountCondition, lines: Sequence[HistoryLine]) -> bool:
    groups: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        if cond.match.matches(line):
            key = line.zone if cond.group_by == "zone" else ""
            ident = line.component if cond.distinct == "component" else str(line.device_id)
            groups[key].add(ident)
    return any(len(members) >= cond.at_least for members in groups.values())


def rule_applies(rule: Rule, facts: AlarmFacts) -> bool:
    when = rule.when
    if when.alarm_kinds and facts.alarm_kind not in when.alarm_kinds:
        return False
    if when.venue_categories and facts.venue_category not in when.venue_categories:
        return False
    if when.venue_tags_any and not facts.venue_tags & set(when.venue_tags_any):
        return False
    if when.in_maintenance_window is not None and when.in_maintenance_window != (
        facts.maintenance_reason is not None
    ):
        return False
    if when.count is not None and not _count_ok(when.count, facts.lines):
        return False
    return all(any(match.matches(line) for line in facts.lines) for match in when.all_of)


def evaluate(rules: Sequence[Rule], facts: AlarmFacts) -> list[Outcome]:
    """The outcomes of every enabled rule that applies to ``facts``."""
    return [
        Outcome(rule.name, rule.then.action, rule.then.by)
        for rule in rules
        if rule.enabled and rule_applies(rule, facts)
    ]


# Loading -----------------------------------------------------------------------------------


def _describe(error: ValidationError) -> list[Found]:
    return pydantic_problems(error.errors())


def parse_rule(data: Any, index: int = 0) -> Rule:
    """One rule from data; :class:`ValidationFailed` names the rule and the fields."""
    name = data.get("name", f"#{index + 1}") if isinstance(data, dict) else f"#{index + 1}"
    try:
        return Rule.model_validate(data)
    except ValidationError as exc:
        problems = _describe(exc)
        first = problems[0]
        raise ValidationFailed(
            f"rule {name!r} (#{index + 1}): {first.field}: {first.message}",
            {"rule": name, "index": index + 1, "problems": [p.as_dict() for p in problems]},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "alarm_rule", **first_of(problems), "field": f"{name}.{first.field}"},
        ) from None


def parse_rules(items: Sequence[Any]) -> list[Rule]:
    """Every rule of ``items``; collects the problems of all bad rules before raising."""
    rules: list[Rule] = []
    problems: list[dict[str, Any]] = []
    messages: list[str] = []
    firsts: list[Params] = []
    for index, data in enumerate(items):
        try:
            rules.append(parse_rule(data, index))
        except ValidationFailed as exc:
            problems.append(exc.details)
            messages.append(exc.message)
            firsts.append(exc.text_params)
    names = [rule.name for rule in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        messages.append(f"duplicate rule names: {', '.join(duplicates)}")
        problems.append({"duplicates": duplicates})
        firsts.append({"field": "name", "problem": Problem.DUPLICATE, "value": duplicates[0]})
    if messages:
        raise ValidationFailed(
            "; ".join(messages),
            {"rules": problems},
            text=TextCode.DOCUMENT_INVALID,
            params={**firsts[0], "kind": "alarm_rules", "more": len(messages) - 1},
        )
    return rules


def parse_policy(data: Any) -> Policy:
    try:
        return Policy.model_validate(data or {})
    except ValidationError as exc:
        problems = _describe(exc)
        raise ValidationFailed(
            f"policy: {problems[0].field}: {problems[0].message}",
            {"problems": [p.as_dict() for p in problems]},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "alarm_policy", **first_of(problems)},
        ) from None


def load_document(text: str) -> tuple[Policy, list[Rule]]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValidationFailed(
            f"rules file is not valid YAML: {exc}",
            text=TextCode.DOCUMENT_NOT_YAML,
            params={"kind": "alarm_rules"},
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "rules file must be a mapping with 'policy' and 'rules'",
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "alarm_rules", "field": "", "problem": Problem.NOT_MAPPING},
        )
    return parse_policy(data.get("policy")), parse_rules(data.get("rules") or [])


@lru_cache(maxsize=1)
def default_document() -> tuple[Policy, tuple[Rule, ...]]:
    text = (files("firegrid.alarms") / "rules.yaml").read_text(encoding="utf-8")
    policy, rules = load_document(text)
    return policy, tuple(rules)


def default_policy() -> Policy:
    return default_document()[0]


def default_rules() -> list[Rule]:
    return list(default_document()[1])


def merge_rules(defaults: Sequence[Rule], stored: Sequence[Rule]) -> list[Rule]:
    """Defaults with stored rules replacing those of the same name, stored extras after."""
    by_name = {rule.name: rule for rule in stored}
    merged = [by_name.pop(rule.name, rule) for rule in defaults]
    return merged + list(by_name.values())
