"""``firegrid alarms``: rules test on a recorded stream, list and stats as JSON."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from firegrid.alarms.cli import alarms_app
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from firegrid.ingest.events import encode_event
from tests.alarms.conftest import T0, Site, event, feed_events

runner = CliRunner()
PATH = "/900000/900000001/900000001001/90000000100101/"


def _stream(tmp_path: Path) -> Path:
    events = [
        # venue 1: two detectors in one zone -> confirmed by rule
        event(K.FIRE_ALARM, venue_id=1, device_id=11, path=PATH, at=T0, address=1),
        event(
            K.FIRE_ALARM,
            venue_id=1,
            device_id=11,
            path=PATH,
            at=T0 + timedelta(seconds=5),
            address=2,
        ),
        # venue 2: one detector, never verified -> auto-forwarded after 180 s
        event(K.FIRE_ALARM, venue_id=2, device_id=21, path=PATH, at=T0),
        # a fault storm of one device -> one fault alarm
        *[
            event(K.FAULT, venue_id=3, device_id=31, path=PATH, at=T0 + timedelta(seconds=i))
            for i in range(30)
        ],
        # stream goes on for 4 minutes (heartbeats never make alarms)
        event(K.HEARTBEAT, venue_id=3, device_id=31, path=PATH, at=T0 + timedelta(minutes=4)),
    ]
    path = tmp_path / "stream.jsonl"
    path.write_bytes(b"\n".join(encode_event(e) for e in events) + b"\n")
    return path


def test_rules_test_on_a_recorded_stream(tmp_path: Path) -> None:
    result = runner.invoke(alarms_app, ["rules", "test", str(_stream(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    alarms = json.loads(result.output)
    summary = [
        (a["venue_id"], a["kind"], a["status"], a["event_count"], a["forward_probable"])
        for a in alarms
    ]
    assert summary == [
        (1, "fire", "confirmed", 2, False),
        (2, "fire", "confirmed", 1, True),
        (3, "fault", "new", 30, False),
    ]
    assert alarms[0]["rule_hits"] == ["two_detectors_one_zone"]
    text = runner.invoke(alarms_app, ["rules", "test", str(_stream(tmp_path))])
    assert "two_detectors_one_zone" in text.output


def test_rules_test_with_a_bad_rules_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: Bad Name\n    when: {}\n    then: {action: confirm}\n")
    result = runner.invoke(
        alarms_app, ["rules", "test", str(_stream(tmp_path)), "--rules", str(rules)]
    )
    assert result.exit_code == 2
    assert "rule 'Bad Name' (#1): name" in result.output


def test_rules_test_with_a_bad_line(tmp_path: Path) -> None:
    stream = tmp_path / "bad.jsonl"
    stream.write_text('{"event_id": 1}\n')
    result = runner.invoke(alarms_app, ["rules", "test", str(stream)])
    assert result.exit_code == 2
    assert "line 1" in result.output


def test_list_and_stats(db: Database, site: Site, correlator: Correlator) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM), site.ev(K.FAULT, "smoke"))
    result = runner.invoke(alarms_app, ["list", "--db", db.url, "--json"])
    assert result.exit_code == 0, result.output
    assert sorted(a["kind"] for a in json.loads(result.output)) == ["fault", "fire"]
    result = runner.invoke(alarms_app, ["list", "--db", db.url, "--status", "new"])
    assert result.exit_code == 0
    assert "fire" in result.output
    result = runner.invoke(alarms_app, ["stats", "--db", db.url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["alarms"] == 2
