"""Migration 0033: rows made before every building, inspection and hazard got a generated
code (the API's, the phones', the demo's) are given ``fg-<kind>-<id>``, imported codes are
kept, and the downgrade takes back exactly the generated ones."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from firegrid.core.migrate import alembic_config, upgrade


def test_codes_are_backfilled_and_imported_codes_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0031_bulkdata")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # only these tables matter here
        for row_id, code in ((1, None), (2, "B-IMPORTED")):
            connection.execute(
                sa.text(
                    "INSERT INTO buildings (id, code, venue_id, name, floors_above, floors_below,"
                    " height_m, structure, lon, lat, created_at, updated_at)"
                    " VALUES (:id, :code, 1, 'x', 1, 0, 0, '', 113.0, 23.0,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"id": row_id, "code": code},
            )
    upgrade(url)
    with engine.connect() as connection:
        codes = dict(connection.execute(sa.text("SELECT id, code FROM buildings")).all())
    assert codes == {1: "fg-building-1", 2: "B-IMPORTED"}
    command.downgrade(alembic_config(url), "0033_bulk_codes_everywhere-1")
    with engine.connect() as connection:
        codes = dict(connection.execute(sa.text("SELECT id, code FROM buildings")).all())
    assert codes == {1: None, 2: "B-IMPORTED"}
    engine.dispose()
