"""live: append-only change entries of dispatch for the per-seat live channel

Revision ID: 0017_live_channel
Revises: 0005_dispatch
Create Date: 2026-12-02 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0017_live_channel"
down_revision: str | None = "0005_dispatch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction_path", sa.String(length=120), nullable=False),
        sa.Column("paths", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_entries")),
    )
    with op.batch_alter_table("live_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_entries_jurisdiction_path"), ["jurisdiction_path"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("live_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_entries_jurisdiction_path"))
    op.drop_table("live_entries")
