"""The outbox contract with the dispatch context."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from firegrid.alarms.forwarding import ForwardRequest, mark_forward_consumed, pending_forwards
from firegrid.alarms.models import Alarm
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.core.errors import Conflict, NotFound
from firegrid.ingest.events import EventKind as K
from tests.alarms.conftest import Site, feed_events


def test_pending_and_consumed(db: Database, site: Site, correlator: Correlator) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, address=1), site.ev(K.FIRE_ALARM, address=2))
    with db.session() as session:
        (request,) = pending_forwards(session)
    assert isinstance(request, ForwardRequest)
    assert dataclasses.is_dataclass(request)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.probable = True  # type: ignore[misc]
    assert request.incident_kind == "building_fire"
    assert request.venue_category == "factory"
    assert request.jurisdiction_path == site.path
    assert request.lon is not None
    assert request.forwarded_at.tzinfo is not None
    assert request.probable is False
    with db.session() as session:
        mark_forward_consumed(session, request.id, 501)
        mark_forward_consumed(session, request.id, 501)  # idempotent
    with db.session() as session:
        assert pending_forwards(session) == []
        with pytest.raises(Conflict):
            mark_forward_consumed(session, request.id, 502)
        with pytest.raises(NotFound):
            mark_forward_consumed(session, 99999, 1)
        alarm = session.scalars(select(Alarm)).one()
        assert alarm.forwarded_at == request.forwarded_at
