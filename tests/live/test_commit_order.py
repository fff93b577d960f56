"""On PostgreSQL, live entries become visible in id order: a reader that has seen id N
never misses a smaller id committed later (the writers take a transaction lock)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.dispatch.incidents import set_vehicle_status
from firegrid.dispatch.models import Vehicle
from firegrid.live import writer
from firegrid.live.models import LiveEntry
from tests.accounts.city import City
from tests.conftest import test_backend as backend

pytestmark = pytest.mark.postgres


def test_a_later_entry_never_shows_before_an_earlier_uncommitted_one(
    db: Database, city: City
) -> None:
    if backend() != "postgres":
        pytest.skip("SQLite serialises writers itself")
    first = db.sessions()
    vehicle = first.get(Vehicle, city.id("vehicle", "in"))
    assert vehicle is not None
    set_vehicle_status(first, "test", vehicle, "out_of_service", cause="first")
    assert writer.write_pending(first) == 1  # id allocated, not committed
    first_id = first.scalar(select(LiveEntry.id))

    done = threading.Event()

    def second_writer() -> None:
        with db.session() as session:
            other = session.get(Vehicle, city.id("vehicle", "out"))
            assert other is not None
            set_vehicle_status(session, "test", other, "out_of_service", cause="second")
        done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    # The second writer waits for the first: until the first commits, a reader sees no
    # entry at all (without the lock it would see the second's larger id, and a stream
    # would move its cursor past the first's for good).
    deadline = time.monotonic() + 1.5
    while True:
        with db.sessions() as reader:
            seen = list(reader.scalars(select(LiveEntry.id)).all())
        assert seen == [], f"a reader saw {seen} while entry {first_id} was uncommitted"
        if time.monotonic() > deadline or done.is_set():
            break
        time.sleep(0.05)
    assert not done.is_set(), "the second writer committed before the first"
    first.commit()
    first.close()
    thread.join(15)
    assert done.is_set()
    with db.sessions() as reader:
        ids = list(reader.scalars(select(LiveEntry.id).order_by(LiveEntry.id)).all())
    assert ids[0] == first_id
    assert len(ids) == 2
