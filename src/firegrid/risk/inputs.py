"""The engine's ``venues`` and ``facts`` frames, read from the platform's database.

Every column has one source, recorded in the run (``sources``); a source that does not
exist yet or holds nothing leaves its columns null, so the indicator's missing-value rule
applies, and the run gets a warning saying so.

=========================================  ===============================================
columns                                    source
=========================================  ===============================================
venue columns                              ``venues`` (places); town/village/grid codes are
                                           the path's 2nd/3rd/4th codes; three-small and
                                           rental flags from the category's taxonomy class
``device_count``                           ``devices`` (registry; 0 = not connected)
``offline_devices``, ``unresolved_faults`` ``device_state`` (live device health): devices
                                           commissioned and not online (never reported:
                                           not commissioned, offline only after its
                                           install date plus the grace period), devices
                                           with an active fault
``fire_alarms_90d``, ``false_alarm_rate``  ``alarms`` (monitoring centre): fire alarms opened
                                           in the 90 days before the snapshot; share of the
                                           decided fire alarms of the last 365 days that
                                           were false (null without a decided one)
``first_due_travel_time_s``                geo engine: fastest registered station by road
``hydrant_within_150m``                    geo engine: road distance to the nearest usable
                                           hydrant ≤ 150 m (GB 50974 reach; the search of
                                           :mod:`firegrid.geo.hydrant_gaps`)
``incidents_venue_3y``/``_grid_3y``        ``incidents`` (dispatch) of the last 3 years;
                                           when that table holds none, the documented
                                           SYNTHETIC history of
                                           :func:`firegrid.risk.synthetic.incident_history`
``open_hazards``, ``overdue_rectifications``,
``days_since_inspection``                  ``inspections`` / ``hazards`` (inspections): hazards
                                           open at the snapshot (found before it, not yet
                                           rectified), those of them past their deadline,
                                           days since the venue's last inspection (null if
                                           never inspected); all null while no inspection
                                           is recorded
=========================================  ===============================================

Off-network venues (beyond the engine's snapping distance) get null response columns.
Everything is vectorised: rows come from the database as tuples into Polars; road
distances are one bounded multi-source search (cached per network and hydrant set) and
one gather over the stations' precomputed trees.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from sqlalchemy import String, case, cast, func, inspect, or_, select, text
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import NotFound
from firegrid.core.settings import Settings
from firegrid.risk.area import AreaContext
from firegrid.risk.area_inputs import full_assignment_times_s, read_area_context
from firegrid.risk.features import FACT_SCHEMA, RAW_SCHEMA, VENUE_SCHEMA
from firegrid.risk.history import IncidentHistory, incident_counts

FloatArray = npt.NDArray[np.float64]

#: Column order of the stored per-venue input lists (``risk_runs.input_columns``).
INPUT_COLUMNS: list[str] = list(RAW_SCHEMA)
HYDRANT_RADIUS_M = 150.0
ALARM_WINDOW_DAYS = 90
FALSE_ALARM_WINDOW_DAYS = 365
INCIDENT_YEARS = 3
TRAVEL_CHUNK = 20_000
#: Stations of the full first assignment (第一出动): its time is the k-th fastest station's.
FULL_ASSIGNMENT_STATIONS = 3
SYNTHETIC_SEED = 0

DEVICE_COLUMNS = ("device_count", "offline_devices", "unresolved_faults")
ALARM_COLUMNS = ("fire_alarms_90d", "false_alarm_rate")
RESPONSE_COLUMNS = ("first_due_travel_time_s", "hydrant_within_150m")
INCIDENT_COLUMNS = ("incidents_venue_3y", "incidents_grid_3y")
INSPECTION_COLUMNS = ("open_hazards", "overdue_rectifications", "days_since_inspection")


@dataclass
class RunInputs:
    """What one run reads: venues, facts, optional history, and where each came from."""

    snapshot_at: datetime
    venues: pl.DataFrame  # the contract's venue columns + jurisdiction_path
    facts: pl.DataFrame
    history: IncidentHistory | None = None
    synthetic: bool = False
    warnings: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    area_context: AreaContext = field(default_factory=AreaContext)
    #: registered / commissioned / offline / not_commissioned devices (None: unknown)
    device_health: dict[str, int | None] = field(default_factory=dict)

    def raw_rows(self) -> pl.DataFrame:
        """Venue and fact columns joined, in :data:`INPUT_COLUMNS` order."""
        joined = self.venues.join(self.facts, on="venue_id", how="left", maintain_order="left")
        return joined.select(
            [
                pl.col(c).cast(t) if c in joined.columns else pl.lit(None, dtype=t).alias(c)
                for c, t in RAW_SCHEMA.items()
            ]
        )


def has_rows(session: Session, table: str) -> bool:
    """Whether ``table`` exists and holds at least one row."""
    bind = session.connection()
    if not inspect(bind).has_table(table):
        return False
    return (
        session.execute(select(text("1")).select_from(sa_table(table)).limit(1)).first() is not None
    )


def _frame(rows: Sequence[Any], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _ids_filter(stmt: Any, column: Any, venue_ids: Sequence[int] | None) -> Any:
    return stmt if venue_ids is None else stmt.where(column.in_(list(venue_ids)))


# ---- venues -------------------------------------------------------------------------------
#: Columns of the engine's venues frame computed here (from the path and the taxonomy); the
#: others are the ``Venue`` columns of the same name.
_DERIVED_VENUE_COLUMNS = frozenset(
    {"town_code", "village_code", "grid_code", "is_three_small", "is_rental"}
)


def read_venues(session: Session, venue_ids: Sequence[int] | None = None) -> pl.DataFrame:
    """The live venues as the engine's ``venues`` frame plus ``jurisdiction_path``."""
    from firegrid.places.public import Venue, load_taxonomy

    stored = [name for name in VENUE_SCHEMA if name not in _DERIVED_VENUE_COLUMNS]
    stmt = select(
        Venue.id, Venue.jurisdiction_path, *(getattr(Venue, name) for name in stored[1:])
    ).where(Venue.deleted_at.is_(None))
    rows = session.execute(_ids_filter(stmt, Venue.id, venue_ids).order_by(Venue.id)).all()
    schema = {"venue_id": VENUE_SCHEMA["venue_id"], "jurisdiction_path": pl.String()}
    raw = _frame(rows, schema | {name: VENUE_SCHEMA[name] for name in stored[1:]})
    taxonomy = load_taxonomy()
    klass = {code: c.venue_class for code, c in taxonomy.categories.items()}
    parts = pl.col("jurisdiction_path").str.strip_chars("/").str.split("/")
    venue_class = pl.col("category").replace_strict(klass, default="", return_dtype=pl.String)
    out = raw.with_columns(
        parts.list.get(1, null_on_oob=True).alias("town_code"),
        parts.list.get(2, null_on_oob=True).alias("village_code"),
        parts.list.get(3, null_on_oob=True).alias("grid_code"),
        (venue_class == "three_small").alias("is_three_small"),
        (venue_class == "rental_housing").alias("is_rental"),
        pl.when(pl.col("industry_code") == "")
        .then(None)
        .otherwise(pl.col("industry_code"))
        .alias("industry_code"),
    )
    return out.select(*VENUE_SCHEMA, "jurisdiction_path")


