"""retention runs; devices' install date (commissioning)

- ``retention_runs``: one row per record kind per run of the retention job (what it
  archived and purged, its manifest).
- ``devices.installed_at``: a device never heard from counts offline only once it is
  commissioned — by its first report, or its install date plus a grace period.

Revision ID: 0013_retention
Revises: 0001_city_model
Create Date: 2026-12-01 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0013_retention"
down_revision: str | None = "0001_city_model"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("started_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cutoff", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("manifest", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    with op.batch_alter_table("retention_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_runs_kind"), ["kind"], unique=False)
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("installed_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("installed_at")
    with op.batch_alter_table("retention_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_runs_kind"))
    op.drop_table("retention_runs")
