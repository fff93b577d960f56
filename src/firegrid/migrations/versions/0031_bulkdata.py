"""bulk data: population counts, external keys of buildings, inspections and hazards, and
the geocoder's (road, number, building, unit, room) index on the standard-address register

Revision ID: 0031_bulkdata
Revises: 0007_inspections
Create Date: 2026-12-02 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import firegrid.core.db

revision: str = "0031_bulkdata"
down_revision: str | None = "0007_inspections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "population_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_path", sa.String(length=120), nullable=False),
        sa.Column("address_code", sa.String(length=40), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("registered_residents", sa.Integer(), nullable=False),
        sa.Column("floating_residents", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("created_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", firegrid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_population_counts_building_id_buildings"),
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_population_counts_jurisdiction_id_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_population_counts")),
        sa.UniqueConstraint("code", name=op.f("uq_population_counts_code")),
    )
    for column in ("address_code", "building_id", "jurisdiction_id", "jurisdiction_path"):
        op.create_index(
            op.f(f"ix_population_counts_{column}"), "population_counts", [column], unique=False
        )
    for table in ("buildings", "inspections", "hazards"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("code", sa.String(length=40), nullable=True))
        op.create_index(f"ix_{table}_code", table, ["code"], unique=True)
    op.create_index(
        "ix_standard_addresses_lookup",
        "standard_addresses",
        ["road", "number", "building", "unit", "room"],
    )
    # the road alone is the new index's prefix: one index less to write on a 6.21 M import
    op.drop_index("ix_standard_addresses_road", table_name="standard_addresses")


def downgrade() -> None:
    op.create_index("ix_standard_addresses_road", "standard_addresses", ["road"])
    op.drop_index("ix_standard_addresses_lookup", table_name="standard_addresses")
    for table in ("hazards", "inspections", "buildings"):
        op.drop_index(f"ix_{table}_code", table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("code")
    op.drop_table("population_counts")
