"""Context boundaries are enforced: ``lint-imports`` keeps the contract on the real code,
and the contract breaks for a new context that reaches into another's internals (so a
context added later is covered without editing the contract)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools.boundaries import ContextBoundariesContract  # noqa: E402


def contract() -> ContextBoundariesContract:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    options: dict[str, Any] = dict(config["tool"]["importlinter"]["contracts"][0])
    name = options.pop("name")
    options.pop("type")
    return ContextBoundariesContract(name=name, session_options={}, contract_options=options)


@pytest.fixture
def graph() -> grimp.ImportGraph:
    return build()


def build() -> grimp.ImportGraph:
    return grimp.build_graph("firegrid", exclude_type_checking_imports=True)


def test_lint_imports_keeps_the_contract() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    if not lint.exists():
        pytest.skip("import-linter is not installed")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 kept, 0 broken" in done.stdout


def test_the_contract_is_kept_on_the_code(graph: grimp.ImportGraph) -> None:
    assert contract().check(graph, verbose=False).kept


def test_a_new_context_reaching_into_internals_breaks_it(graph: grimp.ImportGraph) -> None:
    leaky = graph
    leaky.add_module("firegrid.newcontext")
    leaky.add_module("firegrid.newcontext.service")
    leaky.add_import(
        importer="firegrid.newcontext.service",
        imported="firegrid.places.models",
        line_number=3,
        line_contents="import x",
    )
    check = contract().check(leaky, verbose=False)
    assert not check.kept
    assert check.metadata["broken"] == [
        {
            "importer": "firegrid.newcontext.service",
            "imported": "firegrid.places.models",
            "lines": [3],
        }
    ]
    polite = build()
    polite.add_module("firegrid.newcontext")
    polite.add_module("firegrid.newcontext.service")
    polite.add_import(
        importer="firegrid.newcontext.service",
        imported="firegrid.places.public",
        line_number=3,
        line_contents="import x",
    )
    assert contract().check(polite, verbose=False).kept


def test_the_kernel_may_import_no_context(graph: grimp.ImportGraph) -> None:
    leaky = graph
    leaky.add_import(
        importer="firegrid.core.db",
        imported="firegrid.places.public",
        line_number=1,
        line_contents="import x",
    )
    assert not contract().check(leaky, verbose=False).kept
