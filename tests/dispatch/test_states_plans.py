"""Status machines and response-plan matching (pure)."""

from __future__ import annotations

import pytest

from firegrid.dispatch.plans import (
    Plan,
    Requirement,
    match_plan,
    parse_requirements,
    to_plan,
    yaml_plans,
)
from firegrid.dispatch.recommend import remaining_plan
from firegrid.dispatch.states import (
    INCIDENT_TRANSITIONS,
    VEHICLE_TRANSITIONS,
    IncidentStatus,
    InvalidTransition,
    VehicleStatus,
    check_incident_transition,
    check_vehicle_transition,
)


def test_every_vehicle_status_has_a_row_and_a_way_back_to_available() -> None:
    assert set(VEHICLE_TRANSITIONS) == set(VehicleStatus)
    for status in VehicleStatus:
        seen, frontier = {status}, [status]
        while frontier:
            for nxt in VEHICLE_TRANSITIONS[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert VehicleStatus.AVAILABLE_IN_STATION in seen


@pytest.mark.parametrize(
    ("old", "new", "ok"),
    [
        ("available_in_station", "dispatched", True),
        ("dispatched", "en_route", True),
        ("en_route", "on_scene", True),
        ("on_scene", "returning", True),
        ("returning", "available_in_station", True),
        ("available_in_station", "on_scene", False),
        ("out_of_service", "dispatched", False),
        ("on_scene", "dispatched", False),
        ("returning", "en_route", False),
    ],
)
def test_vehicle_transitions(old: str, new: str, ok: bool) -> None:
    if ok:
        assert check_vehicle_transition(old, new) == new
    else:
        with pytest.raises(InvalidTransition) as err:
            check_vehicle_transition(old, new, "V1")
        assert err.value.status == 409
        assert err.value.details["from"] == old


def test_incident_transitions_end_at_closed() -> None:
    assert set(INCIDENT_TRANSITIONS) == set(IncidentStatus)
    assert INCIDENT_TRANSITIONS[IncidentStatus.CLOSED] == frozenset()
    for status in IncidentStatus:
        if status is not IncidentStatus.CLOSED:
            assert IncidentStatus.CLOSED in INCIDENT_TRANSITIONS[status]
    check_incident_transition("on_scene", "under_control")
    with pytest.raises(InvalidTransition):
        check_incident_transition("closed", "dispatched")
    with pytest.raises(InvalidTransition):
        check_incident_transition("created", "nonsense")


PLANS = [to_plan({**row, "id": i}) for i, row in enumerate(yaml_plans())]


def test_high_rise_fire_level_2_is_two_pumpers_a_ladder_and_command() -> None:
    plan = match_plan(PLANS, "building_fire", "high_rise_office", 2)
    assert {r.value: r.count for r in plan.requirements} == {"pumper": 2, "ladder": 1, "command": 1}


@pytest.mark.parametrize(
    ("category", "level", "want_category", "want_level"),
    [
        ("high_rise_office", 1, "high_rise_office", 1),
        ("high_rise_office", 5, "high_rise_office", 3),  # highest level not above
        ("office", 2, "*", 2),  # no own plans: the generic ones
        ("", 4, "*", 4),
        ("chemical_plant", 2, "chemical_plant", 2),
    ],
)
def test_plan_matching(category: str, level: int, want_category: str, want_level: int) -> None:
    plan = match_plan(PLANS, "building_fire", category, level)
    assert (plan.venue_category, plan.level) == (want_category, want_level)


def test_lowest_plan_when_level_below_every_plan() -> None:
    plans = [Plan("rescue", "*", 3, (Requirement("vehicle_type", "rescue", 3),))]
    assert match_plan(plans, "rescue", "", 1).level == 3


def test_requirements_are_validated_with_every_problem_named() -> None:
    with pytest.raises(Exception) as err:
        parse_requirements(
            [{"vehicle_type": "spaceship"}, {"count": 2}, {"capability": "x", "count": 0}]
        )
    assert len(err.value.details) == 3


def test_remaining_plan_subtracts_committed_units() -> None:
    plan = match_plan(PLANS, "building_fire", "high_rise_office", 2)
    left = remaining_plan(plan, [("pumper", ["water", "pump"]), ("command", ["command"])])
    assert {r.value: r.count for r in left.requirements} == {"pumper": 1, "ladder": 1}
