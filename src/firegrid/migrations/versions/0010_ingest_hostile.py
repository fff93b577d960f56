"""ingest: durable, atomic replay check for signed HTTP pushes

A table of the signatures received: a primary-key insert decides which of several
concurrent identical requests is accepted, in one ingest process or many (the in-process
set it replaces let six of ten concurrent replays through).

Revision ID: 0010_ingest_hostile
Revises: 0009_device_state_lz4
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0010_ingest_hostile"
down_revision: str | None = "0009_device_state_lz4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_push_signatures",
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("signed_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_ingest_push_signatures")),
    )
    with op.batch_alter_table("ingest_push_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_push_signatures_signed_at"), ["signed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ingest_push_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_push_signatures_signed_at"))
    op.drop_table("ingest_push_signatures")
