"""The incident's status is checked against its units' statuses, and the intervals come
from the units' moves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import Conflict
from firegrid.dispatch import incidents
from firegrid.dispatch.incident_models import Incident
from firegrid.dispatch.models import Vehicle
from firegrid.dispatch.timeline import intervals
from tests.dispatch.city import DCity

pytestmark = pytest.mark.postgres

ACTOR = "test"


def open_incident(session: object, dcity: DCity) -> Incident:
    station = next(iter(dcity.stations.values()))
    call = utcnow() - timedelta(minutes=20)
    incident = Incident(
        incident_type="building_fire",
        status="created",
        source="119",
        lon=station["lon"],
        lat=station["lat"],
        jurisdiction_path=station["path"],
        command_path=station["path"],
        command_level="town",
        call_received_at=call,
        last_call_at=call,
    )
    session.add(incident)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return incident


def test_on_scene_needs_an_arrived_unit_and_close_asks_with_units_on_scene(
    db: Database, dcity: DCity
) -> None:
    with db.session() as session:
        incident = open_incident(session, dcity)
        call = incident.call_received_at
        two = [session.get(Vehicle, v) for v in list(dcity.vehicles)[:2]]
        incidents.dispatch_units(
            session, ACTOR, incident, [v.id for v in two if v], forces_path="/",
            at=call + timedelta(seconds=60),
        )  # fmt: skip
        with pytest.raises(Conflict, match="no unit has arrived"):
            incidents.set_incident_status(session, ACTOR, incident, "on_scene")
        first, second = two
        assert first is not None
        assert second is not None
        for vehicle, left_s, came_s in ((first, 120, 400), (second, 150, 520)):
            incidents.set_vehicle_status(
                session, ACTOR, vehicle, "en_route", at=call + timedelta(seconds=left_s)
            )
            incidents.set_vehicle_status(
                session, ACTOR, vehicle, "on_scene", at=call + timedelta(seconds=came_s)
            )
        assert incident.status == "on_scene"  # set by the first unit on scene
        assert intervals(incident) == {
            "call_processing_s": 60.0,
            "turnout_s": 60.0,
            "travel_s": 280.0,
            "response_s": 400.0,
            "duration_s": None,
        }
        with pytest.raises(incidents.UnitsOnScene) as asked:
            incidents.set_incident_status(
                session, ACTOR, incident, "closed", confirm_units_on_scene=False
            )
        assert len(asked.value.details["units"]) == 2
        incidents.set_incident_status(
            session, ACTOR, incident, "closed", confirm_units_on_scene=True
        )
        assert incident.status == "closed"
        assert {first.status, second.status} == {"returning"}
