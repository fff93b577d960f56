"""device events: drop the two indexes no query reads (jurisdiction path; venue + time)

Every stored device event maintained them; on SQLite's database log they were about a
quarter of the insert's CPU (bench/RESULTS.md, issue 25). Reads go by offset (``id``), by
``event_id`` (deduplication), by device and time, and by kind: those indexes stay.

Revision ID: 0035_device_event_indexes
Revises: 0011_device_commands
Create Date: 2026-12-03 07:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0035_device_event_indexes"
down_revision: str | None = "0011_device_commands"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_device_events_jurisdiction_path", table_name="device_events")
    op.drop_index("ix_device_events_venue_occurred", table_name="device_events")


def downgrade() -> None:
    op.create_index("ix_device_events_venue_occurred", "device_events", ["venue_id", "occurred_at"])
    op.create_index("ix_device_events_jurisdiction_path", "device_events", ["jurisdiction_path"])
