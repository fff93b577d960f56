"""installations: programmes of smoke alarms and simple sprinklers, and the installations

Revision ID: 0032_gridphone_installations
Revises: 0031_gridphone
Create Date: 2026-12-02 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0032_gridphone_installations"
down_revision: str | None = "0031_gridphone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "installation_programmes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope_path", sa.String(length=120), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("target_count", sa.Integer(), nullable=False),
        sa.Column("created_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation_programmes")),
        sa.UniqueConstraint("code", name=op.f("uq_installation_programmes_code")),
    )
    op.create_index(
        op.f("ix_installation_programmes_scope_path"),
        "installation_programmes",
        ["scope_path"],
    )
    op.create_table(
        "installations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("device_type", sa.String(length=24), nullable=False),
        sa.Column("unit_kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("household", sa.String(length=120), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("installed_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("installer", sa.String(length=120), nullable=False),
        sa.Column("jurisdiction_path", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["installation_programmes.id"],
            name=op.f("fk_installations_programme_id_installation_programmes"),
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_installations_venue_id_venues")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_installations_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installations")),
        sa.UniqueConstraint("device_id", name=op.f("uq_installations_device_id")),
    )
    op.create_index(op.f("ix_installations_programme_id"), "installations", ["programme_id"])
    op.create_index(op.f("ix_installations_venue_id"), "installations", ["venue_id"])
    op.create_index(op.f("ix_installations_installed_at"), "installations", ["installed_at"])
    op.create_index(
        "ix_installations_path_at", "installations", ["jurisdiction_path", "installed_at"]
    )


def downgrade() -> None:
    op.drop_table("installations")
    op.drop_table("installation_programmes")
