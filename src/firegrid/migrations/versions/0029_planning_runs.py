"""planning: background jobs (simulations, hydrant and logistics plans) with status

Revision ID: 0029_planning_runs
Revises: 0020_planning
Create Date: 2026-12-02 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0029_planning_runs"
down_revision: str | None = "0020_planning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "planning_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("retriable", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_path", sa.String(length=120), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_jobs")),
    )
    with op.batch_alter_table("planning_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_planning_jobs_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_planning_jobs_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_planning_jobs_jurisdiction_path"), ["jurisdiction_path"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_planning_jobs_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("planning_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_planning_jobs_created_at"))
        batch_op.drop_index(batch_op.f("ix_planning_jobs_jurisdiction_path"))
        batch_op.drop_index(batch_op.f("ix_planning_jobs_status"))
        batch_op.drop_index(batch_op.f("ix_planning_jobs_kind"))
    op.drop_table("planning_jobs")
