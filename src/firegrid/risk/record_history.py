"""Incident history from recorded fires (the records context's ``fire_records``).

Three yearly periods end at the snapshot. For the time split, the facts at the end of each
period take their incident columns from the records BEFORE that end only
(``incidents_venue_3y``: the venue's fires in the 3 years before; ``incidents_grid_3y``:
its grid's), so no feature counts the fires it is asked to predict. The other facts are the
current ones (no stored facts per period) — a weakness the run's warnings name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from firegrid.risk.history import IncidentHistory, incident_counts

YEARS = 3
YEAR = timedelta(days=365)
RECORD_SCHEMA = {
    "venue_id": pl.Int64(),
    "grid_code": pl.String(),
    "occurred_at": pl.Datetime("us", "UTC"),
}


def read_records(session: Session, since: datetime, until: datetime) -> pl.DataFrame:
    """Recorded fires ``since <= occurred_at < until`` through ``firegrid.records.public``."""
    from firegrid.records.public import fire_records

    rows = fire_records(session, since, until)
    return records_frame([(r.venue_id, _grid_of(r.jurisdiction_path), r.occurred_at) for r in rows])


def _grid_of(path: str) -> str | None:
    parts = [p for p in (path or "").split("/") if p]
    return parts[3] if len(parts) > 3 else None


def records_frame(rows: Sequence[tuple[Any, ...]]) -> pl.DataFrame:
    """``(venue_id | None, grid_code | None, occurred_at)`` tuples as a frame."""
    return pl.DataFrame([tuple(r) for r in rows], schema=RECORD_SCHEMA, orient="row")


def _counts(
    records: pl.DataFrame, venues: pl.DataFrame, start: datetime, end: datetime
) -> pl.DataFrame:
    window = records.filter((pl.col("occurred_at") >= start) & (pl.col("occurred_at") < end))
    return incident_counts(window, venues)


def history_from_records(
    records: pl.DataFrame,
    venues: pl.DataFrame,
    facts: pl.DataFrame,
    snapshot_at: datetime,
    *,
    description: str = "fire records (records context)",
) -> tuple[pl.DataFrame, IncidentHistory]:
    """The run's incident columns (3 years before the snapshot) and the yearly history.

    ``records``: :data:`RECORD_SCHEMA`; ``venues``: ``venue_id``, ``grid_code``; ``facts``:
    the current facts (their incident columns are replaced per period).
    """
    ends = {p: snapshot_at - YEAR * (YEARS - p) for p in range(YEARS + 1)}
    snapshots = {}
    others = facts.drop("incidents_venue_3y", "incidents_grid_3y", strict=False)
    for p, end in ends.items():
        counts = _counts(records, venues, end - YEAR * YEARS, end)
        snapshots[p] = others.join(counts, on="venue_id", how="left", maintain_order="left")
    labelled = []
    for p in range(1, YEARS + 1):
        window = records.drop_nulls("venue_id").filter(
            (pl.col("occurred_at") >= ends[p - 1]) & (pl.col("occurred_at") < ends[p])
        )
        labelled.append(
            window.group_by("venue_id").agg(
                pl.lit(p, dtype=pl.Int32).alias("period"),
                pl.len().cast(pl.Int32).alias("incidents"),
            )
        )
    # a zero row (venue -1, no such venue) per period keeps a period without fires present
    empty = pl.DataFrame(
        {"venue_id": [-1] * YEARS, "period": list(range(1, YEARS + 1)), "incidents": [0] * YEARS},
        schema={"venue_id": pl.Int64(), "period": pl.Int32(), "incidents": pl.Int32()},
    )
    incidents = pl.concat([empty, *[f.select("venue_id", "period", "incidents") for f in labelled]])
    history = IncidentHistory(
        incidents=incidents,
        snapshots=snapshots,
        period_ends=ends,
        synthetic=False,
        description=description,
    )
    current = _counts(records, venues, snapshot_at - YEAR * YEARS, snapshot_at)
    return current, history
