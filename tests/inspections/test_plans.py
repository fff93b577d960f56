"""Differentiated inspection plans on a hand-built small city (see ``plan_city``).

"Now" is 2026-11-20 12:00 in Dongguan. Intervals come from the packaged plan_rules.yaml.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.principal import Principal, system_principal
from firegrid.core.db import Database
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.inspections.plan_rules import (
    VenueFacts,
    default_plan_rules,
    parse_checklists,
    parse_plan_rules,
)
from firegrid.inspections.plans import compute_plans, due_list
from firegrid.places.models import Venue
from tests.inspections.plan_city import (
    GRIDS,
    SmallCity,
    add_venue,
    build_small_city,
    inspect,
    local,
    open_alarm,
    rescore,
    risk_run,
)

pytestmark = pytest.mark.postgres

NOW = local("2026-11-20 12:00")
G1, G2 = GRIDS


def _city(db: Database) -> int:
    """The scene; returns the risk run's id."""
    with db.session() as session:
        city = build_small_city(session)
        add_venue(session, city, "SHOP", "small_shop", G1)  # never inspected
        add_venue(session, city, "RENT", "rental_housing", G1)
        add_venue(session, city, "HOSP", "hospital", G1, key=True)
        add_venue(session, city, "DORM", "dormitory", G1)
        add_venue(session, city, "OFFICE", "office", G2)
        inspect(session, city, "RENT", local("2026-10-25 09:00"))
        inspect(session, city, "HOSP", local("2026-11-05 09:00"))
        inspect(session, city, "DORM", local("2026-09-01 09:00"))
        inspect(session, city, "OFFICE", local("2026-11-19 09:00"))
        open_alarm(session, city, "OFFICE", "fire", local("2026-11-20 08:00"))
        run_id = risk_run(session, city, {"HOSP": "red", "DORM": "blue", "RENT": "blue"})
        session.commit()
        return run_id


def _entries(db: Database, principal: Principal | None = None) -> dict[str, dict[str, object]]:
    with db.session() as session:
        plans = compute_plans(session, principal or system_principal("t"), NOW)
        return {e.venue_code: e.as_dict() for plan in plans.values() for e in plan.entries}


def test_interval_and_checklist_follow_category_grade_and_colour(db: Database) -> None:
    _city(db)
    entries = _entries(db)
    expected = {
        # venue: (rule, interval, checklist, due_on, status, escalation)
        "SHOP": ("three_small", 30, "three_small", date(2026, 11, 20), "due", ""),
        "RENT": ("rental", 60, "rental_housing", date(2026, 12, 24), "upcoming", ""),
        "HOSP": ("key_unit_high", 7, "key_units", date(2026, 11, 12), "overdue", "village"),
        "DORM": ("sleeping_in_workplaces", 14, "dormitories", date(2026, 9, 15), "overdue", "town"),
        "OFFICE": ("red_status", 1, "general", date(2026, 11, 20), "due", ""),
    }
    for code, (rule, interval, checklist, due_on, status, escalation) in expected.items():
        entry = entries[code]
        assert (
            entry["rule"],
            entry["interval_days"],
            entry["checklist"],
            entry["due_on"],
            entry["status"],
            entry["escalation"],
        ) == (rule, interval, checklist, due_on, status, escalation), code
    assert entries["OFFICE"]["colour"] == "red"
    assert entries["HOSP"]["overdue_days"] == 8
    assert entries["DORM"]["overdue_days"] == 66


def test_grid_summary_and_due_order(db: Database) -> None:
    _city(db)
    with db.session() as session:
        plans = compute_plans(session, system_principal("t"), NOW)
    g1 = plans[G1].summary()
    assert (g1["venues"], g1["due_today"], g1["overdue"]) == (4, 1, 2)
    assert (g1["escalated_village"], g1["escalated_town"]) == (1, 1)
    # all green: by grade, red first; never assessed (none) last
    assert [e["venue_code"] for e in g1["due"]] == ["HOSP", "DORM", "SHOP"]
    assert len(g1["grid_worker_ids"]) == 1
    assert [e["grade"] for e in g1["due"]] == ["red", "blue", "none"]


def test_red_status_comes_before_a_red_grade(db: Database) -> None:
    _city(db)
    with db.session() as session:
        due = due_list(session, system_principal("t"), NOW)
    assert [e.venue_code for e in due] == ["OFFICE", "HOSP", "DORM", "SHOP"]


def test_a_grade_change_reschedules(db: Database) -> None:
    run_id = _city(db)
    assert _entries(db)["RENT"]["status"] == "upcoming"
    with db.session() as session:
        city = _scene(session)
        rescore(session, city, run_id, "RENT", "red")
        session.commit()
    rent = _entries(db)["RENT"]
    # rental_high: 14 days after 2026-10-25 -> 2026-11-08, 12 days overdue -> village
    assert (rent["rule"], rent["due_on"], rent["overdue_days"], rent["escalation"]) == (
        "rental_high",
        date(2026, 11, 8),
        12,
        "village",
    )


