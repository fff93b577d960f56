"""links: one lease per link, so exactly one worker relays and delivers

Revision ID: 0030_link_lease
Revises: 0021_interop
Create Date: 2026-12-02 04:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db


revision: str = "0030_link_lease"
down_revision: str | None = "0021_interop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "link_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("expires_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acquired_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_link_leases")),
    )


def downgrade() -> None:
    op.drop_table("link_leases")