# ---- device health ------------------------------------------------------------------------
def device_facts(
    session: Session,
    venue_ids: Sequence[int] | None,
    warnings: list[str],
    sources: dict[str, str],
    totals: dict[str, int | None] | None = None,
) -> pl.DataFrame:
    """``device_count`` from the registry; offline devices and faults from ``device_state``.

    ``totals`` (optional) receives the city's totals: registered devices, commissioned ones,
    offline ones (commissioned only) and the never-seen ones that are not commissioned,
    reported apart from the offline ones."""
    from firegrid.devices.public import Device

    stmt = (
        select(Device.venue_id, func.count(Device.id))
        .where(Device.deleted_at.is_(None))
        .group_by(Device.venue_id)
    )
    counts = _frame(
        session.execute(_ids_filter(stmt, Device.venue_id, venue_ids)).all(),
        {"venue_id": pl.Int64(), "device_count": pl.Int32()},
    )
    sources["device_count"] = "devices (registry)"
    if totals is not None:
        totals["registered"] = int(counts["device_count"].sum() or 0)
    if not has_rows(session, "device_state"):
        if totals is not None:
            totals.update(commissioned=None, offline=None, not_commissioned=None)
        warnings.append(
            "device health: the device_state table is absent or empty — offline_devices and "
            "unresolved_faults are unknown (null; missing-value rule applies)"
        )
        sources["offline_devices"] = sources["unresolved_faults"] = "none (null)"
        return counts.with_columns(
            pl.lit(None, dtype=pl.Int32).alias("offline_devices"),
            pl.lit(None, dtype=pl.Int32).alias("unresolved_faults"),
        )
    from firegrid.devices.commissioning import Health, default_grace, health_case
    from firegrid.devices.public import DeviceStateRow as State

    has_fault = func.coalesce(cast(State.faults, String), "{}").not_in(["{}", "null"])
    # a device never heard from is not offline but not commissioned (until its install
    # date plus the grace period has passed)
    health = health_case(utcnow(), default_grace())
    health_stmt = (
        select(
            Device.venue_id,
            func.sum(_as_int(health == Health.OFFLINE.value)),
            func.sum(_as_int(health == Health.NOT_COMMISSIONED.value)),
            func.sum(_as_int(has_fault)),
        )
        .select_from(Device)
        .outerjoin(State, State.device_id == Device.id)
        .where(Device.deleted_at.is_(None))
        .group_by(Device.venue_id)
    )
    health_frame = _frame(
        session.execute(_ids_filter(health_stmt, Device.venue_id, venue_ids)).all(),
        {
            "venue_id": pl.Int64(),
            "offline_devices": pl.Int32(),
            "not_commissioned": pl.Int32(),
            "unresolved_faults": pl.Int32(),
        },
    )
    not_commissioned = int(health_frame["not_commissioned"].fill_null(0).sum() or 0)
    if totals is not None:
        totals["offline"] = int(health_frame["offline_devices"].fill_null(0).sum() or 0)
        totals["not_commissioned"] = not_commissioned
        totals["commissioned"] = int(totals.get("registered") or 0) - not_commissioned
    if not_commissioned:
        warnings.append(
            f"device health: {not_commissioned} registered devices never reported (not "
            "commissioned) and are not counted offline"
        )
    sources["offline_devices"] = (
        "device_state (commissioned and not online; never reported: offline only after "
        "the install date plus the grace period)"
    )
    sources["unresolved_faults"] = "device_state (devices with an active fault)"
    return counts.join(
        health_frame.drop("not_commissioned"), on="venue_id", how="left"
    ).with_columns(
        pl.col("offline_devices").fill_null(0).cast(pl.Int32),
        pl.col("unresolved_faults").fill_null(0).cast(pl.Int32),
    )


