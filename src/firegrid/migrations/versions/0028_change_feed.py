"""core: the jurisdiction path of each change (domain_changes.scope_path), for the change feed

Revision ID: 0028_change_feed
Revises: 0025_change_stream
Create Date: 2026-12-02 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_change_feed"
down_revision: str | None = "0025_change_stream"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("domain_changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope_path", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.create_index(
            batch_op.f("ix_domain_changes_scope_path"), ["scope_path"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("domain_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_domain_changes_scope_path"))
        batch_op.drop_column("scope_path")
