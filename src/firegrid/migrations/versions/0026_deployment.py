"""the deployment id (binds the JetStream event log to its database)

Revision ID: 0026_deployment
Revises: 0001_city_model
Create Date: 2026-12-02 03:10:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0026_deployment"
down_revision: str | None = "0001_city_model"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(
        table,
        [{"id": 1, "deployment_id": str(uuid.uuid4()), "created_at": datetime.now(UTC)}],
    )


def downgrade() -> None:
    op.drop_table("deployment")
