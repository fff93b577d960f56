"""The demo's simulated 110 centre (``firegrid demo`` starts it): its API key, the places
its callers report, and its own traffic — a fire call transferred to 119 and a follow-up
on it, applied through the real API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from firegrid.accounts.service import verify_api_key
from firegrid.core.db import Database
from firegrid.core.errors import DomainError, ValidationFailed
from firegrid.core.settings import Settings
from firegrid.demo import centre110
from firegrid.dispatch.incident_models import Incident
from firegrid.interop.config import link_config, owner_agency
from firegrid.interop.peer_sim import PeerSimulator
from firegrid.interop.peer_traffic import CentreTraffic, load_places
from tests.dispatch.city import DCity
from tests.interop.conftest import PEER_ID
from tests.interop.test_end_to_end import Api, api  # noqa: F401 - the fixture


def demo_settings(link_settings: Settings, dcity: DCity) -> Settings:
    return link_settings.model_copy(update={"city_code": dcity.codes["city"]})


def test_each_demo_start_revokes_the_previous_simulator_key(
    db: Database, dcity: DCity, link_settings: Settings
):
    settings = demo_settings(link_settings, dcity)
    first = centre110._fresh_key(db, settings, centre110.KEY_NAME, "/api/v1/link110")
    second = centre110._fresh_key(db, settings, centre110.KEY_NAME, "/api/v1/link110")
    with db.session() as session:
        assert verify_api_key(session, second).routes == ["/api/v1/link110"]
        with pytest.raises(DomainError):
            verify_api_key(session, first)


def test_the_places_file_holds_venues_with_their_address(
    db: Database, dcity: DCity, link_settings: Settings
):
    places = load_places(centre110._write_places(demo_settings(link_settings, dcity), db))
    assert places
    assert all(p.address and 100 < p.lon < 120 and 20 < p.lat < 26 for p in places)


def test_a_bad_places_file_is_named(tmp_path):
    bad = tmp_path / "places.jsonl"
    bad.write_text('{"lon": 113.1, "lat": 23.0, "address": "a"}\n{"lon": "x"}\n', "utf-8")
    with pytest.raises(ValidationFailed, match="line 2"):
        load_places(bad)


def test_the_centre_transfers_a_fire_to_119_and_follows_it_up(
    db: Database,
    dcity: DCity,
    link_settings: Settings,
    api: Api,  # noqa: F811 - the fixture
):
    settings = demo_settings(link_settings, dcity)
    key = centre110._fresh_key(db, settings, centre110.KEY_NAME, "/api/v1/link110")
    places = load_places(centre110._write_places(settings, db))
    peer = link_config(settings).peer(PEER_ID)
    assert peer is not None
    sim = PeerSimulator(
        peer.secret,
        peer_id=PEER_ID,
        target=f"http://127.0.0.1:{api.server.config.port}",
        api_key=key,
        seed=3,
    )
    traffic = CentreTraffic(
        sim, places, every_s=3600, fire_agency=owner_agency(link_settings).id, seed=3
    )
    remote_id = traffic.transfer()
    assert remote_id, sim.state.sent
    answer = sim.state.sent[-1]["body"]
    assert answer["result"] == "transferred"
    with db.session() as session:
        incident = session.get(Incident, int(answer["incident_id"]))
        assert incident is not None
        assert incident.source == "transfer_110"
        assert incident.address  # the caller's reported address travelled
    traffic.follow_up(remote_id)
    followed = sim.state.sent[-1]
    assert followed["status"] == 200, followed
    assert followed["body"]["result"] == "updated"
    assert followed["body"]["notes_added"] == 1
    with db.session() as session:
        assert len(session.scalars(select(Incident)).all()) == 1  # a follow-up, not a new fire