def _as_int(condition: Any) -> Any:
    """1 where ``condition`` holds, else 0 (to count with SUM on both databases)."""
    return case((condition, 1), else_=0)


# ---- alarms -------------------------------------------------------------------------------
def alarm_facts(
    session: Session,
    snapshot_at: datetime,
    venue_ids: Sequence[int] | None,
    warnings: list[str],
    sources: dict[str, str],
) -> pl.DataFrame | None:
    """Fire alarms of the last 90 days and the false share of the decided ones."""
    if not has_rows(session, "alarms"):
        warnings.append(
            "alarms: the alarms table is absent or empty — fire_alarms_90d and "
            "false_alarm_rate are unknown (null; missing-value rule applies)"
        )
        sources["fire_alarms_90d"] = sources["false_alarm_rate"] = "none (null)"
        return None
    from firegrid.alarms.models import Alarm

    since_90 = snapshot_at - timedelta(days=ALARM_WINDOW_DAYS)
    since_365 = snapshot_at - timedelta(days=FALSE_ALARM_WINDOW_DAYS)
    recent = (Alarm.opened_at >= since_90) & (Alarm.opened_at <= snapshot_at)
    decided = Alarm.decided_at.is_not(None) & (Alarm.decided_at <= snapshot_at)
    false = decided & (Alarm.false_reason != "")
    stmt = (
        select(
            Alarm.venue_id,
            func.sum(_as_int(recent)),
            func.sum(_as_int(decided)),
            func.sum(_as_int(false)),
        )
        .where(
            Alarm.kind == "fire",
            Alarm.venue_id.is_not(None),
            Alarm.suppressed.is_(False),
            Alarm.opened_at >= since_365,
            Alarm.opened_at <= snapshot_at,
        )
        .group_by(Alarm.venue_id)
    )
    frame = _frame(
        session.execute(_ids_filter(stmt, Alarm.venue_id, venue_ids)).all(),
        {
            "venue_id": pl.Int64(),
            "fire_alarms_90d": pl.Int32(),
            "decided": pl.Int64(),
            "false": pl.Int64(),
        },
    )
    sources["fire_alarms_90d"] = "alarms (fire, opened in the last 90 days, not suppressed)"
    sources["false_alarm_rate"] = "alarms (false share of decided fire alarms, 365 days)"
    return frame.select(
        "venue_id",
        "fire_alarms_90d",
        pl.when(pl.col("decided") > 0)
        .then(pl.col("false") / pl.col("decided"))
        .otherwise(None)
        .cast(pl.Float64)
        .alias("false_alarm_rate"),
    )


