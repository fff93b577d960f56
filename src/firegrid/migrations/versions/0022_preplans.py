"""preplans: versioned pre-incident plans and their attachments

Revision ID: 0022_preplans
Revises: 0017_live_channel
Create Date: 2026-12-02 02:47:20.472121
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db


revision: str = "0022_preplans"
down_revision: str | None = "0017_live_channel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "preplans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_path", sa.String(length=120), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("published_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_due_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("risk_grade", sa.String(length=16), nullable=False),
        sa.Column("created_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_preplans_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preplans")),
        sa.UniqueConstraint("venue_id", name=op.f("uq_preplans_venue_id")),
    )
    with op.batch_alter_table("preplans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_preplans_jurisdiction_path"), ["jurisdiction_path"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_preplans_review_due_at"), ["review_due_at"], unique=False
        )

    op.create_table(
        "preplan_attachments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("preplan_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_path", sa.String(length=300), nullable=False),
        sa.Column("uploaded_by", sa.String(length=120), nullable=False),
        sa.Column("uploaded_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["preplan_id"], ["preplans.id"], name=op.f("fk_preplan_attachments_preplan_id_preplans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preplan_attachments")),
    )
    with op.batch_alter_table("preplan_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_preplan_attachments_preplan_id"), ["preplan_id"], unique=False
        )

    op.create_table(
        "preplan_versions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("preplan_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_role", sa.String(length=40), nullable=False),
        sa.Column("created_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=120), nullable=False),
        sa.Column("reviewed_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=120), nullable=False),
        sa.Column("published_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["preplan_id"], ["preplans.id"], name=op.f("fk_preplan_versions_preplan_id_preplans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preplan_versions")),
        sa.UniqueConstraint("preplan_id", "version", name=op.f("uq_preplan_versions_preplan_id")),
    )
    with op.batch_alter_table("preplan_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_preplan_versions_preplan_id"), ["preplan_id"], unique=False
        )
        batch_op.create_index("ix_preplan_versions_status", ["status"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("preplan_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_preplan_versions_status")
        batch_op.drop_index(batch_op.f("ix_preplan_versions_preplan_id"))

    op.drop_table("preplan_versions")
    with op.batch_alter_table("preplan_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_preplan_attachments_preplan_id"))

    op.drop_table("preplan_attachments")
    with op.batch_alter_table("preplans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_preplans_review_due_at"))
        batch_op.drop_index(batch_op.f("ix_preplans_jurisdiction_path"))

    op.drop_table("preplans")