def test_a_colour_change_reschedules(db: Database) -> None:
    _city(db)
    with db.session() as session:
        city = _scene(session)
        inspect(session, city, "SHOP", local("2026-11-01 10:00"))
        session.commit()
    assert _entries(db)["SHOP"]["due_on"] == date(2026, 12, 1)
    with db.session() as session:
        open_alarm(session, city, "SHOP", "fault", local("2026-11-19 10:00"))
        session.commit()
    shop = _entries(db)["SHOP"]
    assert (shop["colour"], shop["rule"], shop["due_on"], shop["escalation"]) == (
        "yellow",
        "three_small_yellow_status",
        date(2026, 11, 15),
        "",
    )
    with db.session() as session:
        open_alarm(session, city, "SHOP", "fire", local("2026-11-20 10:00"))
        session.commit()
    shop = _entries(db)["SHOP"]
    assert (shop["colour"], shop["interval_days"], shop["overdue_days"], shop["escalation"]) == (
        "red",
        1,
        18,
        "village",
    )


def test_scope_limits_the_plan_to_the_callers_grid(db: Database) -> None:
    _city(db)
    with db.session() as session:
        grid_path = _scene(session).venue_paths["OFFICE"]
        worker = Principal(
            subject="user:1",
            username="gw",
            role="grid_worker",
            scope_path=grid_path,
            scope_code=G2,
        )
        assert set(compute_plans(session, worker, NOW)) == {G2}
        assert [e.venue_code for e in due_list(session, worker, NOW)] == ["OFFICE"]
        with pytest.raises(NotFound):
            compute_plans(session, worker, NOW, grid_code=G1)
        assert set(compute_plans(session, system_principal("t"), NOW, grid_code=G1)) == {G1}


def _scene(session: Session) -> SmallCity:
    """The city's ids and paths as stored (to add to the scene after it was built)."""
    rows = session.execute(select(Venue.code, Venue.id, Venue.jurisdiction_path)).all()
    return SmallCity(
        venues={code: vid for code, vid, _ in rows},
        venue_paths={code: path for code, _, path in rows},
    )


RULES_HEAD = "version: 1\nescalation: {village_after_days: 3, town_after_days: 9}\n"
CLASSES = "class_checklists: {general: general}\n"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("{name: x, categories: [spaceship], interval_days: 7, checklist: general}", "category"),
        ("{name: x, grades: [purple], interval_days: 7, checklist: general}", "grade"),
        ("{name: x, colours: [blue], interval_days: 7, checklist: general}", "colour"),
        ("{name: x, interval_days: 7, checklist: nowhere}", "checklist"),
    ],
)
def test_rules_with_unknown_names_are_refused(rule: str, message: str) -> None:
    checklists = default_plan_rules().checklists
    text = (
        RULES_HEAD
        + f"rules:\n  - {rule}\n  - {{name: d, interval_days: 30, checklist: general}}\n"
        + CLASSES
    )
    with pytest.raises(ValidationFailed, match=f"unknown {message}"):
        parse_plan_rules(text, checklists)


def test_rules_must_end_with_a_catch_all_and_escalate_in_order() -> None:
    checklists = default_plan_rules().checklists
    text = (
        RULES_HEAD + "rules:\n  - {name: x, grades: [red], interval_days: 7, checklist: general}\n"
    )
    with pytest.raises(ValidationFailed, match="last plan rule"):
        parse_plan_rules(text + CLASSES, checklists)
    bad_escalation = "version: 1\nescalation: {village_after_days: 9, town_after_days: 3}\n"
    rules = "rules:\n  - {name: d, interval_days: 30, checklist: general}\n"
    with pytest.raises(ValidationFailed, match="town_after_days"):
        parse_plan_rules(bad_escalation + rules + CLASSES, checklists)


def test_first_matching_rule_wins() -> None:
    rules = default_plan_rules()
    red_shop = VenueFacts("small_shop", "three_small", False, "red", "red")
    assert rules.decide(red_shop).rule == "red_status"
    assert rules.decide(red_shop).checklist == "three_small"  # by_class
    flagged = VenueFacts("factory", "general", True, "blue", "green")
    assert rules.decide(flagged).rule == "key_unit"


def test_checklists_have_bilingual_items() -> None:
    checklists = default_plan_rules().checklists
    assert {"three_small", "rental_housing", "dormitories", "key_units", "general"} <= set(
        checklists
    )
    with pytest.raises(ValidationFailed, match="repeat"):
        parse_checklists(
            "version: 1\nchecklists:\n  a:\n    name_zh: a\n    name_en: a\n    items:\n"
            "      - {code: x, zh: 一, en: one}\n      - {code: x, zh: 二, en: two}\n"
        )
