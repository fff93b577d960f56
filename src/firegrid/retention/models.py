"""The ``retention_runs`` table: one row per kind per run of the retention job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class RetentionRun(Base):
    """What one run of the retention job did for one record kind."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    cutoff: Mapped[datetime]
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="running")
    manifest: Mapped[str] = mapped_column(String(500), default="")
    actor: Mapped[str] = mapped_column(String(120), default="")
    error: Mapped[str] = mapped_column(String(300), default="")
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
