"""planning: stored plans (parameters, result, what-if simulation, who and when)

Revision ID: 0020_planning
Revises: 0017_live_channel
Create Date: 2026-12-02 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0020_planning"
down_revision: str | None = "0017_live_channel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "planning_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("simulation", sa.JSON(), nullable=True),
        sa.Column("jurisdiction_path", sa.String(length=120), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("simulated_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("simulated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_plans")),
    )
    with op.batch_alter_table("planning_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_planning_plans_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_planning_plans_jurisdiction_path"), ["jurisdiction_path"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_planning_plans_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("planning_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_planning_plans_created_at"))
        batch_op.drop_index(batch_op.f("ix_planning_plans_jurisdiction_path"))
        batch_op.drop_index(batch_op.f("ix_planning_plans_kind"))
    op.drop_table("planning_plans")
