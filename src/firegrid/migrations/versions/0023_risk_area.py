"""risk: area grades per run and the regular assessment schedules

Revision ID: 0023_risk_area
Revises: 0006_risk
Create Date: 2026-12-02 02:57:21.905263
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db


revision: str = "0023_risk_area"
down_revision: str | None = "0006_risk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_schedules",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_run_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_cause", sa.String(length=200), nullable=False),
        sa.Column("import_audit_seen", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=80), nullable=False),
        sa.Column("claimed_until", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_risk_schedules")),
    )
    with op.batch_alter_table("risk_schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_schedules_next_run_at"), ["next_run_at"], unique=False
        )

    op.create_table(
        "risk_area_grades",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("jurisdiction_path", sa.String(length=120), nullable=False),
        sa.Column("n_venues", sa.Integer(), nullable=False),
        sa.Column("area_score", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("score_weighted", sa.Float(), nullable=True),
        sa.Column("venue_grades", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("risks", sa.JSON(), nullable=False),
        sa.Column("drivers", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["risk_runs.id"],
            name=op.f("fk_risk_area_grades_run_id_risk_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "level", "code", name=op.f("pk_risk_area_grades")),
    )
    with op.batch_alter_table("risk_area_grades", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_area_grades_jurisdiction_path"), ["jurisdiction_path"], unique=False
        )
        batch_op.create_index("ix_risk_area_grades_level_code", ["level", "code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_area_grades", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_area_grades_level_code")
        batch_op.drop_index(batch_op.f("ix_risk_area_grades_jurisdiction_path"))

    op.drop_table("risk_area_grades")
    with op.batch_alter_table("risk_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_schedules_next_run_at"))

    op.drop_table("risk_schedules")
