"""geo: road names from the OSM import, for the map's labels

Revision ID: 0031_consolemap_road_labels
Revises: 0030_link_lease
Create Date: 2026-12-02 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_consolemap_road_labels"
down_revision: str | None = "0030_link_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "road_labels",
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("label_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("road_class", sa.SmallInteger(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["road_networks.id"],
            name=op.f("fk_road_labels_network_id_road_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("network_id", "label_index", name=op.f("pk_road_labels")),
    )
    op.create_index(op.f("ix_road_labels_lon"), "road_labels", ["lon"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_road_labels_lon"), table_name="road_labels")
    op.drop_table("road_labels")
