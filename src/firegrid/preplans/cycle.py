"""The review cycle of published plans, as data (``review_cycle.yaml``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import yaml

from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Problem
from firegrid.core.texts import TextCode

CYCLE_FILE = Path(__file__).with_name("review_cycle.yaml")
GRADES = ("red", "orange", "yellow", "blue", "unassessed")


def parse_cycle(data: object) -> dict[str, int]:
    """The interval in days per grade; every grade named, each 1..1825 days, red the shortest
    of the assessed grades (red yearly or more often)."""
    if not isinstance(data, dict) or not isinstance(data.get("review_interval_days"), dict):
        raise ValidationFailed(
            "review cycle needs a review_interval_days mapping",
            text=TextCode.DOCUMENT_INVALID,
            params={
                "kind": "review_cycle",
                "field": "review_interval_days",
                "problem": Problem.MISSING,
            },
        )
    raw = data["review_interval_days"]
    missing = [g for g in GRADES if g not in raw]
    unknown = sorted(set(raw) - set(GRADES))
    if missing or unknown:
        raise ValidationFailed(
            "review cycle grades must be exactly " + ", ".join(GRADES),
            {"missing": missing, "unknown": unknown},
            text=TextCode.DOCUMENT_INVALID,
            params={
                "kind": "review_cycle",
                "field": "review_interval_days",
                "problem": Problem.GRADES_EXACTLY,
                "expected": GRADES,
            },
        )
    days: dict[str, int] = {}
    for grade in GRADES:
        value = raw[grade]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1825:
            raise ValidationFailed(
                f"review interval of {grade} must be 1..1825 days",
                {"grade": grade},
                text=TextCode.VALIDATION_RANGE,
                params={"field": grade, "min": 1, "max": 1825},
            )
        days[grade] = value
    if days["red"] > 365:
        raise ValidationFailed(
            "red venues are reviewed at least yearly (≤ 365 days)",
            text=TextCode.DOCUMENT_INVALID,
            params={
                "kind": "review_cycle",
                "field": "red",
                "problem": Problem.LESS_THAN_EQUAL,
                "le": 365,
            },
        )
    return days


@cache
def review_intervals(path: Path = CYCLE_FILE) -> dict[str, int]:
    return parse_cycle(yaml.safe_load(path.read_text(encoding="utf-8")))


def review_due(published_at: datetime, grade: str) -> datetime:
    """When a version published at ``published_at`` for a venue of ``grade`` is due."""
    intervals = review_intervals()
    return published_at + timedelta(days=intervals.get(grade, intervals["unassessed"]))
