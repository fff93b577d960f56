"""planning jobs: a runner's lease (any API process may run a job, each job runs once), the
submitter kept for the runner, and the stage a station plan is at

Revision ID: 0031_planspeed_job_runner
Revises: 0029_planning_runs
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0031_planspeed_job_runner"
down_revision: str | None = "0029_planning_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("planning_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("runner", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("lease_until", firegrid.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("actor", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("stage", sa.String(length=32), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("planning_jobs", schema=None) as batch_op:
        batch_op.drop_column("stage")
        batch_op.drop_column("actor")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("runner")
