"""``firegrid roads|route|coverage|isochrones|hydrants`` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from firegrid.core.cli import (
    EXIT_NOT_READY,
    EXIT_USAGE,
    CliError,
    DbOption,
    JsonOption,
    QuietOption,
    command_group,
    fail,
    progress,
    resolve_settings,
)
from firegrid.core.cli import emit as _emit
from firegrid.core.db import Database
from firegrid.core.texts import TextCode

roads_app = command_group("Road network commands.")
hydrants_app = command_group("Hydrant planning commands.")

CrsOption = Annotated[str, typer.Option(help="CRS of given and printed points.")]


def hint_for(exc: Exception) -> str:
    """What the user can do about a travel-time failure (one line)."""
    from firegrid.core.errors import NotFound
    from firegrid.geo.errors import (
        InvalidCoordinates,
        NoReachableFacility,
        NoRoadNetwork,
        PointOffNetwork,
    )

    if isinstance(exc, NoRoadNetwork):
        return exc.hint
    if isinstance(exc, PointOffNetwork) or getattr(exc, "code", "") == "point_off_network":
        return (
            "give a point near a road of the imported network, or import a road network "
            "that covers it (`firegrid roads import FILE.osm.pbf`)"
        )
    if isinstance(exc, NoReachableFacility):
        return (
            "move the stations onto the road network (PATCH their lon/lat), or import a "
            "road network that covers them (`firegrid roads import FILE.osm.pbf`)"
        )
    if getattr(exc, "code", "") == "network_does_not_cover_city":
        return (
            "use an extract that covers the whole city, or accept this one with --partial "
            "(the facilities off its roads are then skipped and reported)"
        )
    if isinstance(exc, InvalidCoordinates):
        return "give LON,LAT in degrees (check --crs)"
    if isinstance(exc, NotFound):
        return "check the code or import the data first (`firegrid import`, `firegrid demo`)"
    return "check the input named in the message"


def fail_cleanly(exc: Exception) -> NoReturn:
    """End the command with ``exc`` in the CLI contract, with a hint naming the fix: exit 3
    when the road network is missing, else 2 (bad input)."""
    from firegrid.core.errors import DomainError

    details = exc.details if isinstance(exc, DomainError) else None
    message = exc.message if isinstance(exc, DomainError) else str(exc)
    raise CliError(
        message,
        hint=hint_for(exc),
        exit_code=EXIT_NOT_READY if getattr(exc, "not_ready", False) else EXIT_USAGE,
        code=getattr(exc, "code", type(exc).__name__),
        details=details,
    ) from None


def warn_skipped(skipped: list[dict[str, Any]]) -> None:
    """One warning line per facility an answer left out (stderr)."""
    for item in skipped:
        typer.echo(
            f"warning: {item['kind'].replace('_', ' ')} {item['code']} skipped "
            f"({item['reason']}: {item['snap_distance_m']:.0f} m from the nearest road node, "
            f"limit {item['limit_m']:.0f} m)",
            err=True,
        )


def _fail(exc: Exception) -> NoReturn:
    fail_cleanly(exc)


def _open(db: str | None) -> tuple[Database, Any]:
    settings = resolve_settings(db)
    return Database(settings.database_url), settings


@roads_app.command("import")
def roads_import(
    file: Annotated[Path, typer.Argument(help="OpenStreetMap extract (.osm.pbf).")],
    db: DbOption = None,
    peak_factor: Annotated[
        float | None, typer.Option(help="Peak-hour factor on speeds (0 < f ≤ 1).")
    ] = None,
    partial: Annotated[
        bool,
        typer.Option(
            "--partial",
            help="Accept an extract that leaves stations, venues or hydrants off its roads.",
        ),
    ] = False,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Replace the road network by the drivable roads of an OSM extract (atomically).

    An extract that leaves stored stations, venues or hydrants farther than
    FIREGRID_FACILITY_MAX_SNAP_M from its roads is refused with a report (nothing is
    replaced), unless --partial; then those facilities are skipped by the engine.
    """
    from firegrid.core.errors import DomainError
    from firegrid.geo.errors import GeoError
    from firegrid.geo.facilities import NetworkDoesNotCover, network_coverage
    from firegrid.geo.osm import import_osm
    from firegrid.geo.store import save_network

    database, settings = _open(db)
    try:
        with progress(f"reading the drivable roads of {file.name}", quiet=quiet):
            network, report = import_osm(file, peak_factor=peak_factor)
        with (
            progress("checking which facilities lie on its roads", quiet=quiet),
            database.session() as session,
        ):
            coverage = network_coverage(session, network, settings.facility_max_snap_m)
        if not coverage["covered"] and not partial:
            raise NetworkDoesNotCover(
                f"the extract {file.name} does not cover the city: {_outside_text(coverage)}"
                " — nothing was imported",
                {"coverage": coverage},
                text=TextCode.GEO_NETWORK_DOES_NOT_COVER,
                params={"file": file.name},
            )
        with progress("storing the network", quiet=quiet):
            saved = save_network(
                database,
                network,
                source=str(file),
                report=report,
                cache_dir=settings.data_dir,
                labels=report.labels,
            )
    except (GeoError, DomainError) as exc:
        _fail(exc)
    finally:
        database.dispose()
    if not coverage["covered"]:
        typer.echo(f"warning: partial network: {_outside_text(coverage)}", err=True)
    _emit(
        {
            **saved,
            "ways_used": report.ways_used,
            "ways_skipped": report.ways_skipped,
            "components": report.components,
            "coverage": coverage,
        },
        as_json,
    )


