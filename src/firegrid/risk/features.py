"""The input contract (venues, facts) and the feature frame the indicators read.

``validate_venues`` / ``validate_facts`` check the columns and cast them to the contract's
types (a clear :class:`~firegrid.risk.errors.InputContractError` names a missing column or a
column that cannot be cast). ``build_features`` left-joins facts onto venues (a venue with
no facts row gets nulls, which the indicators' missing-value rules handle) and adds the
derived columns:

``building_age_years`` (f64)
    ``snapshot_at.year − built_year``, clipped at 0; null when ``built_year`` is null.
``monitoring_connected`` (bool)
    ``device_count > 0``; null when ``device_count`` is null.
``offline_ratio`` (f64)
    ``offline_devices / device_count`` clipped to ``[0, 1]``; null without devices.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import polars as pl

from firegrid.risk.errors import InputContractError

VENUE_SCHEMA: dict[str, pl.DataType] = {
    "venue_id": pl.Int64(),
    "town_code": pl.String(),
    "village_code": pl.String(),
    "grid_code": pl.String(),
    "category": pl.String(),
    "industry_code": pl.String(),
    "is_key_unit": pl.Boolean(),
    "is_high_risk": pl.Boolean(),
    "is_three_small": pl.Boolean(),
    "is_rental": pl.Boolean(),
    "floor_area_m2": pl.Float64(),
    "floors": pl.Int32(),
    "occupancy": pl.Int32(),
    "night_occupancy": pl.Int32(),
    "construction_class": pl.String(),
    "built_year": pl.Int32(),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
}
#: Venue columns that may be absent (they are then all null).
VENUE_OPTIONAL = frozenset({"built_year", "industry_code"})

FACT_SCHEMA: dict[str, pl.DataType] = {
    "venue_id": pl.Int64(),
    "open_hazards": pl.Int32(),
    "overdue_rectifications": pl.Int32(),
    "days_since_inspection": pl.Float64(),
    "device_count": pl.Int32(),
    "offline_devices": pl.Int32(),
    "unresolved_faults": pl.Int32(),
    "false_alarm_rate": pl.Float64(),
    "fire_alarms_90d": pl.Int32(),
    "first_due_travel_time_s": pl.Float64(),
    "hydrant_within_150m": pl.Boolean(),
    "incidents_venue_3y": pl.Int32(),
    "incidents_grid_3y": pl.Int32(),
}

DERIVED_SCHEMA: dict[str, pl.DataType] = {
    "building_age_years": pl.Float64(),
    "monitoring_connected": pl.Boolean(),
    "offline_ratio": pl.Float64(),
}

#: Every column of the feature frame an indicator may name as its ``source``.
FEATURE_COLUMNS: frozenset[str] = (
    frozenset(VENUE_SCHEMA) | frozenset(FACT_SCHEMA) | frozenset(DERIVED_SCHEMA)
)


def _conform(
    df: pl.DataFrame,
    schema: Mapping[str, pl.DataType],
    name: str,
    optional: frozenset[str],
) -> tuple[pl.DataFrame, list[str]]:
    if not isinstance(df, pl.DataFrame):
        raise InputContractError(f"{name} must be a polars DataFrame, got {type(df).__name__}")
    warnings: list[str] = []
    exprs: list[pl.Expr] = []
    for col, dtype in schema.items():
        if col not in df.columns:
            if col in optional:
                warnings.append(f"{name}.{col} absent: treated as unknown (null)")
                exprs.append(pl.lit(None, dtype=dtype).alias(col))
                continue
            raise InputContractError(
                f"{name} lacks the column {col!r} ({dtype})",
                {"frame": name, "column": col, "expected": str(dtype)},
            )
        src = df.schema[col]
        if src == dtype:
            exprs.append(pl.col(col))
        elif isinstance(dtype, pl.String) and isinstance(src, pl.Categorical | pl.Enum):
            exprs.append(pl.col(col).cast(pl.String))
        else:
            exprs.append(pl.col(col).cast(dtype, strict=True))
    try:
        out = df.select(exprs)
    except (pl.exceptions.PolarsError, TypeError, ValueError) as exc:
        bad = _first_bad_column(df, schema)
        raise InputContractError(
            f"{name}: column {bad!r} cannot be read as {schema.get(bad or '', '?')}: {exc}",
            {"frame": name, "column": bad},
        ) from None
    if out["venue_id"].null_count():
        raise InputContractError(
            f"{name}.venue_id has nulls", {"frame": name, "column": "venue_id"}
        )
    if out["venue_id"].n_unique() != out.height:
        raise InputContractError(
            f"{name}.venue_id is not unique", {"frame": name, "column": "venue_id"}
        )
    return out, warnings


def _first_bad_column(df: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> str | None:
    for col, dtype in schema.items():
        if col in df.columns:
            try:
                df.select(pl.col(col).cast(dtype, strict=True))
            except (pl.exceptions.PolarsError, TypeError, ValueError):
                return col
    return None


def validate_venues(venues: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Check and cast ``venues`` to the contract; returns ``(frame, warnings)``."""
    return _conform(venues, VENUE_SCHEMA, "venues", VENUE_OPTIONAL)


def validate_facts(facts: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Check and cast ``facts`` to the contract; absent fact columns become null (warned)."""
    return _conform(facts, FACT_SCHEMA, "facts", frozenset(FACT_SCHEMA) - {"venue_id"})


def require_aware(ts: datetime, what: str = "snapshot_at") -> datetime:
    if not isinstance(ts, datetime) or ts.tzinfo is None or ts.utcoffset() is None:
        raise InputContractError(f"{what} must be a timezone-aware datetime, got {ts!r}")
    return ts


def derive(joined: pl.DataFrame, snapshot_at: datetime) -> pl.DataFrame:
    """Add the derived columns to a frame holding the contract's venue and fact columns."""
    year = require_aware(snapshot_at).year
    dc = pl.col("device_count")
    return joined.with_columns(
        (pl.lit(year, dtype=pl.Float64) - pl.col("built_year").cast(pl.Float64))
        .clip(lower_bound=0.0)
        .alias("building_age_years"),
        (dc > 0).alias("monitoring_connected"),
        pl.when(dc > 0)
        .then((pl.col("offline_devices").cast(pl.Float64) / dc.cast(pl.Float64)).clip(0.0, 1.0))
        .otherwise(None)
        .alias("offline_ratio"),
    )


def build_features(
    venues: pl.DataFrame, facts: pl.DataFrame, snapshot_at: datetime
) -> tuple[pl.DataFrame, list[str]]:
    """Validate, join and derive: the feature frame (one row per venue, venue order kept)."""
    v, w1 = validate_venues(venues)
    f, w2 = validate_facts(facts)
    joined = v.join(f, on="venue_id", how="left", maintain_order="left")
    unmatched = joined.height - v.join(f, on="venue_id", how="semi").height
    warnings = w1 + w2
    if unmatched:
        warnings.append(f"{unmatched} venues have no facts row (missing-value rules apply)")
    return derive(joined, snapshot_at), warnings


RAW_SCHEMA: dict[str, pl.DataType] = {**VENUE_SCHEMA, **dict(FACT_SCHEMA.items())}


def rows_to_features(rows: list[Mapping[str, Any]], snapshot_at: datetime) -> pl.DataFrame:
    """Feature frame for raw venue+fact dicts (absent keys are null); same code as the batch."""
    data = {col: [r.get(col) for r in rows] for col in RAW_SCHEMA}
    frame = pl.DataFrame(data, schema=RAW_SCHEMA, strict=False)
    return derive(frame, snapshot_at)
