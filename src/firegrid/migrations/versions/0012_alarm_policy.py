"""alarms: versioned monitoring-centre policy documents (alarm_policy_versions)

Revision ID: 0012_alarm_policy
Revises: 0004_alarms
Create Date: 2026-12-01 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0012_alarm_policy"
down_revision: str | None = "0004_alarms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alarm_policy_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_alarm_policy_versions")),
    )


def downgrade() -> None:
    op.drop_table("alarm_policy_versions")
