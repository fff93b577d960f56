"""every building, inspection and hazard has an external code: backfill the rows made by
the API, the phones or the demo (code NULL) with ``fg-<kind>-<id>`` so the bulk exports,
which key rows by code, include them

Revision ID: 0033_bulk_codes_everywhere
Revises: 0031_bulkdata
Create Date: 2026-12-02 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_bulk_codes_everywhere"
down_revision: str | None = "0031_bulkdata"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIXES = {"buildings": "fg-building-", "inspections": "fg-inspection-", "hazards": "fg-hazard-"}


def upgrade() -> None:
    for table, prefix in PREFIXES.items():
        rows = sa.table(table, sa.column("id", sa.Integer), sa.column("code", sa.String))
        op.execute(
            rows.update()
            .where(rows.c.code.is_(None))
            .values(code=sa.literal(prefix) + sa.cast(rows.c.id, sa.String))
        )


def downgrade() -> None:
    for table, prefix in PREFIXES.items():
        rows = sa.table(table, sa.column("id", sa.Integer), sa.column("code", sa.String))
        op.execute(
            rows.update()
            .where(rows.c.code == sa.literal(prefix) + sa.cast(rows.c.id, sa.String))
            .values(code=None)
        )