def _outside_text(coverage: dict[str, Any]) -> str:
    """``2 of 9 stations (ST101, ST102), 40 of 300 venues (…) lie off its roads``."""
    parts = []
    for kind in ("stations", "venues", "hydrants"):
        item = coverage[kind]
        if item["outside"]:
            codes = ", ".join(item["codes"])
            more = ", …" if item["outside"] > len(item["codes"]) else ""
            parts.append(f"{item['outside']} of {item['total']} {kind} ({codes}{more})")
    return ", ".join(parts) + f" lie farther than {coverage['limit_m']:.0f} m from its roads"


@roads_app.command("generate")
def roads_generate(
    db: DbOption = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    nodes: Annotated[int, typer.Option(help="Approximate node count.")] = 250_000,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Generate a synthetic network inside the city's outline (replaces the network)."""
    from shapely.geometry import shape
    from sqlalchemy import select

    from firegrid.geo.generate import generate_city_network
    from firegrid.geo.store import save_network
    from firegrid.places.public import Jurisdiction

    database, settings = _open(db)
    try:
        with database.session() as session:
            boundary = session.scalars(
                select(Jurisdiction.boundary).where(Jurisdiction.level == "city")
            ).first()
        if boundary is None:
            fail(
                "the city has no boundary",
                EXIT_NOT_READY,
                hint="import jurisdictions first (`firegrid import jurisdictions FILE`)",
            )
        with progress(f"generating a network of ~{nodes:,} nodes", quiet=quiet):
            network = generate_city_network(shape(boundary), seed, nodes)
            saved = save_network(
                database, network, source=f"generated seed={seed}", cache_dir=settings.data_dir
            )
    finally:
        database.dispose()
    _emit(saved, as_json)


def parse_lon_lat(text: str, name: str) -> tuple[float, float]:
    try:
        lon, lat = (float(part) for part in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"{name} must be LON,LAT, got {text!r}") from None
    return lon, lat


def route_command(
    from_: Annotated[str, typer.Option("--from", help="Origin LON,LAT.")],
    to: Annotated[str, typer.Option("--to", help="Destination LON,LAT.")],
    by: Annotated[str, typer.Option(help="time (fastest) or distance (shortest).")] = "time",
    crs: CrsOption = "wgs84",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fastest (or shortest) route between two points: time, distance and the path."""
    from firegrid.core.errors import DomainError
    from firegrid.geo.errors import GeoError
    from firegrid.geo.service import geo_context
    from firegrid.places.public import parse_crs, point_from_wgs84, point_to_wgs84

    if by not in {"time", "distance"}:
        raise typer.BadParameter("--by must be time or distance", param_hint="--by")
    system = parse_crs(crs)
    origin = point_to_wgs84(*parse_lon_lat(from_, "--from"), system)
    destination = point_to_wgs84(*parse_lon_lat(to, "--to"), system)
    database, settings = _open(db)
    try:
        with progress("loading the travel-time engine"):
            engine = geo_context(database, settings).engine
        result = engine.route(origin, destination, by="time" if by == "time" else "distance")
    except (GeoError, DomainError) as exc:
        _fail(exc)
    finally:
        database.dispose()
    _emit(
        {
            "travel_time_s": result.travel_time_s,
            "distance_m": result.distance_m,
            "node_ids": result.node_ids.tolist(),
            "coordinates": [list(point_from_wgs84(x, y, system)) for x, y in result.coordinates],
        },
        as_json,
    )


def isochrones_command(
    at: Annotated[list[str] | None, typer.Option("--at", help="Origin LON,LAT (repeat).")] = None,
    station: Annotated[
        list[str] | None, typer.Option("--station", help="Station code (repeat).")
    ] = None,
    minutes: Annotated[
        list[float] | None, typer.Option("--minutes", help="Time band in minutes (repeat).")
    ] = None,
    crs: CrsOption = "wgs84",
    out: Annotated[Path | None, typer.Option(help="Write the GeoJSON here.")] = None,
    db: DbOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="GeoJSON either way; an error as the JSON envelope.")
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Isochrone polygons (GeoJSON) around points or stations for one or more time bands."""
    from firegrid.core.errors import DomainError, NotFound
    from firegrid.geo.errors import GeoError, NoReachableFacility
    from firegrid.geo.isochrones import isochrones
    from firegrid.geo.service import geo_context
    from firegrid.places.public import parse_crs, point_to_wgs84

    system = parse_crs(crs)
    database, settings = _open(db)
    try:
        with progress("loading the travel-time engine", quiet=quiet):
            context = geo_context(database, settings)
        origins = [point_to_wgs84(*parse_lon_lat(p, "--at"), system) for p in at or []]
        labels = [f"--at {p}" for p in at or []]
        by_code = {s.code: s for s in context.stations}
        skipped = []
        for code in station or []:
            if code not in by_code:
                raise NotFound(
                    f"unknown station code {code!r}",
                    {"station": code},
                    text=TextCode.ENTITY_NOT_FOUND,
                    params={"kind": "station", "id": code},
                )
            left_out = context.skipped_station(by_code[code].id)
            if left_out is not None:
                skipped.append(left_out)
                continue
            origins.append((by_code[code].lon, by_code[code].lat))
            labels.append(f"station {code}")
        if not origins and skipped:
            raise NoReachableFacility(
                "no origin is on the road network: " + "; ".join(s.describe() for s in skipped)
            )
        if not origins:
            raise typer.BadParameter("give --at or --station")
        bands = [m * 60.0 for m in (minutes or [5.0, 10.0])]
        with progress(f"isochrones of {len(origins)} origin(s)", quiet=quiet):
            collection = isochrones(context.engine, origins, bands, labels=labels)
        collection["properties"] = {"skipped": [s.as_dict() for s in skipped]}
    except (GeoError, DomainError) as exc:
        _fail(exc)
    finally:
        database.dispose()
    warn_skipped(collection["properties"]["skipped"])
    text = json.dumps(collection, ensure_ascii=False)
    if out is not None:
        out.write_text(text)
        typer.echo(json.dumps({"file": str(out), "features": len(collection["features"])}))
    else:
        typer.echo(text)


def coverage_command(
    minutes: Annotated[
        list[float] | None, typer.Option("--minutes", help="Band in minutes (repeat).")
    ] = None,
    per_grid: Annotated[bool, typer.Option(help="Include the share of every grid.")] = True,
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Coverage of all stations within the bands: area, roads, venues, population, shares."""
    from firegrid.core.errors import DomainError
    from firegrid.geo.errors import GeoError
    from firegrid.geo.reports import coverage_report

    database, settings = _open(db)
    try:
        with progress("computing the coverage of every station", quiet=quiet):
            report = coverage_report(database, settings, minutes or [5.0], per_grid=per_grid)
    except (GeoError, DomainError) as exc:
        _fail(exc)
    finally:
        database.dispose()
    if as_json:
        _emit(report, True)
        return
    warn_skipped(report["skipped"])
    for band in report["bands"]:
        share = band["population_reached"] / band["population"] if band["population"] else 0.0
        typer.echo(
            f"{band['minutes']:g} min: {band['area_km2']:.1f} km², "
            f"{band['road_length_km']:.0f} of {band['road_length_total_km']:.0f} km of road, "
            f"{band['venues_reached']}/{band['venues']} venues, {share:.1%} of population"
        )


@hydrants_app.command("gaps")
def hydrant_gaps_command(
    db: DbOption = None,
    out: Annotated[Path | None, typer.Option(help="Write the GeoJSON here.")] = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Venues farther than 150 m by road from a hydrant, street gaps, proposed hydrants."""
    from firegrid.core.errors import DomainError
    from firegrid.geo.errors import GeoError
    from firegrid.geo.reports import hydrant_gap_report

    database, settings = _open(db)
    try:
        with progress("finding the hydrant gaps of every venue and street", quiet=quiet):
            collection = hydrant_gap_report(database, settings)
    except (GeoError, DomainError) as exc:
        _fail(exc)
    finally:
        database.dispose()
    if out is not None:
        out.write_text(json.dumps(collection, ensure_ascii=False))
    if not as_json:
        warn_skipped(collection["properties"]["skipped"])
    summary = {**collection["properties"], "file": str(out) if out else None}
    _emit(collection if as_json and out is None else summary, as_json)
