"""ingest: quarantined messages of an adopted device are replayed into the event log

Revision ID: 0008_quarantine_replay
Revises: 0003_ingest
Create Date: 2026-11-25 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0008_quarantine_replay"
down_revision: str | None = "0003_ingest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine_devices") as batch:
        batch.add_column(sa.Column("replayed_through_id", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("replayed_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("replayed_events", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("quarantine_devices") as batch:
        batch.drop_column("replayed_events")
        batch.drop_column("replayed_at")
        batch.drop_column("replayed_through_id")