# ---- inspections and hazards -------------------------------------------------------------
def inspection_facts(
    session: Session,
    snapshot_at: datetime,
    venue_ids: Sequence[int] | None,
    warnings: list[str],
    sources: dict[str, str],
) -> pl.DataFrame | None:
    """Open hazards, overdue rectifications and days since the last inspection per venue.

    As of ``snapshot_at``: a hazard is open if found by then and not rectified by then, and
    overdue if open with its deadline before then. Returns ``None`` (columns stay null)
    while the inspections table is absent or empty.
    """
    if not has_rows(session, "inspections"):
        warnings.append(
            "inspections: the inspections table is absent or empty — open_hazards, "
            "overdue_rectifications and days_since_inspection are unknown (null; "
            "missing-value rules apply)"
        )
        for col in INSPECTION_COLUMNS:
            sources[col] = "none (null)"
        return None
    from firegrid.inspections.public import Hazard, Inspection

    open_at = (
        Hazard.deleted_at.is_(None)
        & (Hazard.found_at <= snapshot_at)
        & (Hazard.rectified_at.is_(None) | (Hazard.rectified_at > snapshot_at))
    )
    hazard_stmt = (
        select(
            Hazard.venue_id,
            func.count(Hazard.id),
            func.sum(_as_int(Hazard.deadline < snapshot_at)),
        )
        .where(open_at)
        .group_by(Hazard.venue_id)
    )
    hazards = _frame(
        session.execute(_ids_filter(hazard_stmt, Hazard.venue_id, venue_ids)).all(),
        {"venue_id": pl.Int64(), "open_hazards": pl.Int32(), "overdue_rectifications": pl.Int32()},
    )
    last_stmt = (
        select(Inspection.venue_id, func.max(Inspection.inspected_at))
        .where(Inspection.deleted_at.is_(None), Inspection.inspected_at <= snapshot_at)
        .group_by(Inspection.venue_id)
    )
    last = _frame(
        session.execute(_ids_filter(last_stmt, Inspection.venue_id, venue_ids)).all(),
        {"venue_id": pl.Int64(), "last": pl.Datetime("us", "UTC")},
    )
    snap_us = int(snapshot_at.timestamp() * 1_000_000)
    recency = last.select(
        "venue_id",
        ((snap_us - pl.col("last").dt.epoch("us")) / 86_400_000_000.0)
        .round(1)
        .cast(pl.Float64)
        .alias("days_since_inspection"),
    )
    sources["open_hazards"] = "hazards (inspections): open at the snapshot"
    sources["overdue_rectifications"] = (
        "hazards (inspections): open at the snapshot and past their rectification deadline"
    )
    sources["days_since_inspection"] = (
        "inspections: days since the venue's last inspection (null: never inspected)"
    )
    return hazards.join(recency, on="venue_id", how="full", coalesce=True)


# ---- response capacity (geo) ------------------------------------------------------------
_hydrant_cache: dict[tuple[Any, ...], FloatArray] = {}
_hydrant_lock = threading.Lock()


