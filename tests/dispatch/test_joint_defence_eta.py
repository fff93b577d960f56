"""Units sent through joint defence carry their ETA, also when picked by hand."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.dispatch import command
from firegrid.dispatch.incident_models import Assignment
from firegrid.geo.engine import TravelTimeEngine
from tests.dispatch.city import DCity
from tests.dispatch.test_services import _open

pytestmark = pytest.mark.postgres


def test_hand_picked_joint_defence_units_get_their_eta(
    dcity: DCity, db: Database, engine: TravelTimeEngine
) -> None:
    west = dcity.principal("dispatcher", "town:west")
    middle = dcity.principal("dispatcher", "town:middle")
    picked = [v for v, info in dcity.vehicles.items() if info["town"] == "middle"][:2]
    with db.session() as session:
        incident = _open(session, west, 113.09, 23.05, level=2)
        request = command.request_joint_defence(
            session,
            west,
            incident,
            to_town_code=dcity.codes["town:middle"],
            requirements=[{"vehicle_type": "pumper", "count": 2}],
        )
        command.answer_request(
            session, middle, request, accept=True, engine=engine, vehicle_ids=picked
        )
        session.flush()
        sent = session.scalars(
            select(Assignment).where(Assignment.aid_request_id == request.id)
        ).all()
        etas = {a.vehicle_id: a.eta_s for a in sent}
    assert set(etas) == set(picked)
    assert all(eta is not None and 0 < eta < 3600 for eta in etas.values())
