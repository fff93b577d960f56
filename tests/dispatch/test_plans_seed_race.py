"""Two processes seeding the response plans of a fresh database at once (the alarm
services and ingest start together): the one that loses the race sees the other's rows,
and its transaction carries on (PostgreSQL: the second insert waits on the unique index,
then conflicts)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.dispatch.incident_models import ResponsePlan
from firegrid.dispatch.plans import ensure_plans, yaml_plans


def test_the_loser_of_a_seeding_race_keeps_its_transaction(db: Database):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the second seed waits and then finds the rows")
    loser: dict[str, object] = {}
    first_flushed = threading.Event()

    def second() -> None:
        first_flushed.wait(10)
        try:
            with db.session() as session:
                loser["added"] = ensure_plans(session)  # blocks on the index, then conflicts
                loser["plans_seen"] = session.scalar(select(func.count(ResponsePlan.id)))
        except Exception as err:  # noqa: BLE001 - the failure this test is about
            loser["error"] = repr(err)

    thread = threading.Thread(target=second)
    thread.start()
    with db.session() as session:
        assert ensure_plans(session) == len(yaml_plans())
        first_flushed.set()
        time.sleep(0.5)  # the other seed is now waiting on our uncommitted rows
    thread.join(20)
    assert "error" not in loser, loser
    assert loser["added"] == 0
    assert loser["plans_seen"] == len(yaml_plans())
