"""``firegrid demo``: migrate, build the seeded demo city with its roads and users."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.core.migrate import upgrade
from firegrid.core.settings import Settings
from firegrid.places.models import Jurisdiction, Venue

log = logging.getLogger(__name__)


def city_exists(database: Database) -> bool:
    with database.session() as session:
        return session.scalars(select(Jurisdiction.id).limit(1)).first() is not None


def reset_database(settings: Settings) -> None:
    """Drop every table of a demo database and migrate it afresh (``--rebuild``)."""
    from firegrid.schema import metadata

    database = Database(settings.database_url)
    try:
        with database.engine.begin() as connection:
            metadata.drop_all(connection)
            from sqlalchemy import text

            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        database.dispose()
    upgrade(settings.database_url)


def demo_scope_codes(database: Database) -> dict[str, Any]:
    """Codes of the first town, village and grid, and venues there, for the demo users."""
    with database.session() as session:

        def first(level: str, prefix: str) -> Jurisdiction:
            row = session.scalars(
                select(Jurisdiction)
                .where(Jurisdiction.level == level, Jurisdiction.path.startswith(prefix))
                .order_by(Jurisdiction.code)
                .limit(1)
            ).first()
            if row is None:
                raise RuntimeError(f"the demo city has no {level}")
            return row

        city = first("city", "/")
        town = first("town", city.path)
        village = first("village", town.path)
        grid = first("grid", village.path)
        venue_ids = list(
            session.scalars(
                select(Venue.id)
                .where(Venue.jurisdiction_path.startswith(village.path))
                .order_by(Venue.id)
                .limit(3)
            ).all()
        )
        return {
            "city_code": city.code,
            "town_code": town.code,
            "village_code": village.code,
            "grid_code": grid.code,
            "venue_ids": venue_ids,
        }


def build_demo(
    settings: Settings,
    *,
    seed: int = 7,
    scale: float = 1.0,
    rebuild: bool = False,
    log: bool = True,
) -> dict[str, Any]:
    """Build the demo city into ``settings.database_url`` unless it already holds one."""
    from firegrid.accounts.demo import create_demo_users
    from firegrid.alarms.demo import generate_alarm_history
    from firegrid.demo import DemoSpec, build_demo_city, demo_road_network
    from firegrid.geo.store import save_network
    from firegrid.inspections.demo import generate_inspections
    from firegrid.installations.demo import generate_installations
    from firegrid.preplans.demo import generate_preplans

    started = time.perf_counter()
    if rebuild:
        reset_database(settings)
    else:
        upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        if city_exists(database):
            _say(log, "the database already holds a city; serving it (use --rebuild to rebuild)")
            return {"built": False, "database": _redacted(settings.database_url)}
        spec = DemoSpec().scaled(scale)
        timings: dict[str, float] = {}
        _say(log, f"generating the demo city (seed {seed}, scale {scale}) …")
        phase = time.perf_counter()
        network = demo_road_network(spec, seed)
        timings["generate.road_network"] = time.perf_counter() - phase
        counts = build_demo_city(database, spec, seed, network=network, timings=timings)
        phase = time.perf_counter()
        inspections = generate_inspections(database, seed)
        timings["write.inspections"] = time.perf_counter() - phase
        phase = time.perf_counter()
        installations = generate_installations(database, seed)
        timings["write.installations"] = time.perf_counter() - phase
        phase = time.perf_counter()
        alarm_history = generate_alarm_history(database, seed)
        timings["write.alarm_history"] = time.perf_counter() - phase
        phase = time.perf_counter()
        preplans = generate_preplans(database, seed)
        timings["write.preplans"] = time.perf_counter() - phase
        phase = time.perf_counter()
        roads = save_network(
            database, network, source=f"demo seed={seed}", cache_dir=settings.data_dir
        )
        timings["write.road_network"] = time.perf_counter() - phase
        with database.session() as session:
            users = create_demo_users(session, **demo_scope_codes(database), settings=settings)
    finally:
        database.dispose()
    result: dict[str, Any] = {
        "built": True,
        **counts,
        "road_nodes": roads["nodes"],
        "road_edges": roads["edges"],
        "inspections": inspections,
        "installations": installations,
        "alarm_history": alarm_history,
        "preplans": preplans,
        "seed": seed,
        "scale": scale,
        "database": _redacted(settings.database_url),
        "elapsed_s": round(time.perf_counter() - started, 2),
        "timings_s": {k: round(v, 2) for k, v in sorted(timings.items())},
        "demo_users": users,
    }
    if log:
        _print_users(users)
    return result


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _say(enabled: bool, message: str) -> None:
    if enabled:
        import typer

        typer.echo(message, err=True)


def _print_users(users: list[dict[str, Any]]) -> None:
    import typer

    typer.echo("demo accounts (refused when FIREGRID_ENV=production):", err=True)
    for user in users:
        typer.echo(
            f"  {user['username']:<16} {user['password']:<26} {user['role']:<17} "
            f"scope {user['scope']} ({user['scope_level']})",
            err=True,
        )
