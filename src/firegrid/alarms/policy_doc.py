"""The monitoring-centre policy as one document: timers, rules and the forwarding map.

A document is ``{"policy": {...}, "rules": [...]}`` (the shape of ``rules.yaml``).
:func:`validate_document` checks it whole and reports every problem, each naming its field::

    policy.task_due_s: 900 s is not before the shortest auto-forward ...
    policy.incident_kind.chemical_plant: unknown incident type 'hazmat_fir' ...
    rules[1].when.count.at_least: Input should be greater than or equal to 1

Besides the structure (no unknown keys, positive durations), the checks across fields are:

- timer order: a grid worker's on-site task falls due before the shortest auto-forward,
  unless ``task_pauses_auto_forward`` says the task holds the auto-forward;
- every incident type of ``incident_kind`` is one dispatch has response plans for (the
  caller asks dispatch and passes the set in; nothing is silently mapped);
- ``verify_timeout_s`` and ``incident_kind`` have a ``default``; their other keys are venue
  categories of the taxonomy.

Pure: no database. :mod:`firegrid.alarms.policy_store` stores validated versions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from firegrid.alarms.rules import Policy, Rule, parse_rules
from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Problem, detail, pydantic_problem
from firegrid.core.texts import Params, TextCode, params_of

TOP_KEYS = ("policy", "rules")


@dataclass(frozen=True)
class PolicyDocument:
    """A validated policy document."""

    policy: Policy
    rules: tuple[Rule, ...]

    def as_data(self) -> dict[str, Any]:
        """The complete document as JSON data (every field explicit)."""
        return {
            "policy": self.policy.model_dump(mode="json"),
            "rules": [rule.model_dump(mode="json") for rule in self.rules],
        }


def _problem(field: str, code: str, message: str, **params: Any) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message, "params": params}


def problem_params(problem: dict[str, Any]) -> Params:
    """The sentence's parameters of one problem: its ``code`` as ``problem`` (a code of
    :class:`Problem`), else ``invalid`` with the English message as ``detail``."""
    try:
        code = Problem(str(problem.get("code")))
    except ValueError:
        code = Problem.INVALID
    params = params_of(problem.get("params"))
    if code is Problem.INVALID:
        params.setdefault("detail", detail(problem["message"]))
    return {"field": problem["field"], "problem": code, **params}


def _pydantic_problems(prefix: str, error: ValidationError) -> list[dict[str, Any]]:
    out = []
    for err in error.errors():
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        found = pydantic_problem(err)
        code = "unknown_key" if found.problem is Problem.EXTRA_FORBIDDEN else found.problem.value
        out.append(_problem(prefix + path, code, err["msg"], **found.params))
    return out


def _rule_problems(items: Any) -> tuple[list[Rule], list[dict[str, Any]]]:
    if not isinstance(items, list):
        return [], [_problem("rules", Problem.NOT_LIST, "must be a list of rules")]
    problems: list[dict[str, Any]] = []
    for index, data in enumerate(items):
        try:
            Rule.model_validate(data)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(f"rules[{index}]", exc))
    if problems:
        return [], problems
    try:
        return parse_rules(items), []
    except ValidationFailed as exc:  # duplicate names
        return [], [_problem("rules", "duplicate_rule", exc.message)]


def _cross_checks(
    policy: Policy, incident_types: Collection[str] | None, categories: Collection[str] | None
) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    for name in ("verify_timeout_s", "incident_kind"):
        mapping: Mapping[str, Any] = getattr(policy, name)
        if "default" not in mapping:
            problems.append(
                _problem(f"policy.{name}", "missing_default", "needs a 'default' entry")
            )
        if categories is not None:
            for key in mapping:
                if key != "default" and key not in categories:
                    problems.append(
                        _problem(
                            f"policy.{name}.{key}",
                            "unknown_category",
                            f"unknown venue category {key!r}",
                            category=key,
                        )
                    )
    shortest_field, shortest_s = policy.shortest_verify_timeout()
    if not policy.task_pauses_auto_forward and policy.task_due_s >= shortest_s:
        problems.append(
            _problem(
                "policy.task_due_s",
                "timer_order",
                f"{policy.task_due_s:g} s is not before the shortest auto-forward "
                f"(policy.{shortest_field} = {shortest_s:g} s): make it shorter, or set "
                "policy.task_pauses_auto_forward: true",
                task_due_s=policy.task_due_s,
                auto_forward_field=f"policy.{shortest_field}",
                auto_forward_s=shortest_s,
            )
        )
    if len(set(policy.escalation_levels)) != len(policy.escalation_levels):
        problems.append(
            _problem(
                "policy.escalation_levels", Problem.NOT_UNIQUE, "a level appears more than once"
            )
        )
    if incident_types is not None:
        known = sorted(incident_types)
        for category, kind in policy.incident_kind.items():
            if kind not in incident_types:
                problems.append(
                    _problem(
                        f"policy.incident_kind.{category}",
                        "unknown_incident_type",
                        f"unknown incident type {kind!r}; dispatch has response plans for: "
                        + ", ".join(known),
                        incident_type=kind,
                        known=known,
                    )
                )
    return problems


#: The fields each cross-field check reads (skipped when one of them is itself invalid).
_CHECK_FIELDS = {
    "timer_order": {
        "task_due_s",
        "task_pauses_auto_forward",
        "verify_timeout_s",
        "night_occupied_verify_timeout_s",
    },
}


def _policy_problems(
    data: dict[str, Any],
    incident_types: Collection[str] | None,
    categories: Collection[str] | None,
) -> tuple[Policy | None, list[dict[str, Any]]]:
    """The policy section: structural problems, and the cross-field problems of the valid
    fields even when others are invalid (so one edit shows every problem at once)."""
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = _pydantic_problems("policy", exc)
        bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        try:
            rest = Policy.model_validate({k: v for k, v in data.items() if k not in bad})
        except ValidationError:
            return None, problems
        for problem in _cross_checks(rest, incident_types, categories):
            fields = _CHECK_FIELDS.get(problem["code"], {problem["field"].split(".")[1]})
            if not fields & bad:
                problems.append(problem)
        return None, problems
    return policy, _cross_checks(policy, incident_types, categories)


def validate_document(
    data: Any,
    *,
    incident_types: Collection[str] | None,
    categories: Collection[str] | None = None,
) -> PolicyDocument:
    """The validated document; :class:`ValidationFailed` lists every problem by field.

    ``incident_types``: the incident types dispatch has response plans for (``None`` skips
    that check, for the pure parser of a rules file); ``categories``: venue category codes.
    """
    if not isinstance(data, dict):
        raise ValidationFailed(
            "a policy document is a mapping with 'policy' and 'rules'",
            {
                "problems": [
                    _problem("", Problem.NOT_MAPPING, "must be a mapping with policy and rules")
                ]
            },
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "alarm_policy", "field": "", "problem": Problem.NOT_MAPPING},
        )
    problems: list[dict[str, Any]] = []
    for key in data:
        if key not in TOP_KEYS:
            problems.append(_problem(str(key), "unknown_key", "Extra inputs are not permitted"))
    for key in TOP_KEYS:
        if key not in data:
            problems.append(_problem(key, "missing", "Field required"))
    policy: Policy | None = None
    if isinstance(data.get("policy"), dict):
        policy, policy_problems = _policy_problems(data["policy"], incident_types, categories)
        problems.extend(policy_problems)
    elif "policy" in data:
        problems.append(_problem("policy", Problem.NOT_MAPPING, "must be a mapping"))
    rules, rule_problems = _rule_problems(data.get("rules", []))
    problems.extend(rule_problems)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ValidationFailed(
            f"invalid policy: {first['field']}: {first['message']}{more}",
            {"problems": problems},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "alarm_policy", **problem_params(first), "more": len(problems) - 1},
        )
    assert policy is not None
    return PolicyDocument(policy, tuple(rules))


def problem_lines(exc: ValidationFailed) -> list[str]:
    """One line per problem of a refused document (what the CLI prints)."""
    problems = exc.details.get("problems") if isinstance(exc.details, dict) else None
    if not problems:
        return [exc.message]
    return [f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems]


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    else:
        out[prefix] = value


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What changed between two documents: policy fields one by one, rules by name."""
    if before is None:
        return []
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    _flatten("policy", before.get("policy") or {}, old)
    _flatten("policy", after.get("policy") or {}, new)
    out = [
        {"field": key, "before": old.get(key), "after": new.get(key)}
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]
    old_rules = {r["name"]: r for r in before.get("rules") or []}
    new_rules = {r["name"]: r for r in after.get("rules") or []}
    for name in sorted(old_rules.keys() | new_rules.keys()):
        if old_rules.get(name) != new_rules.get(name):
            out.append(
                {
                    "field": f"rules.{name}",
                    "before": old_rules.get(name),
                    "after": new_rules.get(name),
                }
            )
    return out
