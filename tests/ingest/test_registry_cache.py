"""The ingest process's registry cache: full loads, incremental refreshes, chunked state."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.devices.models import Device
from firegrid.devices.state import state_row_chunks
from firegrid.ingest.service import RegistryCache
from firegrid.ingest.simulate import register_devices


def test_refresh_applies_new_changed_and_deleted_devices(db: Database) -> None:
    first, second, third = register_devices(db, "gb26875", 3)
    with db.session() as session:  # registered long ago
        session.execute(update(Device).values(updated_at=utcnow() - timedelta(hours=2)))
    cache = RegistryCache(db)
    assert cache.load() == 3
    with db.session() as session:
        moved = session.get(Device, second.id)
        assert moved is not None
        moved.external_id = "777001"  # re-addressed transmitter
        gone = session.get(Device, third.id)
        assert gone is not None
        gone.deleted_at = utcnow()
    (fourth,) = register_devices(db, "mqtt", 1)
    reread = cache.refresh()
    assert reread == 3  # only the changed rows, not the whole registry
    assert cache.get("gb26875", first.external_id) is not None
    assert cache.get("gb26875", second.external_id) is None
    ref = cache.get("gb26875", "777001")
    assert ref is not None
    assert ref.device_id == second.id
    assert cache.get("gb26875", third.external_id) is None
    assert cache.get("mqtt", fourth.external_id) is not None
    assert len(cache) == 3


def test_refresh_overlaps_for_late_commits_and_reloads_fully_when_due(db: Database) -> None:
    (device,) = register_devices(db, "gb26875", 1)
    cache = RegistryCache(db, full_reload_s=3600)
    cache.load()
    # A change stamped before the last check (its transaction committed late) is still seen.
    stamped = utcnow() - timedelta(seconds=30)
    with db.session() as session:
        session.execute(
            update(Device)
            .where(Device.id == device.id)
            .values(external_id="424299", updated_at=stamped)
        )
    assert cache.refresh() == 1
    assert cache.get("gb26875", "424299") is not None
    # Beyond the overlap only a full reload finds it; it is due after ``full_reload_s``.
    with db.session() as session:
        session.execute(
            update(Device)
            .where(Device.id == device.id)
            .values(external_id="424300", updated_at=stamped - timedelta(hours=1))
        )
    cache.refresh()
    assert cache.get("gb26875", "424300") is None
    cache.full_reload = timedelta(0)
    assert cache.refresh() == 1
    assert cache.get("gb26875", "424300") is not None
    assert cache.get("gb26875", "424299") is None


def test_state_rows_are_flushed_in_chunks_by_weight() -> None:
    def row(device_id: int, entries: int) -> dict[str, object]:
        return {
            "device_id": device_id,
            "alarms": {str(i): {} for i in range(entries)},
            "faults": {},
        }

    rows = [row(1, 10), row(2, 10), row(3, 100), row(4, 0), row(5, 0)]
    chunks = list(state_row_chunks(rows, max_entries=25))  # type: ignore[arg-type]
    assert [[r["device_id"] for r in c] for c in chunks] == [[1, 2], [3], [4, 5]]
    assert list(state_row_chunks([])) == []