def _hydrant_node_distance(
    database: Database, engine: Any, stamp: tuple[Any, ...]
) -> FloatArray | None:
    """Road distance (m) from every node to the nearest usable hydrant, ``inf`` past 150 m.

    The reach rule of :func:`firegrid.geo.hydrant_gaps.hydrant_gaps` (undirected streets by
    length, hydrants snapped with their off-network leg, bounded multi-source Dijkstra);
    that function also proposes new hydrants, which a run does not need.
    """
    from firegrid.dispatch.public import Hydrant, HydrantStatus
    from firegrid.geo.search import multi_source

    with database.session() as session:
        usable = (Hydrant.deleted_at.is_(None)) & (
            Hydrant.status != HydrantStatus.OUT_OF_SERVICE.value
        )
        h_stamp = session.execute(
            select(func.count(Hydrant.id), func.max(Hydrant.updated_at)).where(usable)
        ).one()
        key = (database.url, id(engine), *stamp, int(h_stamp[0]), h_stamp[1])
        with _hydrant_lock:
            if key in _hydrant_cache:
                return _hydrant_cache[key]
        if int(h_stamp[0]) == 0:
            return None
        pts = np.asarray(session.execute(select(Hydrant.lon, Hydrant.lat).where(usable)).all())
    snapped = engine.snap(pts[:, 0], pts[:, 1], strict=False)
    on = snapped.on_network
    dist = multi_source(
        engine.network.undirected_length_csr,
        snapped.node[on],
        snapped.distance_m[on],
        limit=HYDRANT_RADIUS_M,
    )
    with _hydrant_lock:
        _hydrant_cache.clear()
        _hydrant_cache[key] = dist
    return dist


def response_facts(
    database: Database,
    settings: Settings,
    venues: pl.DataFrame,
    warnings: list[str],
    sources: dict[str, str],
    timings: dict[str, float] | None = None,
) -> pl.DataFrame:
    """First-due travel time and hydrant reach by road for every venue (vectorised)."""
    from firegrid.geo.public import GeoError
    from firegrid.geo.service import STATIONS, geo_context

    n = venues.height
    travel = np.full(n, np.nan)
    full = np.full(n, np.nan)
    hydrant: npt.NDArray[np.float64] = np.full(n, np.nan)  # 1.0 / 0.0 / nan
    t = time.perf_counter()
    try:
        context = geo_context(database, settings)
    except (NotFound, GeoError) as exc:
        warnings.append(
            f"response capacity: no travel-time engine ({exc}) — first_due_travel_time_s and "
            "hydrant_within_150m are unknown (null)"
        )
        sources["first_due_travel_time_s"] = sources["hydrant_within_150m"] = "none (null)"
        return _response_frame(venues, travel, hydrant, full)
    engine = context.engine
    if timings is not None:
        timings["read.geo_engine"] = time.perf_counter() - t  # warm after the first use
    lon = venues["lon"].to_numpy()
    lat = venues["lat"].to_numpy()
    snapped = engine.snap(lon, lat, strict=False)
    on = snapped.on_network
    off = int((~on).sum())
    if off:
        warnings.append(
            f"response capacity: {off} venues lie farther than "
            f"{engine.max_snap_distance_m:.0f} m from any road — their travel time and "
            "hydrant reach are unknown (null)"
        )
    if STATIONS in engine.facility_names():
        times = engine.facilities(STATIONS).times_s
        idx = np.flatnonzero(on)
        for start in range(0, idx.size, TRAVEL_CHUNK):
            part = idx[start : start + TRAVEL_CHUNK]
            best = times[:, snapped.node[part]].min(axis=0).astype(np.float64)
            travel[part] = best + snapped.leg_time_s[part]
            full[part] = full_assignment_times_s(
                times, snapped.node[part], snapped.leg_time_s[part], FULL_ASSIGNMENT_STATIONS
            )
        travel[~np.isfinite(travel)] = np.nan
        sources["first_due_travel_time_s"] = (
            "geo engine: fastest of the registered stations by road (legs included)"
        )
    else:
        warnings.append("response capacity: no fire stations — first_due_travel_time_s is null")
        sources["first_due_travel_time_s"] = "none (null)"
    node_dist = _hydrant_node_distance(database, engine, context.stamp)
    if node_dist is None:
        warnings.append("response capacity: no usable hydrants — hydrant_within_150m is null")
        sources["hydrant_within_150m"] = "none (null)"
    else:
        d = np.where(on, node_dist[np.maximum(snapped.node, 0)] + snapped.distance_m, np.inf)
        hydrant = np.where(on, (d <= HYDRANT_RADIUS_M).astype(np.float64), np.nan)
        sources["hydrant_within_150m"] = (
            "geo engine: road distance to the nearest usable hydrant ≤ 150 m (GB 50974)"
        )
    return _response_frame(venues, travel, hydrant, full)


