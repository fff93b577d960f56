"""inspections: phone evidence (checklist answers, photo, GPS) and idempotency keys

Revision ID: 0031_gridphone
Revises: 0007_inspections
Create Date: 2026-12-02 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0031_gridphone"
down_revision: str | None = "0007_inspections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("inspections") as batch:
        batch.add_column(
            sa.Column("checklist", sa.String(length=40), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("checklist_answers", sa.JSON(), nullable=False, server_default="{}")
        )
        batch.add_column(
            sa.Column("evidence_photo", sa.String(length=300), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("gps_status", sa.String(length=16), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("gps_lon", sa.Double(), nullable=True))
        batch.add_column(sa.Column("gps_lat", sa.Double(), nullable=True))
        batch.add_column(sa.Column("gps_accuracy_m", sa.Double(), nullable=True))
        batch.add_column(
            sa.Column("gps_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "inspection_submission_keys",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("created_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_submission_keys")),
        sa.UniqueConstraint("subject", "key", name=op.f("uq_inspection_submission_keys_subject")),
    )


def downgrade() -> None:
    op.drop_table("inspection_submission_keys")
    with op.batch_alter_table("inspections") as batch:
        for column in (
            "gps_at",
            "gps_accuracy_m",
            "gps_lat",
            "gps_lon",
            "gps_status",
            "evidence_photo",
            "checklist_answers",
            "checklist",
        ):
            batch.drop_column(column)
