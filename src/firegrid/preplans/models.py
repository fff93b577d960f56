"""Tables of the preplans context.

Storage decision: a plan is a *versioned document*. ``preplans`` holds one row per venue
with the indexed fields every list needs (scope path, the version in force, the review due
date); ``preplan_versions`` keeps every version ever saved, each with the whole
:class:`~firegrid.preplans.document.PlanDocument` as JSON plus its life-cycle stamps.
Versions are never updated in content, only in status (draft → reviewed → published, and
superseded once a later one is published or drafted); the audit log records who moved them.
Attachments are files under the data directory, described by ``preplan_attachments``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class VersionStatus(StrEnum):
    DRAFT = "draft"  # 草稿 (a venue manager's proposal is a draft too)
    REVIEWED = "reviewed"  # 已审核
    PUBLISHED = "published"  # 已发布: the version crews see
    SUPERSEDED = "superseded"  # replaced by a later draft or publication


class Preplan(Base):
    """The plan of one venue: the indexed fields of its versions."""

    __tablename__ = "preplans"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), unique=True)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    latest_version: Mapped[int] = mapped_column(default=0)
    published_version: Mapped[int | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    #: when the published version must be reviewed again (by the venue's risk grade)
    review_due_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    risk_grade: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PreplanVersion(Base):
    """One saved version of a plan, with its whole document."""

    __tablename__ = "preplan_versions"
    __table_args__ = (
        UniqueConstraint("preplan_id", "version"),
        Index("ix_preplan_versions_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    preplan_id: Mapped[int] = mapped_column(ForeignKey("preplans.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_role: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[str] = mapped_column(String(120), default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    published_by: Mapped[str] = mapped_column(String(120), default="")
    published_at: Mapped[datetime | None] = mapped_column(default=None)


class PreplanAttachment(Base):
    """A floor plan image or a PDF, stored under the data directory."""

    __tablename__ = "preplan_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    preplan_id: Mapped[int] = mapped_column(ForeignKey("preplans.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(300))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
