"""Tables of the inspections context, and the hazard categories declared as data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.db import Base
from firegrid.core.models import Timestamped, generated_code

# An autoincrementing 64-bit key on PostgreSQL that is still INTEGER PRIMARY KEY on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class InspectionResult(StrEnum):
    PASSED = "passed"  # 合格: no hazard found
    HAZARDS_FOUND = "hazards_found"  # 发现隐患
    NOT_ACCESSIBLE = "not_accessible"  # 未能入场 (closed, refused)


class Severity(StrEnum):
    MAJOR = "major"  # 重大隐患
    GENERAL = "general"  # 一般隐患


class HazardStatus(StrEnum):
    """Stored states. ``overdue`` is derived: open and past the deadline."""

    OPEN = "open"
    RECTIFIED = "rectified"


OVERDUE = "overdue"  # the derived state shown by the API


@dataclass(frozen=True)
class HazardCategory:
    """One kind of hazard: names, rectification deadline per severity, demo weights.

    ``deadline_days`` is the usual 整改期限 by severity; ``major_share`` and ``weight`` drive
    the demo data (how often the category is found, and found as major, per venue class).
    """

    code: str
    name_zh: str
    name_en: str
    deadline_days: dict[str, int]
    major_share: float
    weight: dict[str, float]  # venue class -> relative frequency in the demo


_W = dict[str, float]


def _weights(three_small: float, rental: float, general: float, key: float) -> _W:
    return {
        "three_small": three_small,
        "rental_housing": rental,
        "general": general,
        "key_unit": key,
        "high_risk": key,
    }


HAZARD_CATEGORIES: tuple[HazardCategory, ...] = (
    HazardCategory(
        "blocked_exit",
        "疏散通道堵塞、安全出口锁闭",
        "Blocked escape route or locked exit",
        {"major": 3, "general": 7},
        0.35,
        _weights(1.2, 0.8, 1.0, 1.2),
    ),
    HazardCategory(
        "electrical_wiring",
        "电气线路私拉乱接",
        "Unsafe electrical wiring",
        {"major": 15, "general": 30},
        0.2,
        _weights(1.6, 1.4, 1.2, 0.8),
    ),
    HazardCategory(
        "combustible_storage",
        "可燃物违规堆放",
        "Combustibles stored unsafely",
        {"major": 7, "general": 15},
        0.2,
        _weights(1.3, 0.6, 1.4, 0.9),
    ),
    HazardCategory(
        "missing_extinguisher",
        "灭火器缺失或失效",
        "Missing or expired extinguishers",
        {"major": 7, "general": 15},
        0.1,
        _weights(1.5, 1.0, 1.0, 0.5),
    ),
    HazardCategory(
        "ebike_indoor_charging",
        "电动自行车室内停放充电",
        "E-bikes parked or charged indoors",
        {"major": 3, "general": 7},
        0.4,
        _weights(0.8, 2.2, 0.5, 0.2),
    ),
    HazardCategory(
        "three_in_one",
        "违规住人（“三合一”）",
        "People sleeping in a shop or workshop (three-in-one)",
        {"major": 7, "general": 15},
        0.6,
        _weights(1.4, 0.3, 0.4, 0.1),
    ),
    HazardCategory(
        "fire_system_fault",
        "消防设施故障或停用",
        "Fire-protection system faulty or disabled",
        {"major": 30, "general": 60},
        0.3,
        _weights(0.2, 0.1, 0.6, 1.6),
    ),
    HazardCategory(
        "emergency_lighting",
        "应急照明、疏散指示缺损",
        "Emergency lighting or exit signs missing",
        {"major": 15, "general": 30},
        0.1,
        _weights(0.6, 0.5, 0.8, 1.0),
    ),
    HazardCategory(
        "gas_misuse",
        "燃气使用不规范",
        "Unsafe use of gas",
        {"major": 7, "general": 15},
        0.3,
        _weights(0.9, 0.6, 0.5, 0.4),
    ),
)

CATEGORY_BY_CODE: dict[str, HazardCategory] = {c.code: c for c in HAZARD_CATEGORIES}


class Inspection(Timestamped, Base):
    """检查: one visit of an inspector to a venue."""

    __tablename__ = "inspections"
    __table_args__ = (
        Index("ix_inspections_venue_at", "venue_id", "inspected_at"),
        Index("ix_inspections_code", "code", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # external key: an import's own, else generated (the bulk exports key rows by it)
    code: Mapped[str | None] = mapped_column(String(40), default=generated_code("fg-inspection-"))
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"))  # ix_inspections_venue_at
    grid_worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("grid_workers.id"), index=True, default=None
    )
    inspector_subject: Mapped[str] = mapped_column(String(80), default="")
    inspector_name: Mapped[str] = mapped_column(String(120), default="")
    inspected_at: Mapped[datetime] = mapped_column(index=True)
    result: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(2000), default="")
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    # evidence from the grid worker's phone: the checklist answered, a photo, the position
    checklist: Mapped[str] = mapped_column(String(40), default="")
    checklist_answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    evidence_photo: Mapped[str] = mapped_column(String(300), default="")
    gps_status: Mapped[str] = mapped_column(String(16), default="")  # "", recorded, denied…
    gps_lon: Mapped[float | None] = mapped_column(default=None)
    gps_lat: Mapped[float | None] = mapped_column(default=None)
    gps_accuracy_m: Mapped[float | None] = mapped_column(default=None)
    gps_at: Mapped[datetime | None] = mapped_column(default=None)


class GpsStatus(StrEnum):
    """What became of the phone's position when the inspection was recorded."""

    NONE = ""  # not asked (a desk entry, an import)
    RECORDED = "recorded"
    DENIED = "denied"  # the worker refused the browser's permission
    UNAVAILABLE = "unavailable"  # no fix (indoors, timeout, no GPS)


class ChecklistAnswer(StrEnum):
    OK = "ok"
    FAIL = "fail"
    NOT_APPLICABLE = "na"


class SubmissionKey(Base):
    """An ``Idempotency-Key`` a client sent with a creation, and what it created.

    A phone that lost its answer (offline, timeout) sends the same submission again with
    the same key; the server answers with the first result instead of creating a second.
    Unique per caller (``subject``); ``request_sha256`` tells a repeat from a key reused
    for a different request (409).
    """

    __tablename__ = "inspection_submission_keys"
    __table_args__ = (UniqueConstraint("subject", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(24))  # inspection, inspection_photo, rectify
    request_sha256: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class Hazard(Timestamped, Base):
    """隐患: found at an inspection, open until rectified (整改) with evidence."""

    __tablename__ = "hazards"
    __table_args__ = (
        Index("ix_hazards_status_deadline", "status", "deadline"),
        Index("ix_hazards_venue_status", "venue_id", "status"),
        Index("ix_hazards_code", "code", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # external key: an import's own, else generated (the bulk exports key rows by it)
    code: Mapped[str | None] = mapped_column(String(40), default=generated_code("fg-hazard-"))
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"))
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(500), default="")
    found_at: Mapped[datetime]
    deadline: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=HazardStatus.OPEN.value)
    rectified_at: Mapped[datetime | None] = mapped_column(default=None)
    rectified_by: Mapped[str] = mapped_column(String(120), default="")
    evidence_note: Mapped[str] = mapped_column(String(2000), default="")
    evidence_photo: Mapped[str] = mapped_column(String(300), default="")
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)


class HazardTransition(Base):
    """A status change of a hazard: from, to, when, who and why (append-only)."""

    __tablename__ = "hazard_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))  # "" when the hazard is recorded
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    cause: Mapped[str] = mapped_column(String(300))
