"""core: the change stream (domain_changes) and its consumers' cursors

Revision ID: 0025_change_stream
Revises: 0001_city_model
Create Date: 2026-12-02 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0025_change_stream"
down_revision: str | None = "0001_city_model"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "domain_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("cause", sa.String(length=500), nullable=False),
        sa.Column("occurred_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_changes")),
    )
    with op.batch_alter_table("domain_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_domain_changes_kind"), ["kind"], unique=False)
    op.create_table(
        "domain_change_cursors",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_domain_change_cursors")),
    )


def downgrade() -> None:
    op.drop_table("domain_change_cursors")
    with op.batch_alter_table("domain_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_domain_changes_kind"))
    op.drop_table("domain_changes")
