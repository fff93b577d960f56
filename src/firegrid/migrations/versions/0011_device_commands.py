"""ingest: downstream commands to transmitters and their schedules

Revision ID: 0011_device_commands
Revises: 0010_ingest_hostile
Create Date: 2026-12-01 23:19:20.126637
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db


revision: str = "0011_device_commands"
down_revision: str | None = "0010_ingest_hostile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "device_command_schedules",
        sa.Column("device_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period_s", sa.Integer(), nullable=False),
        sa.Column("next_due_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_fired_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_command_schedules_device_id_devices"),
        ),
        sa.PrimaryKeyConstraint("device_id", "kind", name=op.f("pk_device_command_schedules")),
    )
    with op.batch_alter_table("device_command_schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_command_schedules_next_due_at"), ["next_due_at"], unique=False
        )

    op.create_table(
        "device_commands",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=True),
        sa.Column("jurisdiction_path", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("cause", sa.String(length=80), nullable=False),
        sa.Column("round_id", sa.String(length=40), nullable=True),
        sa.Column("requested_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_by", sa.String(length=40), nullable=True),
        sa.Column("serial", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_commands_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_commands")),
    )
    with op.batch_alter_table("device_commands", schema=None) as batch_op:
        batch_op.create_index(
            "ix_device_commands_device_requested", ["device_id", "requested_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_device_commands_jurisdiction_path"), ["jurisdiction_path"], unique=False
        )
        batch_op.create_index("ix_device_commands_round", ["round_id"], unique=False)
        batch_op.create_index("ix_device_commands_status", ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_device_commands_venue_id"), ["venue_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("device_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_commands_venue_id"))
        batch_op.drop_index("ix_device_commands_status")
        batch_op.drop_index("ix_device_commands_round")
        batch_op.drop_index(batch_op.f("ix_device_commands_jurisdiction_path"))
        batch_op.drop_index("ix_device_commands_device_requested")

    op.drop_table("device_commands")
    with op.batch_alter_table("device_command_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_command_schedules_next_due_at"))

    op.drop_table("device_command_schedules")
