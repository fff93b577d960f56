"""Seeded, plausible inspections and hazards for the demo city (bulk Core inserts).

The generating process (deterministic by seed, relative to ``now``):

* every venue has a latent management quality ``m ~ N(0, 1)`` (higher = worse);
* a venue is inspected within the last year with a probability by class (three-small
  venues 96 %, rental housing 94 %, key units 97 %, general venues 85 %), then
  ``1 + Poisson(extra)`` times (three-small and rental housing more often); most of the
  others had one inspection one to three years ago, the rest never;
* an inspection finds hazards with ``sigmoid(logit(base[class]) + 0.9 m)``, one or more;
  their category is drawn with the weights of :data:`HAZARD_CATEGORIES` for the venue's
  class (e-bikes charging indoors in rental housing, "three-in-one" in three-small venues,
  faulty fire systems in key units), their severity with the category's major share, and
  the deadline is the category's usual one for that severity;
* a hazard of an earlier inspection was rectified (the next visit checked it); one of the
  latest inspection is rectified with ``sigmoid(2.9 − 0.9 m)`` once its deadline has
  passed (the rest are overdue), or already before it with 15 %; visits within the year
  lean towards the recent months (campaigns and follow-up visits).

About one venue in five has open hazards and about one in fifteen overdue ones. The city's
rows are read with one query each, ids are assigned here, rows go in with ``insert()`` in
chunks in one transaction; the target tables must be empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Table, select

from firegrid.core.bulk import (
    advance_id_sequences,
    insert_chunks,
    require_empty,
    sqlite_bulk_cache,
    table_of,
)
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.inspections.models import (
    HAZARD_CATEGORIES,
    Hazard,
    HazardStatus,
    HazardTransition,
    Inspection,
    InspectionResult,
)
from firegrid.places.public import GridWorker, Venue

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CHUNK_ROWS = 5_000
DAY_S = 86_400.0
CLASSES = ("three_small", "rental_housing", "general", "key_unit", "high_risk")
#: share of a class inspected within the last year
P_RECENT = np.array([0.96, 0.94, 0.85, 0.97, 0.98])
#: mean of the extra inspections within the year (beyond the first)
EXTRA = np.array([2.0, 1.5, 0.4, 1.0, 2.0])
#: share of the venues not inspected within the year that were inspected 1-3 years ago
P_OLD = 0.7
#: chance that one inspection finds hazards, by class (before the venue's management)
FIND = np.array([0.60, 0.55, 0.30, 0.32, 0.36])
#: an inspection not finding hazards could not enter the venue with this chance
NOT_ACCESSIBLE = 0.03
#: key units and high-risk units: share inspected by fire-brigade officers (no grid worker)
BRIGADE_SHARE = 0.5
#: a hazard of the latest inspection still within its deadline is already rectified
EARLY_FIX = 0.15
#: exponent of the age of a visit within the year (> 1: more recent visits)
RECENCY_POWER = 1.8
#: logit of rectifying a hazard of the latest inspection once its deadline has passed
FIX_AFTER_DUE = 2.9
_STREAM = 101


@dataclass
class InspectionPlan:
    """The generated rows as parallel arrays (no database needed)."""

    now: datetime
    venue_ids: IntArray
    # inspections
    i_venue: IntArray  # index into venue_ids
    i_at: FloatArray  # epoch seconds
    i_worker: IntArray  # grid worker id, -1 for none
    i_result: list[str]
    # hazards
    h_inspection: IntArray  # index into the inspections
    h_category: IntArray  # index into HAZARD_CATEGORIES
    h_major: BoolArray
    h_found: FloatArray
    h_deadline: FloatArray
    h_rectified: FloatArray  # nan while open

    @property
    def h_venue(self) -> IntArray:
        return self.i_venue[self.h_inspection]

    def figures(self) -> dict[str, Any]:
        """Counts and shares of the plan (for the demo's report and the tests)."""
        now_s = self.now.timestamp()
        n = int(self.venue_ids.size)
        open_ = np.isnan(self.h_rectified)
        overdue = open_ & (self.h_deadline < now_s)
        inspected_year = np.zeros(n, dtype=bool)
        inspected_year[self.i_venue[self.i_at >= now_s - 365 * DAY_S]] = True
        with_open = np.zeros(n, dtype=bool)
        with_open[self.h_venue[open_]] = True
        with_overdue = np.zeros(n, dtype=bool)
        with_overdue[self.h_venue[overdue]] = True

        def share(flags: BoolArray) -> float:
            return round(float(flags.mean()), 3) if n else 0.0

        return {
            "inspections": int(self.i_venue.size),
            "hazards": int(self.h_inspection.size),
            "open_hazards": int(open_.sum()),
            "overdue_hazards": int(overdue.sum()),
            "venues": n,
            "venues_inspected_last_year": share(inspected_year),
            "venues_with_open_hazards": share(with_open),
            "venues_with_overdue_hazards": share(with_overdue),
        }


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def _logit(p: FloatArray) -> FloatArray:
    return np.asarray(np.log(p / (1.0 - p)), dtype=np.float64)


def venue_classes(categories: list[str], key_unit: BoolArray) -> IntArray:
    """Index into :data:`CLASSES` per venue: the taxonomy's class, key units flagged so."""
    from firegrid.places.public import load_taxonomy

    taxonomy = load_taxonomy()
    of = {code: c.venue_class for code, c in taxonomy.categories.items()}
    index = {name: i for i, name in enumerate(CLASSES)}
    klass = np.array([index.get(of.get(c, "general"), 2) for c in categories], dtype=np.int64)
    promote = key_unit & (klass != index["high_risk"])
    klass[promote] = index["key_unit"]
    return klass


def _pick_workers(
    paths: list[str], worker_ids: IntArray, worker_paths: list[str], u: FloatArray
) -> IntArray:
    """A grid worker of each venue's grid (``u`` uniform in [0, 1)); -1 without one."""
    by_path: dict[str, list[int]] = {}
    for wid, path in zip(worker_ids.tolist(), worker_paths, strict=True):
        by_path.setdefault(path, []).append(wid)
    out = np.full(len(paths), -1, dtype=np.int64)
    for i, path in enumerate(paths):
        ids = by_path.get(path)
        if ids:
            out[i] = ids[int(u[i] * len(ids))]
    return out


def plan_inspections(
    venue_ids: IntArray,
    categories: list[str],
    key_unit: BoolArray,
    paths: list[str],
    worker_ids: IntArray,
    worker_paths: list[str],
    seed: int,
    now: datetime,
) -> InspectionPlan:
    """Generate the inspections and hazards of the venues (vectorised, seeded)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, _STREAM]))
    n = int(venue_ids.size)
    now_s = now.timestamp()
    klass = venue_classes(categories, key_unit)
    mgmt = rng.normal(0.0, 1.0, size=n)

    # -- inspections: how many per venue, when, by whom
    recent = rng.random(n) < P_RECENT[klass]
    old = ~recent & (rng.random(n) < P_OLD)
    count = np.where(recent, 1 + rng.poisson(EXTRA[klass]), old.astype(np.int64))
    i_venue = np.repeat(np.arange(n, dtype=np.int64), count)
    m = int(i_venue.size)
    # visits within the year lean towards the recent months (campaigns, follow-ups)
    within = 1.0 + np.floor(364.0 * rng.random(m) ** RECENCY_POWER)
    days = np.where(old[i_venue], rng.integers(366, 1096, size=m), within).astype(np.float64)
    # working hours in China (UTC+8) 09:00-18:00 are 01:00-10:00 UTC
    midnight = now_s - (now_s % DAY_S)
    i_at = midnight - days * DAY_S + 3_600.0 + rng.random(m) * 9 * 3_600.0
    i_at = np.minimum(i_at, now_s - 3_600.0)
    order = np.lexsort((i_at, i_venue))
    i_venue, i_at = i_venue[order], i_at[order]
    latest = np.ones(m, dtype=bool)
    latest[:-1] = i_venue[:-1] != i_venue[1:]

    worker = _pick_workers(
        [paths[v] for v in i_venue.tolist()], worker_ids, worker_paths, rng.random(m)
    )
    brigade = (klass[i_venue] >= CLASSES.index("key_unit")) & (rng.random(m) < BRIGADE_SHARE)
    worker[brigade] = -1

    # -- hazards found at each inspection
    p_find = _sigmoid(_logit(FIND[klass]) + 0.9 * mgmt)[i_venue]
    found = rng.random(m) < p_find
    per = np.where(found, 1 + rng.poisson(0.4 + 0.3 * np.maximum(mgmt[i_venue], 0.0)), 0)
    not_accessible = ~found & (rng.random(m) < NOT_ACCESSIBLE)
    result = np.where(
        found,
        InspectionResult.HAZARDS_FOUND.value,
        np.where(
            not_accessible, InspectionResult.NOT_ACCESSIBLE.value, InspectionResult.PASSED.value
        ),
    ).tolist()
    h_inspection = np.repeat(np.arange(m, dtype=np.int64), per)
    h = int(h_inspection.size)
    h_venue = i_venue[h_inspection]
    weights = np.array([[c.weight[k] for c in HAZARD_CATEGORIES] for k in CLASSES])
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(h)
    h_category = np.minimum(
        (u[:, None] > cumulative[klass[h_venue]]).sum(axis=1), len(HAZARD_CATEGORIES) - 1
    ).astype(np.int64)
    major_share = np.array([c.major_share for c in HAZARD_CATEGORIES])
    h_major = rng.random(h) < major_share[h_category]
    deadline_days = np.array(
        [[c.deadline_days["general"], c.deadline_days["major"]] for c in HAZARD_CATEGORIES],
        dtype=np.float64,
    )
    h_found = i_at[h_inspection]
    span = deadline_days[h_category, h_major.astype(np.int64)] * DAY_S
    h_deadline = h_found + span

    # -- rectification
    at_latest = latest[h_inspection]
    due = h_deadline < now_s
    m_h = mgmt[h_venue]
    fixed = np.where(
        ~at_latest,
        rng.random(h) < 0.98,
        np.where(
            due, rng.random(h) < _sigmoid(FIX_AFTER_DUE - 0.9 * m_h), rng.random(h) < EARLY_FIX
        ),
    )
    late_share = np.clip(0.15 + 0.1 * m_h, 0.02, 0.6)
    took = span * np.where(rng.random(h) < late_share, rng.uniform(1.0, 2.0, h), rng.random(h))
    took = np.where(~at_latest | due, took, rng.random(h) * np.maximum(now_s - h_found, 0.0))
    rectified_at = np.minimum(h_found + np.maximum(took, 600.0), now_s - 600.0)
    h_rectified = np.where(fixed, rectified_at, np.nan)

    return InspectionPlan(
        now=now,
        venue_ids=venue_ids,
        i_venue=i_venue,
        i_at=i_at,
        i_worker=worker,
        i_result=result,
        h_inspection=h_inspection,
        h_category=h_category,
        h_major=h_major,
        h_found=h_found,
        h_deadline=h_deadline,
        h_rectified=h_rectified,
    )


Stamp = datetime | str


def stamps(seconds: FloatArray, as_text: bool) -> list[Stamp | None]:
    """Epoch seconds as aware datetimes, or (``as_text``) as SQLite's stored UTC text.

    SQLite keeps a timestamp as ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC here); writing that
    text directly skips a per-value conversion, which dominates a bulk insert. NaN → None.
    """
    missing = np.isnan(seconds)
    whole = np.where(missing, 0, np.round(seconds)).astype("datetime64[s]")
    if as_text:
        text_ = np.char.add(np.char.replace(np.datetime_as_string(whole), "T", " "), ".000000")
        out: list[Stamp | None] = list(text_.tolist())
    else:
        out = [
            datetime.fromtimestamp(float(x), UTC) for x in whole.astype(np.int64).astype(np.float64)
        ]
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    return out


def plan_rows(
    plan: InspectionPlan,
    paths: list[str],
    worker_names: dict[int, str],
    *,
    as_text: bool = False,
    first_ids: tuple[int, int, int] = (1, 1, 1),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of ``inspections``, ``hazards`` and ``hazard_transitions`` for ``plan``.

    Timestamps are aware datetimes, or SQLite's stored text with ``as_text``.
    """
    i0, h0, t0 = first_ids
    i_at = stamps(plan.i_at, as_text)
    inspections: list[dict[str, Any]] = []
    inspector: list[str] = []
    for k, (v, w, result) in enumerate(
        zip(plan.i_venue.tolist(), plan.i_worker.tolist(), plan.i_result, strict=True)
    ):
        name = worker_names.get(w, "") if w >= 0 else "消防监督员"
        subject = f"grid_worker:{w}" if w >= 0 else "brigade"
        inspector.append(f"{subject} ({name})" if name else subject)
        inspections.append(
            {
                "id": i0 + k,
                "venue_id": int(plan.venue_ids[v]),
                "grid_worker_id": w if w >= 0 else None,
                "inspector_subject": subject,
                "inspector_name": name,
                "inspected_at": i_at[k],
                "result": result,
                "note": "",
                "jurisdiction_path": paths[v],
                # desk history: no phone evidence (checklist, photo, position)
                "checklist": "",
                "checklist_answers": "{}" if as_text else {},
                "evidence_photo": "",
                "gps_status": "",
                "gps_lon": None,
                "gps_lat": None,
                "gps_accuracy_m": None,
                "gps_at": None,
                "created_at": i_at[k],
                "updated_at": i_at[k],
                "deleted_at": None,
            }
        )
    found_at = stamps(plan.h_found, as_text)
    deadline = stamps(plan.h_deadline, as_text)
    rectified_at = stamps(plan.h_rectified, as_text)
    late = (plan.h_rectified > plan.h_deadline).tolist()
    hazards: list[dict[str, Any]] = []
    transitions: list[dict[str, Any]] = []
    t_id = t0
    for k, (i, c, major) in enumerate(
        zip(
            plan.h_inspection.tolist(), plan.h_category.tolist(), plan.h_major.tolist(), strict=True
        )
    ):
        v = int(plan.i_venue[i])
        venue_id = int(plan.venue_ids[v])
        declared = HAZARD_CATEGORIES[c]
        fixed = rectified_at[k]
        hazard_id = h0 + k
        manager = f"venue:{venue_id} (venue manager)"
        hazards.append(
            {
                "id": hazard_id,
                "venue_id": venue_id,
                "inspection_id": i0 + i,
                "category": declared.code,
                "severity": "major" if major else "general",
                "description": declared.name_zh,
                "found_at": found_at[k],
                "deadline": deadline[k],
                "status": (HazardStatus.OPEN if fixed is None else HazardStatus.RECTIFIED).value,
                "rectified_at": fixed,
                "rectified_by": "" if fixed is None else manager,
                "evidence_note": "" if fixed is None else "已整改，复查合格",
                "evidence_photo": "",
                "jurisdiction_path": paths[v],
                "created_at": found_at[k],
                "updated_at": fixed or found_at[k],
                "deleted_at": None,
            }
        )
        transitions.append(
            {
                "id": t_id,
                "hazard_id": hazard_id,
                "from_status": "",
                "to_status": HazardStatus.OPEN.value,
                "at": found_at[k],
                "actor": inspector[i],
                "cause": f"found at inspection {i0 + i}",
            }
        )
        t_id += 1
        if fixed is not None:
            transitions.append(
                {
                    "id": t_id,
                    "hazard_id": hazard_id,
                    "from_status": HazardStatus.OPEN.value,
                    "to_status": HazardStatus.RECTIFIED.value,
                    "at": fixed,
                    "actor": manager,
                    "cause": "rectified with evidence" + (" after the deadline" if late[k] else ""),
                }
            )
            t_id += 1
    return inspections, hazards, transitions


