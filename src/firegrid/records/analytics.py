"""Response analytics the way StatEngine reports them, on Polars: per station, unit, town,
grid, incident type or hour of day (local time), over a period — call processing, turnout,
travel, first arrival and effective response force (the whole first assignment on scene)
at p50 and p90, the share of calls reached within 5 minutes (GB 51080: a station's units
reach the edge of its district within 5 minutes of the call), unit utilisation, concurrency
and the calls a station's own units did not serve.

Intervals come from the units' statuses: the incident's milestones (first dispatch, first
unit en route, first arrival) are set by the unit moves, and the effective response force
from the units of the first dispatch (all arrived: the last arrival; otherwise none).
Percentiles interpolate linearly between closest ranks (numpy's default). The first-due
station of a call is the nearest station in a straight line (no first-due map is stored).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.dispatch.history import (
    StationRef,
    assignment_epoch_rows,
    incident_epoch_rows,
    incidents_stamp,
    stations,
    times_as_text,
)
from firegrid.places.public import Jurisdiction
from firegrid.records.period import Period

GROUPINGS = ("station", "unit", "town", "grid", "type", "hour")
WITHIN_S = 300.0  # GB 51080: 5 minutes from the call
INTERVALS = (
    "call_processing_s",
    "turnout_s",
    "travel_s",
    "first_arrival_s",
    "effective_response_force_s",
)
#: Dongguan keeps UTC+8 all year (no daylight saving): hours of day from epoch seconds
LOCAL_OFFSET_S = 8 * 3600


@dataclass(frozen=True)
class ResponseData:
    """Incidents (one row each) and the units sent (one row per assignment) of a period."""

    incidents: pl.DataFrame
    units: pl.DataFrame
    stations: list[StationRef]
    labels: dict[str, str]  # jurisdiction code -> name
    unit_labels: dict[int, str]
    period: Period | None

    @property
    def seconds(self) -> float:
        """Length of the period (the span of the data when no period was asked)."""
        if self.period is not None:
            return self.period.seconds
        if self.incidents.is_empty():
            return 0.0
        start = self.incidents["call_t"].to_numpy()
        end = self.incidents["end_t"].to_numpy()
        return float(np.nanmax(end) - np.nanmin(start))


_TEXT_COLUMNS = frozenset({"incident_type", "jurisdiction_path"})


def _epoch_frame(names: list[str], rows: list[tuple[Any, ...]], text_times: bool) -> pl.DataFrame:
    """Rows of ids, texts, coordinates and times as a typed frame, times in epoch seconds
    (parsed in bulk when the database gave them as UTC text)."""
    times = [n for n in names if n.endswith("_t")]
    schema = {
        name: pl.String
        if name in _TEXT_COLUMNS or (text_times and name in times)
        else pl.Int64
        if name.endswith("_id")
        else pl.Float64
        for name in names
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    if not text_times:
        return frame
    return frame.with_columns(
        (
            pl.col(name)
            .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_zone="UTC", strict=False)
            .dt.epoch("us")
            / 1e6
        ).alias(name)
        for name in times
    )


def _nearest_station(lon: np.ndarray, lat: np.ndarray, refs: list[StationRef]) -> np.ndarray:
    """Id of the nearest station to each point (equirectangular metres; -1 without any)."""
    if not refs or len(lon) == 0:
        return np.full(len(lon), -1, dtype=np.int64)
    s_lon = np.array([s.lon for s in refs])
    s_lat = np.array([s.lat for s in refs])
    ids = np.array([s.id for s in refs], dtype=np.int64)
    scale = np.cos(np.radians(float(np.mean(lat))))
    best = np.full(len(lon), np.inf)
    nearest = np.full(len(lon), -1, dtype=np.int64)
    for k in range(len(refs)):
        d = ((lon - s_lon[k]) * scale) ** 2 + (lat - s_lat[k]) ** 2
        closer = d < best
        best[closer] = d[closer]
        nearest[closer] = ids[k]
    return nearest


def load_response_data(
    session: Session, period: Period | None, path_prefix: str = "/"
) -> ResponseData:
    """Read the period's incidents and units (through dispatch's read API) into frames."""
    since, until = (period.since, period.until) if period else (None, None)
    inc_names, inc_rows = incident_epoch_rows(session, since, until, path_prefix)
    unit_names, unit_rows = assignment_epoch_rows(session, since, until, path_prefix)
    refs = stations(session)
    text_times = times_as_text(session)
    incidents = _epoch_frame(inc_names, inc_rows, text_times).rename({"call_received_t": "call_t"})
    units = _epoch_frame(unit_names, unit_rows, text_times).rename(
        {"dispatched_t": "u_dispatched_t", "arrived_t": "u_arrived_t"}
    )
    incidents = _derive_incident_columns(incidents, units, refs)
    labels = {
        str(code): str(name)
        for code, name in session.execute(
            select(Jurisdiction.code, Jurisdiction.name_zh).where(
                Jurisdiction.level.in_(("town", "grid"))
            )
        )
    }
    unit_labels = {vid: sign for vid, (sign, _station) in _vehicle_signs(session).items()}
    return ResponseData(incidents, units, refs, labels, unit_labels, period)


_CACHE_LOCK = threading.Lock()
_CACHE: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], ResponseData]] = OrderedDict()
CACHE_ENTRIES = 8


def cached_response_data(
    session: Session, period: Period | None, path_prefix: str = "/"
) -> ResponseData:
    """:func:`load_response_data`, kept in memory while no incident or unit assignment has
    changed (checked with one aggregate query), so switching the grouping of a dashboard
    costs only the computation."""
    key = (
        str(session.get_bind().engine.url),
        path_prefix,
        None if period is None else (period.since, period.until),
    )
    stamp = incidents_stamp(session)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == stamp:
            _CACHE.move_to_end(key)
            return cached[1]
    data = load_response_data(session, period, path_prefix)
    with _CACHE_LOCK:
        _CACHE[key] = (stamp, data)
        while len(_CACHE) > CACHE_ENTRIES:
            _CACHE.popitem(last=False)
    return data


def _vehicle_signs(session: Session) -> dict[int, tuple[str, int]]:
    from firegrid.dispatch.history import vehicles

    return vehicles(session)


def _derive_incident_columns(
    incidents: pl.DataFrame, units: pl.DataFrame, refs: list[StationRef]
) -> pl.DataFrame:
    if incidents.is_empty():
        return incidents.with_columns(
            [pl.lit(None, dtype=pl.Float64).alias(name) for name in INTERVALS]
            + [
                pl.lit("").alias("town"),
                pl.lit("").alias("grid"),
                pl.lit(0, dtype=pl.Int8).alias("hour"),
                pl.lit(-1, dtype=pl.Int64).alias("first_due"),
                pl.lit(True).alias("own_served"),
                pl.lit(0.0).alias("end_t"),
            ]
        )
    first_wave = (
        units.join(incidents.select("incident_id", "dispatched_t"), on="incident_id", how="inner")
        .filter(pl.col("u_dispatched_t") == pl.col("dispatched_t"))
        .group_by("incident_id")
        .agg(
            pl.col("u_arrived_t").max().alias("erf_t"),
            pl.col("u_arrived_t").null_count().alias("wave_missing"),
        )
    )
    path_parts = pl.col("jurisdiction_path").str.strip_chars("/").str.split("/")
    nearest = _nearest_station(incidents["lon"].to_numpy(), incidents["lat"].to_numpy(), refs)
    frame = incidents.join(first_wave, on="incident_id", how="left").with_columns(
        (pl.col("dispatched_t") - pl.col("call_t")).alias("call_processing_s"),
        (pl.col("turnout_t") - pl.col("dispatched_t")).alias("turnout_s"),
        (pl.col("arrived_t") - pl.col("turnout_t")).alias("travel_s"),
        (pl.col("arrived_t") - pl.col("call_t")).alias("first_arrival_s"),
        pl.when(pl.col("wave_missing") == 0)
        .then(pl.col("erf_t") - pl.col("call_t"))
        .otherwise(None)
        .alias("effective_response_force_s"),
        path_parts.list.get(1, null_on_oob=True).fill_null("").alias("town"),
        path_parts.list.last().fill_null("").alias("grid"),
        ((pl.col("call_t") + LOCAL_OFFSET_S) // 3600 % 24).cast(pl.Int8).alias("hour"),
        pl.Series("first_due", nearest, dtype=pl.Int64),
        pl.coalesce("closed_t", "call_t").alias("end_t"),
    )
    served = (
        units.join(frame.select("incident_id", "first_due"), on="incident_id")
        .filter(pl.col("station_id") == pl.col("first_due"))
        .select("incident_id")
        .unique()
        .with_columns(pl.lit(True).alias("own_served"))
    )
    return frame.join(served, on="incident_id", how="left").with_columns(
        pl.col("own_served").fill_null(False)
    )


def _concurrency(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """For each incident: how many other incidents of its group were open at its call.

    Vectorised over all groups at once: each time is offset by its group's rank times a
    span longer than the data, so one sorted search counts within the group (the starts
    and ends of earlier groups cancel out)."""
    if frame.is_empty():
        return pl.DataFrame(
            {"incident_id": [], "concurrent": []},
            schema={"incident_id": pl.Int64, "concurrent": pl.Int64},
        )
    ranked = frame.select(
        "incident_id",
        pl.col(key).rank("dense").cast(pl.Float64).alias("_rank"),
        "call_t",
        "end_t",
    )
    start = ranked["call_t"].to_numpy()
    end = np.maximum(ranked["end_t"].to_numpy(), start)
    base = float(np.nanmin(start))
    span = float(np.nanmax(end) - base) + 1.0
    offset = ranked["_rank"].to_numpy() * span
    starts = offset + (start - base)
    ends = offset + (end - base)
    sorted_starts, sorted_ends = np.sort(starts), np.sort(ends)
    open_at = np.searchsorted(sorted_starts, starts, "right") - np.searchsorted(
        sorted_ends, starts, "right"
    )
    return pl.DataFrame(
        {"incident_id": ranked["incident_id"], "concurrent": np.maximum(open_at - 1, 0)}
    )


def _interval_aggs(names: tuple[str, ...]) -> list[pl.Expr]:
    exprs: list[pl.Expr] = []
    for name in names:
        exprs.append(pl.col(name).quantile(0.5, "linear").alias(f"{name}:p50"))
        exprs.append(pl.col(name).quantile(0.9, "linear").alias(f"{name}:p90"))
    return exprs


def _incident_metrics(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    with_conc = frame.join(_concurrency(frame, key), on="incident_id", how="left")
    return with_conc.group_by(key).agg(
        pl.len().alias("calls"),
        *_interval_aggs(INTERVALS),
        pl.col("first_arrival_s").is_not_null().sum().alias("arrived_calls"),
        (pl.col("first_arrival_s") <= WITHIN_S).sum().alias("within_5min"),
        (~pl.col("own_served")).sum().alias("own_station_missed"),
        pl.col("concurrent").mean().alias("concurrency_mean"),
        pl.col("concurrent").max().alias("concurrency_max"),
        (pl.col("concurrent") > 0).mean().alias("concurrent_share"),
    )


def _busy_seconds(data: ResponseData) -> pl.DataFrame:
    """Seconds each vehicle was committed (dispatch to release) within the period."""
    units = data.units
    if data.period is not None:
        lo, hi = data.period.since.timestamp(), data.period.until.timestamp()
    else:
        lo, hi = -np.inf, np.inf
    end = pl.coalesce("released_t", pl.lit(hi if np.isfinite(hi) else None))
    return (
        units.with_columns(
            (pl.min_horizontal(end, pl.lit(hi)) - pl.max_horizontal("u_dispatched_t", pl.lit(lo)))
            .clip(lower_bound=0)
            .alias("busy_s")
        )
        .group_by("vehicle_id", "station_id")
        .agg(pl.col("busy_s").sum())
    )


def _unit_metrics(data: ResponseData) -> pl.DataFrame:
    units = data.units.join(
        data.incidents.select("incident_id", "call_t", "call_processing_s", "end_t", "first_due"),
        on="incident_id",
    ).with_columns(
        (pl.col("en_route_t") - pl.col("u_dispatched_t")).alias("turnout_s"),
        (pl.col("u_arrived_t") - pl.col("en_route_t")).alias("travel_s"),
        (pl.col("u_arrived_t") - pl.col("call_t")).alias("first_arrival_s"),
        pl.lit(None, dtype=pl.Float64).alias("effective_response_force_s"),
        pl.lit(0, dtype=pl.Int64).alias("concurrent"),
    )
    busy = _busy_seconds(data)
    seconds = data.seconds or 1.0
    metrics = units.group_by("vehicle_id").agg(
        pl.len().alias("calls"),
        *_interval_aggs(INTERVALS),
        pl.col("first_arrival_s").is_not_null().sum().alias("arrived_calls"),
        (pl.col("first_arrival_s") <= WITHIN_S).sum().alias("within_5min"),
        (pl.col("station_id") != pl.col("first_due")).sum().alias("beyond_first_due"),
    )
    return metrics.join(busy, on="vehicle_id", how="left").with_columns(
        (pl.col("busy_s").fill_null(0.0) / seconds).alias("utilisation")
    )


def _station_utilisation(data: ResponseData) -> dict[int, tuple[int, float]]:
    """station id -> (units that worked in the period, mean utilisation of those units)."""
    seconds = data.seconds or 1.0
    busy = (
        _busy_seconds(data)
        .group_by("station_id")
        .agg(pl.len().alias("units"), (pl.col("busy_s").mean() / seconds).alias("utilisation"))
    )
    return {int(r[0]): (int(r[1]), float(r[2])) for r in busy.iter_rows()}


def _key_column(by: str) -> str:
    return {"station": "first_due", "type": "incident_type"}.get(by, by)


def response_analytics(data: ResponseData, by: str) -> dict[str, Any]:
    """The table of response performance grouped ``by`` (one row per group, busiest first)
    and the totals over everything in the data."""
    if by not in GROUPINGS:
        raise ValidationFailed(
            f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}",
            {"by": by, "known": list(GROUPINGS)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "by", "value": by, "allowed": GROUPINGS},
        )
    if by == "unit":
        table = _unit_metrics(data)
        rows = [_unit_row(data, record) for record in table.iter_rows(named=True)]
    else:
        key = _key_column(by)
        table = _incident_metrics(data.incidents, key)
        utilisation = _station_utilisation(data) if by == "station" else {}
        rows = [
            _group_row(data, by, key, record, utilisation) for record in table.iter_rows(named=True)
        ]
    rows.sort(key=lambda r: (-r["calls"], str(r["key"])))
    totals_frame = data.incidents.with_columns(pl.lit("all").alias("_all"))
    totals = _group_row(
        data,
        "all",
        "_all",
        next(
            _incident_metrics(totals_frame, "_all").iter_rows(named=True),
            {"_all": "all", "calls": 0},
        ),
        {},
    )
    return {
        "by": by,
        "period": _period_dict(data.period),
        "within_s": WITHIN_S,
        "rows": rows,
        "totals": totals,
    }


def _period_dict(period: Period | None) -> dict[str, Any] | None:
    if period is None:
        return None
    return {
        "label": period.label,
        "since": period.since.isoformat(),
        "until": period.until.isoformat(),
    }


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _intervals(record: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    return {
        name: {
            "p50": _rounded(record.get(f"{name}:p50")),
            "p90": _rounded(record.get(f"{name}:p90")),
        }
        for name in INTERVALS
    }


def _share(part: Any, whole: Any) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _group_row(
    data: ResponseData,
    by: str,
    key: str,
    record: dict[str, Any],
    utilisation: dict[int, tuple[int, float]],
) -> dict[str, Any]:
    value: Any = record.get(key)
    label = str(value)
    units: int | None = None
    used: float | None = None
    if by == "station":
        station = next((s for s in data.stations if s.id == value), None)
        label = station.name if station else "—"
        units, used = utilisation.get(int(value), (0, 0.0)) if value is not None else (0, 0.0)
        used = round(used, 4)
    elif by in ("town", "grid"):
        label = data.labels.get(str(value), str(value))
    elif by == "hour" and value is not None:
        value = int(value)
        label = f"{value:02d}:00"
    calls = int(record.get("calls") or 0)
    arrived = int(record.get("arrived_calls") or 0)
    return {
        "key": value,
        "label": label,
        "calls": calls,
        "intervals": _intervals(record),
        "arrived_calls": arrived,
        "within_5min_share": _share(record.get("within_5min") or 0, arrived),
        "own_station_missed": int(record.get("own_station_missed") or 0),
        "own_station_missed_share": _share(record.get("own_station_missed") or 0, calls),
        "beyond_first_due": None,
        "concurrency_mean": _rounded4(record.get("concurrency_mean")),
        "concurrency_max": int(record.get("concurrency_max") or 0),
        "concurrent_share": _rounded4(record.get("concurrent_share")),
        "units": units,
        "utilisation": used,
    }


def _rounded4(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


def _unit_row(data: ResponseData, record: dict[str, Any]) -> dict[str, Any]:
    vid = int(record["vehicle_id"])
    calls = int(record["calls"])
    arrived = int(record.get("arrived_calls") or 0)
    return {
        "key": vid,
        "label": data.unit_labels.get(vid, str(vid)),
        "calls": calls,
        "intervals": _intervals(record),
        "arrived_calls": arrived,
        "within_5min_share": _share(record.get("within_5min") or 0, arrived),
        "own_station_missed": None,
        "own_station_missed_share": None,
        "beyond_first_due": int(record.get("beyond_first_due") or 0),
        "concurrency_mean": None,
        "concurrency_max": 0,
        "concurrent_share": None,
        "units": 1,
        "utilisation": _rounded4(record.get("utilisation")),
    }
