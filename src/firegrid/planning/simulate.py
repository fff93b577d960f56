"""``firegrid plan simulate``: a stored plan (or a plan file) against a year of calls,
before and after, side by side (see :mod:`.whatif` for the rules of the replay)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Problem
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.planning import inputs
from firegrid.planning.whatif import (
    Simulation,
    compare,
    modal_fleet,
    planned_units,
    prepare_calls,
    read_calls,
)

_JOBS: list[Callable[[], dict[str, Any]]] = []


def _run_job(index: int) -> dict[str, Any]:
    return _JOBS[index]()


def both(
    first: Callable[[], dict[str, Any]], second: Callable[[], dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run two independent replays at once: ``second`` in a forked process (it inherits the
    engine, copy-on-write), ``first`` here; one after the other where fork is unavailable."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return first(), second()
    _JOBS[:] = [second]
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            future = pool.submit(_run_job, 0)
            one = first()
            return one, future.result()
    finally:
        _JOBS.clear()


def plan_sites(result: dict[str, Any]) -> list[tuple[float, float]]:
    """The new station sites of a plan's result (``sites``: lon, lat)."""
    if result.get("kind", "stations") != "stations":
        raise ValidationFailed(
            "only station plans can be simulated against calls",
            {"kind": result.get("kind")},
            text=TextCode.PLANNING_ONLY_STATION_PLANS,
            params={"plan_id": None},
        )
    sites = result.get("sites")
    if not isinstance(sites, list):
        raise ValidationFailed(
            "the plan has no 'sites' list",
            text=TextCode.VALIDATION_MISSING,
            params={"field": "sites"},
        )
    out = []
    for n, site in enumerate(sites):
        try:
            out.append((float(site["lon"]), float(site["lat"])))
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed(
                f"plan site #{n + 1} has no lon/lat",
                {"site": n},
                text=TextCode.VALIDATION_MISSING,
                params={"field": f"sites[{n}].lon/lat"},
            ) from None
    return out


def read_plan_file(path: Path) -> dict[str, Any]:
    """A plan saved as JSON (the output of ``firegrid plan stations --json``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValidationFailed(
            f"plan file {str(path)!r} cannot be read: {err}",
            text=TextCode.FILE_UNREADABLE,
            params={"file": str(path)},
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "a plan file must hold a JSON object",
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "plan_file", "field": "", "problem": Problem.NOT_JSON_OBJECT},
        )
    return data


def simulate_plan(
    database: Database,
    settings: Settings,
    result: dict[str, Any],
    calls: Path,
    *,
    seed: int = 0,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Replay ``calls`` without and with the plan's stations; figures side by side."""
    from firegrid.dispatch.merge_rules import active_merge_rules
    from firegrid.dispatch.plans import PlanBook
    from firegrid.geo.service import engine_with_stations, geo_context
    from firegrid.places.public import jurisdiction_index

    sites = plan_sites(result)
    records = read_calls(calls)
    if limit is not None:
        records = records[:limit]
    context = geo_context(database, settings)
    with database.session() as session:
        units = inputs.replay_units(session)
        book = PlanBook.load(session)
        index = jurisdiction_index(session)
        fleet = inputs.fleet(session)
        first_station, first_vehicle = inputs.next_ids(session)
    rules = active_merge_rules()

    def locate(lon: float, lat: float) -> object:
        return index.locate(lon, lat, "call")

    template = modal_fleet(fleet.by_station) if sites else []
    stations, new_units = planned_units(sites, template, first_station, first_vehicle)
    engine_after = engine_with_stations(context.engine, stations)
    # locating and snapping the calls is the same for both runs (the same road network)
    prepared = prepare_calls(context.engine, records, locate)

    def run_before() -> dict[str, Any]:
        sim = Simulation(context.engine, units, book, rules, locate=locate, seed=seed)
        return sim.run(records, progress, prepared).as_dict()

    def run_after() -> dict[str, Any]:
        sim = Simulation(engine_after, [*units, *new_units], book, rules, locate=locate, seed=seed)
        return sim.run(records, prepared=prepared).as_dict()

    figures_before, figures_after = both(run_before, run_after)
    return {
        "calls_file": str(calls),
        "seed": seed,
        "new_stations": [{"id": s[0], "lon": s[1], "lat": s[2]} for s in stations],
        "new_station_fleet": [{"vehicle_type": t, "capabilities": c} for t, c in template],
        "new_units": len(new_units),
        "before": figures_before,
        "after": figures_after,
        "comparison": compare(figures_before, figures_after),
        "method": "in-memory replay through dispatch's recommendation engine (see "
        "firegrid.planning.whatif)",
    }
