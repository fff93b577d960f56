"""alarms: versioned monitoring-centre policy documents (alarm_policy_versions); the shipped
response plans of the new incident type hazmat_fire for a database seeded before it existed

Revision ID: 0012_alarm_policy
Revises: 0004_alarms
Create Date: 2026-12-01 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db
from firegrid.core.clock import utcnow

revision: str = "0012_alarm_policy"
down_revision: str | None = "0004_alarms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alarm_policy_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_alarm_policy_versions")),
    )
    _add_hazmat_fire_plans()


def _add_hazmat_fire_plans() -> None:
    """The policy forwards a chemical plant's fire as ``hazmat_fire``, which must have
    response plans. A fresh database seeds them with the others on first use; one whose
    plans were seeded before the type existed gets the shipped ones here, once (so plans an
    administrator deletes later stay deleted)."""
    from firegrid.dispatch.plans import yaml_plans

    bind = op.get_bind()
    if not sa.inspect(bind).has_table("response_plans"):
        return  # the dispatch tables come later: seeded whole on first use
    plans = sa.table(
        "response_plans",
        sa.column("incident_type", sa.String),
        sa.column("venue_category", sa.String),
        sa.column("level", sa.Integer),
        sa.column("requirements", sa.JSON),
        sa.column("note", sa.String),
        sa.column("updated_at", firegrid.core.db.UTCDateTime(timezone=True)),
        sa.column("updated_by", sa.String),
    )
    if not bind.execute(sa.select(sa.func.count()).select_from(plans)).scalar():
        return  # empty: seeded whole (hazmat_fire included) on first use
    present = bind.execute(
        sa.select(sa.func.count()).select_from(plans).where(plans.c.incident_type == "hazmat_fire")
    ).scalar()
    if present:
        return
    rows = [
        {**row, "updated_at": utcnow(), "updated_by": "seed"}
        for row in yaml_plans()
        if row["incident_type"] == "hazmat_fire"
    ]
    op.bulk_insert(plans, rows)


def downgrade() -> None:
    op.drop_table("alarm_policy_versions")
