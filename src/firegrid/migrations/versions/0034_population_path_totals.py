"""population register: a covering index for the area assessment's grouped read (sum of
residents, rows and latest ``as_of`` per jurisdiction path, live rows only)

Revision ID: 0034_population_path_totals
Revises: 0033_bulk_codes_everywhere
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034_population_path_totals"
down_revision: str | None = "0033_bulk_codes_everywhere"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_population_counts_path_totals",
        "population_counts",
        ["jurisdiction_path", "deleted_at", "residents", "as_of"],
    )


def downgrade() -> None:
    op.drop_index("ix_population_counts_path_totals", table_name="population_counts")