def _response_frame(
    venues: pl.DataFrame, travel: FloatArray, hydrant: FloatArray, full: FloatArray
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "venue_id": venues["venue_id"],
            "first_due_travel_time_s": pl.Series(travel, nan_to_null=True),
            "hydrant_within_150m": pl.Series(hydrant, nan_to_null=True).cast(pl.Boolean),
            "full_assignment_travel_time_s": pl.Series(full, nan_to_null=True),
        }
    )


# ---- incident history ---------------------------------------------------------------------
def incident_facts(
    session: Session,
    venues: pl.DataFrame,
    snapshot_at: datetime,
    venue_ids: Sequence[int] | None,
    warnings: list[str],
    sources: dict[str, str],
) -> tuple[pl.DataFrame | None, IncidentHistory | None]:
    """Incidents at the venue and in its grid over 3 years, and the yearly history.

    Returns ``(None, None)`` when the dispatch context holds no incident.
    """
    if not has_rows(session, "incidents"):
        return None, None
    from firegrid.dispatch.public import Incident

    since = snapshot_at - timedelta(days=365 * INCIDENT_YEARS)
    stmt = select(Incident.venue_id, Incident.jurisdiction_path, Incident.call_received_at).where(
        Incident.call_received_at >= since, Incident.call_received_at <= snapshot_at
    )
    if venue_ids is not None:
        grids = [p for p in venues["jurisdiction_path"].to_list() if p]
        stmt = stmt.where(
            or_(
                Incident.venue_id.in_(list(venue_ids)),
                *[Incident.jurisdiction_path.startswith(p, autoescape=True) for p in grids],
            )
        )
    inc = _frame(
        session.execute(stmt).all(),
        {"venue_id": pl.Int64(), "path": pl.String(), "at": pl.Datetime("us", "UTC")},
    ).with_columns(
        pl.col("path")
        .str.strip_chars("/")
        .str.split("/")
        .list.get(3, null_on_oob=True)
        .alias("grid_code")
    )
    facts = incident_counts(inc, venues)
    sources["incidents_venue_3y"] = "incidents (dispatch), last 3 years, at the venue"
    sources["incidents_grid_3y"] = "incidents (dispatch), last 3 years, in the venue's grid"
    # Yearly periods 1..3 ending at the snapshot: the predictive validation's labels.
    ends = {p: snapshot_at - timedelta(days=365 * (INCIDENT_YEARS - p)) for p in range(4)}
    snap_us = int(snapshot_at.timestamp() * 1_000_000)
    year_us = 365 * 86_400 * 1_000_000
    labelled = (
        inc.drop_nulls("venue_id")
        .with_columns(
            (
                INCIDENT_YEARS - ((snap_us - pl.col("at").dt.epoch("us")) // year_us).cast(pl.Int32)
            ).alias("period")
        )
        .filter(pl.col("period").is_between(1, INCIDENT_YEARS))
        .group_by("venue_id", "period")
        .agg(pl.len().cast(pl.Int32).alias("incidents"))
    )
    history = IncidentHistory(
        incidents=labelled.select("venue_id", pl.col("period").cast(pl.Int32), "incidents"),
        snapshots=None,
        period_ends=ends,
        synthetic=False,
        description="",
    )
    try:
        history.check()
        if len(history.periods) < 3:
            raise ValueError("fewer than 3 yearly periods")
    except Exception as exc:  # noqa: BLE001 - an incomplete history only skips validation
        warnings.append(f"validation skipped: the incident history is too short ({exc})")
        return facts, None
    warnings.append(
        "validation: no stored facts per period — the current facts stand in for every "
        "period (weaker: features partly postdate the labels)"
    )
    return facts, history


def synthetic_history(
    venues: pl.DataFrame, facts: pl.DataFrame, snapshot_at: datetime, seed: int
) -> tuple[pl.DataFrame, IncidentHistory]:
    """SYNTHETIC incident history for a city without incidents (the demo city).

    The starting facts are :func:`firegrid.risk.synthetic.facts_for` overlaid with every
    column the database knows; :func:`~firegrid.risk.synthetic.incident_history` simulates
    three yearly periods ending at the snapshot (its generating process is documented
    there). Returns the incident columns of the facts (3-year sums) and the history.
    """
    from firegrid.risk.synthetic import facts_for, incident_history

    contract = venues.select(list(VENUE_SCHEMA))
    base = facts_for(contract, seed=seed)
    known = [c for c in facts.columns if c != "venue_id" and c not in INCIDENT_COLUMNS]
    merged = base.join(
        facts.select("venue_id", *known),
        on="venue_id",
        how="left",
        suffix="_db",
        maintain_order="left",
    )
    merged = merged.with_columns(
        [pl.coalesce(pl.col(f"{c}_db"), pl.col(c)).alias(c) for c in known]
    ).drop([f"{c}_db" for c in known])
    merged = merged.with_columns(
        pl.min_horizontal("offline_devices", "device_count").alias("offline_devices")
    ).select(list(FACT_SCHEMA))
    history = incident_history(contract, merged, periods=INCIDENT_YEARS, seed=seed, end=snapshot_at)
    totals = history.incidents.group_by("venue_id").agg(
        pl.col("incidents").sum().cast(pl.Int32).alias("incidents_venue_3y")
    )
    inc = (
        contract.select("venue_id", "grid_code")
        .join(totals, on="venue_id", how="left", maintain_order="left")
        .with_columns(pl.col("incidents_venue_3y").fill_null(0))
        .with_columns(
            pl.col("incidents_venue_3y")
            .sum()
            .over("grid_code")
            .cast(pl.Int32)
            .alias("incidents_grid_3y")
        )
        .select("venue_id", *INCIDENT_COLUMNS)
    )
    return inc, history


# ---- everything ---------------------------------------------------------------------------
def read_inputs(
    database: Database,
    settings: Settings,
    *,
    snapshot_at: datetime | None = None,
    venue_ids: Sequence[int] | None = None,
    with_history: bool = True,
    synthetic_seed: int = SYNTHETIC_SEED,
) -> RunInputs:
    """Read a run's inputs (all live venues, or only ``venue_ids``)."""
    at = snapshot_at or utcnow()
    warnings: list[str] = []
    sources: dict[str, str] = {"venues": "venues (places)"}
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with database.session() as session:
        venues = read_venues(session, venue_ids)
        timings["read.venues"] = time.perf_counter() - t0
        t = time.perf_counter()
        facts = venues.select("venue_id")
        device_health: dict[str, int | None] = {}
        devices = device_facts(session, venue_ids, warnings, sources, device_health)
        facts = facts.join(devices, on="venue_id", how="left", maintain_order="left").with_columns(
            pl.col("device_count").fill_null(0)
        )
        alarms = alarm_facts(session, at, venue_ids, warnings, sources)
        if alarms is None:
            facts = facts.with_columns(
                pl.lit(None, dtype=pl.Int32).alias("fire_alarms_90d"),
                pl.lit(None, dtype=pl.Float64).alias("false_alarm_rate"),
            )
        else:
            facts = facts.join(alarms, on="venue_id", how="left", maintain_order="left")
            facts = facts.with_columns(pl.col("fire_alarms_90d").fill_null(0))
        timings["read.devices_alarms"] = time.perf_counter() - t
        t = time.perf_counter()
        history: IncidentHistory | None
        incidents, history = record_facts(session, venues, at, warnings, sources)
        if incidents is None:
            incidents, history = incident_facts(session, venues, at, venue_ids, warnings, sources)
        timings["read.incidents"] = time.perf_counter() - t
        t = time.perf_counter()
        inspections = inspection_facts(session, at, venue_ids, warnings, sources)
        timings["read.inspections"] = time.perf_counter() - t
        area_context = (
            read_area_context(session, settings.metric_epsg, sources, warnings)
            if venue_ids is None
            else AreaContext()
        )
    if inspections is None:
        facts = facts.with_columns(_null_inspections())
    else:
        facts = facts.join(
            inspections, on="venue_id", how="left", maintain_order="left"
        ).with_columns(
            pl.col("open_hazards").fill_null(0),
            pl.col("overdue_rectifications").fill_null(0),
        )
    t = time.perf_counter()
    response = response_facts(database, settings, venues, warnings, sources, timings)
    facts = facts.join(
        response.drop("full_assignment_travel_time_s"),
        on="venue_id",
        how="left",
        maintain_order="left",
    )
    area_context.venue_extra = response.select("venue_id", "full_assignment_travel_time_s")
    timings["read.geo"] = time.perf_counter() - t
    synthetic = False
    if history is not None and history.snapshots is not None:
        # recorded fires: the per-period facts are the current ones with the incident
        # columns counted from the records before each period's end
        history = replace(history, snapshots=_overlay(history.snapshots, facts))
    if incidents is not None:
        facts = facts.join(incidents, on="venue_id", how="left", maintain_order="left")
    elif with_history and venues.height:
        t = time.perf_counter()
        incidents, history = synthetic_history(venues, facts, at, synthetic_seed)
        facts = facts.join(incidents, on="venue_id", how="left", maintain_order="left")
        synthetic = True
        warnings.append(
            "SYNTHETIC: the dispatch context holds no incident — incidents_venue_3y, "
            "incidents_grid_3y and the validation's history are simulated by "
            f"firegrid.risk.synthetic.incident_history (seed {synthetic_seed})"
        )
        for col in INCIDENT_COLUMNS:
            sources[col] = f"SYNTHETIC (risk.synthetic.incident_history, seed {synthetic_seed})"
        timings["synthetic_history"] = time.perf_counter() - t
    else:
        facts = facts.with_columns(pl.lit(None, dtype=pl.Int32).alias(c) for c in INCIDENT_COLUMNS)
        for col in INCIDENT_COLUMNS:
            sources.setdefault(col, "none (null)")
    facts = facts.select([pl.col(c).cast(t) for c, t in FACT_SCHEMA.items()])
    timings["read.total"] = time.perf_counter() - t0
    return RunInputs(
        snapshot_at=at,
        venues=venues,
        facts=facts,
        history=history,
        synthetic=synthetic,
        warnings=warnings,
        sources=sources,
        timings=timings,
        area_context=area_context,
        device_health=device_health,
    )


def _overlay(snapshots: dict[int, pl.DataFrame], facts: pl.DataFrame) -> dict[int, pl.DataFrame]:
    others = facts.drop(*INCIDENT_COLUMNS, strict=False)
    return {
        p: others.join(s.select("venue_id", *INCIDENT_COLUMNS), on="venue_id", how="left")
        for p, s in snapshots.items()
    }


def record_facts(
    session: Session,
    venues: pl.DataFrame,
    snapshot_at: datetime,
    warnings: list[str],
    sources: dict[str, str],
) -> tuple[pl.DataFrame | None, IncidentHistory | None]:
    """Incident columns and the yearly history from imported fire records, if any.

    Read through ``firegrid.records.public``; ``(None, None)`` when it holds none in the six
    years before the snapshot (3 years of history for each of the 3 yearly periods).
    """
    from firegrid.risk.record_history import YEAR, YEARS, history_from_records, read_records

    records = read_records(session, snapshot_at - YEAR * (2 * YEARS), snapshot_at)
    if records.height == 0:
        return None, None
    matched = int(records["venue_id"].is_not_null().sum())
    current, history = history_from_records(
        records,
        venues.select("venue_id", "grid_code"),
        venues.select("venue_id"),
        snapshot_at,
        description=f"fire records (records context): {records.height} in 6 years, "
        f"{matched} matched to a venue",
    )
    sources["incidents_venue_3y"] = "fire records (records.public), last 3 years, at the venue"
    sources["incidents_grid_3y"] = "fire records (records.public), last 3 years, in the grid"
    sources["validation_labels"] = "imported fire records (records.public), yearly periods"
    warnings.append(
        f"validation: labels are {records.height} imported fire records ({matched} matched to "
        "a venue); per-period facts other than the incident columns are the current ones"
    )
    return current, history


def _null_inspections() -> list[pl.Expr]:
    return [pl.lit(None, dtype=FACT_SCHEMA[c]).alias(c) for c in INSPECTION_COLUMNS]