TABLES = (Inspection, Hazard, HazardTransition)


def generate_inspections(
    database: Database,
    seed: int,
    *,
    now: datetime | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, Any]:
    """Generate and write the demo inspections and hazards of every live venue.

    ``now`` (default: the current time) anchors the history; the tables must be empty
    (:class:`Conflict` otherwise). Returns the counts and shares of :meth:`figures`.
    """
    now = now or utcnow()
    tables = [table_of(model) for model in TABLES]
    with database.engine.begin() as connection, sqlite_bulk_cache(connection):
        require_empty(connection, tables, "demo inspections")
        venues = connection.execute(
            select(Venue.id, Venue.category, Venue.is_key_unit, Venue.jurisdiction_path)
            .where(Venue.deleted_at.is_(None))
            .order_by(Venue.id)
        ).all()
        workers = connection.execute(
            select(GridWorker.id, GridWorker.name, GridWorker.jurisdiction_path)
            .where(GridWorker.deleted_at.is_(None), GridWorker.active.is_(True))
            .order_by(GridWorker.id)
        ).all()
        paths = [str(r[3]) for r in venues]
        plan = plan_inspections(
            np.array([r[0] for r in venues], dtype=np.int64),
            [str(r[1]) for r in venues],
            np.array([bool(r[2]) for r in venues], dtype=bool),
            paths,
            np.array([r[0] for r in workers], dtype=np.int64),
            [str(r[2]) for r in workers],
            seed,
            now,
        )
        sqlite = connection.dialect.name == "sqlite"
        rows = plan_rows(plan, paths, {int(r[0]): str(r[1]) for r in workers}, as_text=sqlite)
        for table, table_rows in zip(tables, rows, strict=True):
            if sqlite:
                _insert_sqlite(connection, table, table_rows, chunk_rows)
            else:
                insert_chunks(connection, table, table_rows, chunk_rows)
        advance_id_sequences(connection, tables)
    return plan.figures() | {"hazard_transitions": len(rows[2])}


def _insert_sqlite(
    connection: Connection, table: Table, rows: list[dict[str, Any]], size: int
) -> None:
    """Plain ``executemany`` of tuples (timestamps already in SQLite's stored text); a column
    the rows do not give (the import key ``code``) is NULL."""
    columns = [c.name for c in table.columns]
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    for start in range(0, len(rows), size):
        connection.exec_driver_sql(
            statement, [tuple(r.get(c) for c in columns) for r in rows[start : start + size]]
        )
