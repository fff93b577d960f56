"""The 110 link's alert reaches the monitoring centre: raised while the peer is down,
cleared when it is back, each once, as live-channel messages for the city's operators (and
for no one outside the peer's towns)."""

from __future__ import annotations

from sqlalchemy import func, select

from firegrid.alarms.link_alerts import CLEARED, LINK_ALERTS, RAISED, alert_paths
from firegrid.core.changes import consume_changes
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.interop.peer_sim import PeerSimulator
from firegrid.links.models import LinkAlert
from firegrid.live.stream import Cursor, Reader, read_after
from tests.dispatch.city import DCity
from tests.interop.conftest import PEER_ID, PeerServer, drain, open_incident, run_until


def link_messages(db: Database, reader: Reader) -> list[tuple[str, dict[str, object]]]:
    with db.session() as session:
        messages, _cursor, _full = read_after(session, reader, Cursor(0, 0))
    return [(m.type, m.data) for m in messages if m.type.startswith("link.")]


def test_the_alert_is_raised_and_cleared_in_the_monitoring_feed(
    db: Database, dcity: DCity, link_settings: Settings, sim: PeerSimulator, peer: PeerServer
):
    settings = link_settings.model_copy(update={"city_code": dcity.codes["city"]})
    operator = Reader(scope_path=dcity.paths["city"], alarms=True, incidents=True)
    open_incident(db, dcity, 0)

    def alerted() -> bool:
        with db.session() as session:
            return session.scalar(select(func.count(LinkAlert.id))) == 1

    run_until(db, settings, alerted)  # the peer is down past the acknowledgement timeout
    consume_changes(db, settings, LINK_ALERTS)
    consume_changes(db, settings, LINK_ALERTS)  # a second pass writes nothing new
    raised = link_messages(db, operator)
    assert [t for t, _ in raised] == [RAISED]
    body = raised[0][1]
    assert body["peer"] == PEER_ID
    assert body["link"] == "link110"
    assert "unacknowledged" in str(body["cause"])
    assert body["alert_id"] is not None

    peer.start()
    drain(db, settings)
    consume_changes(db, settings, LINK_ALERTS)
    messages = link_messages(db, operator)
    assert [t for t, _ in messages] == [RAISED, CLEARED]
    cleared = messages[1][1]
    assert cleared["alert_id"] == body["alert_id"]
    assert cleared["cleared_at"] is not None
    assert str(cleared["cleared_at"]) > str(cleared["raised_at"])

    # who may not read alarms, or sits outside the city, sees nothing of it
    assert (
        link_messages(db, Reader(scope_path=dcity.paths["city"], alarms=False, incidents=True))
        == []
    )
    assert link_messages(db, Reader(scope_path="/999999/", alarms=True, incidents=True)) == []


def test_a_peer_serving_listed_towns_alerts_those_towns_only():
    assert alert_paths("441900", ["*"]) == ["/441900/"]
    assert alert_paths("441900", []) == ["/441900/"]
    assert alert_paths("441900", ["441900003", "441900001"]) == [
        "/441900/441900001/",
        "/441900/441900003/",
    ]
