"""Fault tests of the 119 → 110 link with the peer simulator on a 127.0.0.1 port: every
change delivered, none applied twice, the order per incident kept, the alert raised and
cleared — through a peer that is down and comes back, duplicates, lost and slow
acknowledgements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.interop.config import link_config
from firegrid.interop.eido import incident_urn
from firegrid.interop.peer_sim import PeerSimulator
from firegrid.links.health import link_health
from firegrid.links.models import LinkAlert, LinkOutbox
from tests.dispatch.city import DCity
from tests.interop.conftest import (
    PeerServer,
    backlog,
    close_incident,
    drain,
    open_incident,
    run_until,
)


def urn(settings: Settings, incident_id: int) -> str:
    return incident_urn(incident_id, f"fire119.{settings.city_code}.firegrid")


def assert_delivered_once_in_order(sim: PeerSimulator, db: Database) -> None:
    """Every acknowledged message applied exactly once; per incident the applied
    timestamps never go back; the peer holds each incident's latest state."""
    state = sim.state
    assert state.messages, "the peer received nothing"
    assert set(state.messages.values()) == {1}
    with db.session() as session:
        acked = session.scalars(
            select(LinkOutbox.message_id).where(LinkOutbox.status == "acked")
        ).all()
        assert set(acked) == set(state.messages)
        assert (
            session.scalar(select(func.count(LinkOutbox.id)).where(LinkOutbox.status != "acked"))
            == 0
        )
    for incident in state.incidents.values():
        stamps = [datetime.fromisoformat(t) for t in incident.timestamps]
        assert stamps == sorted(stamps)
    assert state.stale == 0  # sent in order, so never an older state after a newer one


def test_every_change_reaches_the_peer_once_and_in_order(
    db: Database, dcity: DCity, link_settings: Settings, sim: PeerSimulator, peer: PeerServer
):
    peer.start()
    ids = [open_incident(db, dcity, i) for i in range(6)]
    close_incident(db, dcity, ids[0])
    close_incident(db, dcity, ids[3])
    drain(db, link_settings)
    assert_delivered_once_in_order(sim, db)
    for incident_id in ids:
        assert urn(link_settings, incident_id) in sim.state.incidents
    assert sim.state.incidents[urn(link_settings, ids[0])].status == "closed"
    assert sim.state.incidents[urn(link_settings, ids[1])].status == "created"
    with db.session() as session:
        health = link_health(session, link_config(link_settings))
    figures = health["peers"][0]
    assert figures["backlog"] == 0
    assert figures["failures"] == 0
    assert figures["last_ack_at"] is not None
    assert figures["p99_round_trip_ms"] is not None
    assert figures["alert"] is None


def test_peer_down_then_back_raises_then_clears_the_alert(
    db: Database, dcity: DCity, link_settings: Settings, sim: PeerSimulator, peer: PeerServer
):
    ids = [open_incident(db, dcity, i) for i in range(4)]

    def alerted() -> bool:
        with db.session() as session:
            figures = link_health(session, link_config(link_settings))["peers"][0]
            return bool(figures["retries"] > 0 and figures["alert"] is not None)

    run_until(db, link_settings, alerted)  # the peer is down: connection refused, retried
    with db.session() as session:
        figures = link_health(session, link_config(link_settings))["peers"][0]
        assert figures["backlog"] == len(ids)
        assert figures["failures"] > 0
        assert figures["retries"] > 0
        assert figures["alert"] is not None
        assert "unacknowledged" in figures["alert"]["cause"]
    close_incident(db, dcity, ids[1])  # a change while the link is down
    peer.start()
    drain(db, link_settings)
    assert_delivered_once_in_order(sim, db)
    assert sim.state.incidents[urn(link_settings, ids[1])].status == "closed"
    with db.session() as session:
        alerts = session.scalars(select(LinkAlert)).all()
        assert len(alerts) == 1
        assert alerts[0].cleared_at is not None
        assert alerts[0].cleared_at > alerts[0].raised_at
        assert link_health(session, link_config(link_settings))["peers"][0]["alert"] is None


def test_a_down_peer_is_probed_by_one_message_not_retried_by_all(
    db: Database, dcity: DCity, link_settings: Settings, sim: PeerSimulator, peer: PeerServer
):
    """An outage costs the peer one request per probe, not a retry of every message; the
    first acknowledgement drains the rest at once."""
    count = 12
    ids = [open_incident(db, dcity, i) for i in range(count)]
    probe_s = 0.4
    probing = link_settings.model_copy(update={"link_probe_s": probe_s})

    def attempts() -> list[int]:
        with db.session() as session:
            return sorted(session.scalars(select(LinkOutbox.attempts)).all())

    # the peer is down; run until two probes followed the first round (however slow the
    # machine), then count: the first round tried every head (12 messages, one per
    # incident), then one message per probe — a retry of every message at the 0.05–0.3 s
    # back-off would add 12 attempts a round
    ran_s = run_until(db, probing, lambda: sum(attempts()) >= count + 2)
    tried = attempts()
    assert len(tried) == count
    assert all(a >= 1 for a in tried)
    assert count + 2 <= sum(tried) <= count + 4  # a probe or two, not a round of retries
    assert ran_s >= 2 * probe_s  # the probes waited their interval
    peer.start()
    drain(db, link_settings)
    assert_delivered_once_in_order(sim, db)
    assert len(sim.state.incidents) == len(ids)


def test_duplicates_and_lost_acknowledgements_are_applied_once(
    db: Database, dcity: DCity, link_settings: Settings, sim: PeerSimulator, peer: PeerServer
):
    sim.faults.duplicate = 1.0  # the network delivers every message twice
    sim.faults.drop = 0.4  # and loses four in ten acknowledgements
    peer.start()
    ids = [open_incident(db, dcity, i) for i in range(8)]
    for incident_id in ids[:4]:
        close_incident(db, dcity, incident_id)
    drain(db, link_settings)
    assert sim.state.dropped > 0
    assert sim.state.duplicates > 0
    assert_delivered_once_in_order(sim, db)
    for incident_id in ids[:4]:
        assert sim.state.incidents[urn(link_settings, incident_id)].status == "closed"


def test_slow_acknowledgements_are_retried_and_applied_once(
    db: Database, dcity: DCity, link_settings: Settings, sim: PeerSimulator, peer: PeerServer
):
    sim.faults.delay_ms = 1300  # longer than the send timeout (1 s): the sender gives up
    peer.start()
    ids = [open_incident(db, dcity, i) for i in range(3)]
    run_until(db, link_settings, lambda: sim.state.received >= len(ids))
    assert sim.state.received >= len(ids)  # the peer got (and applied) them ...
    assert backlog(db) > 0  # ... but no acknowledgement arrived in time
    sim.faults.delay_ms = 0
    drain(db, link_settings)
    assert sim.state.duplicates > 0  # the retries reached the peer again
    assert_delivered_once_in_order(sim, db)
