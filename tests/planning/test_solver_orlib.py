"""OR-Library pmed1–5 reach their published optima; the reader follows Beasley's rules."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firegrid.cli import app
from firegrid.planning.orlib import (
    OrlibFormatError,
    generate_pmedian_text,
    parse_pmedian,
    read_pmedian,
)
from firegrid.planning.solver import Model, solve

PMED = Path("/work/shared/data/pmed")
if not PMED.is_dir():  # the reference data travels with the repository's CI image
    pytest.skip("OR-Library pmed files not present", allow_module_level=True)
OPTIMA = {
    row["instance"]: int(row["optimal_cost"])
    for row in csv.DictReader((PMED / "optima.csv").open(encoding="utf-8"))
}


@pytest.mark.parametrize("name", ["pmed1", "pmed2", "pmed3", "pmed4", "pmed5"])
def test_pmed_reaches_the_published_optimum(name: str) -> None:
    instance = read_pmedian(PMED / f"{name}.txt")
    solution = solve(Model.PMEDIAN, instance.problem())
    assert solution.objective == OPTIMA[name]
    assert solution.optimal
    assert solution.bound == OPTIMA[name]
    assert len(solution.new_sites) == instance.p


def test_a_repeated_edge_keeps_its_last_cost() -> None:
    text = "3 3 1\n1 2 5\n2 3 7\n1 2 9\n"
    distance = parse_pmedian(text).distance
    assert distance[0, 1] == 9  # not the cheaper 5
    assert distance[0, 2] == 16
    assert distance[1, 2] == 7


def test_unreachable_vertices_stay_infinite() -> None:
    distance = parse_pmedian("4 1 1\n1 2 3\n").distance
    assert distance[0, 1] == 3
    assert distance[0, 3] == float("inf")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "header"),
        ("3 2 1\n1 2 5\n", "expected 2 edge lines"),
        ("3 1 1\n1 9 5\n", "outside"),
        ("3 1 5\n1 2 5\n", "p must be"),
        ("a b c", "integer"),
    ],
)
def test_malformed_files_are_named(text: str, fragment: str) -> None:
    with pytest.raises(OrlibFormatError, match=fragment):
        parse_pmedian(text)


def test_the_generator_follows_the_pmed_shape() -> None:
    instance = parse_pmedian(generate_pmedian_text(50, 5, seed=1))
    assert (instance.n, instance.p, instance.edges) == (50, 5, 50)
    assert (instance.distance < float("inf")).all()  # the tour keeps it connected


def test_solve_orlib_command_prints_the_contract() -> None:
    result = CliRunner().invoke(app, ["plan", "solve-orlib", str(PMED / "pmed4.txt"), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert {"n", "p", "cost", "optimal", "gap", "seconds"} <= payload.keys()
    assert (payload["n"], payload["p"], payload["cost"], payload["optimal"]) == (
        100,
        20,
        3034,
        True,
    )
    assert payload["gap"] == 0


def test_solve_orlib_command_refuses_a_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["plan", "solve-orlib", str(tmp_path / "nope.txt"), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.output)["error"]["code"] == "bad_input"
