"""Aggregation of device/alarm events into the event-derived fact columns (vectorised).

``events`` contract: ``venue_id`` (i64), ``kind`` (String, Categorical or Enum), ``occurred_at``
(tz-aware Datetime). Kinds read: ``fire_alarm``, ``false_alarm`` (a fire alarm verified as
false), ``fault``, ``fault_cleared``, ``offline``, ``online``; others are ignored. Only
events at or before ``snapshot_at`` count.

Derived per venue:

``fire_alarms_90d``   fire alarms in the ``window_days`` before ``snapshot_at``;
``false_alarm_rate``  false alarms / fire alarms in that window (null with no fire alarm);
``unresolved_faults`` faults − clearances up to ``snapshot_at``, at least 0;
``offline_devices``   offline − online transitions up to ``snapshot_at``, at least 0
                      (capped at ``device_count`` by :func:`apply_event_facts`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from firegrid.risk.errors import InputContractError
from firegrid.risk.features import require_aware

EVENT_KINDS = ("fire_alarm", "false_alarm", "fault", "fault_cleared", "offline", "online")
EVENT_FACT_COLUMNS = ("fire_alarms_90d", "false_alarm_rate", "unresolved_faults", "offline_devices")


def _check_events(events: pl.DataFrame) -> None:
    for col in ("venue_id", "kind", "occurred_at"):
        if col not in events.columns:
            raise InputContractError(f"events lacks the column {col!r}", {"column": col})
    dtype = events.schema["occurred_at"]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise InputContractError(
            f"events.occurred_at must be a timezone-aware Datetime, got {dtype}",
            {"column": "occurred_at"},
        )


def aggregate_events(
    events: pl.DataFrame, snapshot_at: datetime, *, window_days: float = 90.0
) -> pl.DataFrame:
    """One row per venue with events: the event-derived fact columns."""
    _check_events(events)
    require_aware(snapshot_at)
    since = snapshot_at - timedelta(days=window_days)
    t = pl.col("occurred_at")
    kind = pl.col("kind")
    recent = t > since

    def n(expr: pl.Expr) -> pl.Expr:
        return expr.sum().cast(pl.Int64)

    agg = (
        events.lazy()
        .filter(t <= snapshot_at)
        .group_by("venue_id")
        .agg(
            n((kind == "fire_alarm") & recent).alias("_fire"),
            n((kind == "false_alarm") & recent).alias("_false"),
            n(kind == "fault").alias("_fault"),
            n(kind == "fault_cleared").alias("_cleared"),
            n(kind == "offline").alias("_offline"),
            n(kind == "online").alias("_online"),
        )
        .select(
            pl.col("venue_id").cast(pl.Int64),
            pl.col("_fire").cast(pl.Int32).alias("fire_alarms_90d"),
            pl.when(pl.col("_fire") > 0)
            .then((pl.col("_false") / pl.col("_fire")).clip(0.0, 1.0))
            .otherwise(None)
            .cast(pl.Float64)
            .alias("false_alarm_rate"),
            (pl.col("_fault") - pl.col("_cleared"))
            .clip(lower_bound=0)
            .cast(pl.Int32)
            .alias("unresolved_faults"),
            (pl.col("_offline") - pl.col("_online"))
            .clip(lower_bound=0)
            .cast(pl.Int32)
            .alias("offline_devices"),
        )
    )
    return agg.collect()


def apply_event_facts(facts: pl.DataFrame, event_facts: pl.DataFrame) -> pl.DataFrame:
    """Replace the event-derived columns of ``facts`` by those computed from events.

    Venues without events get 0 alarms, 0 faults, 0 offline devices and a null
    false-alarm rate. ``offline_devices`` is capped at ``device_count`` when that is known.
    """
    keep = [c for c in facts.columns if c not in EVENT_FACT_COLUMNS]
    out = facts.select(keep).join(event_facts, on="venue_id", how="left", maintain_order="left")
    out = out.with_columns(
        pl.col("fire_alarms_90d").fill_null(0),
        pl.col("unresolved_faults").fill_null(0),
        pl.col("offline_devices").fill_null(0),
    )
    if "device_count" in out.columns:
        out = out.with_columns(
            pl.when(pl.col("device_count").is_not_null())
            .then(pl.min_horizontal("offline_devices", "device_count"))
            .otherwise(pl.col("offline_devices"))
            .cast(pl.Int32)
            .alias("offline_devices")
        )
    return out
