"""The downlink's commands: ``firegrid devices check-post|poll|commands`` on a real database,
and the schedule data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from firegrid.cli import app
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.ingest.commands.models import DeviceCommand
from firegrid.ingest.commands.schedule import (
    CLOCK_SYNC,
    POLL,
    ScheduleSettings,
    default_schedule,
    load_schedule,
)
from firegrid.ingest.simulate import SIM_VENUE, register_devices
from firegrid.places.models import Venue

runner = CliRunner()
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def invoke(database_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["devices", *args, "--db", database_url, "--json"])
    return result.exit_code, result.stdout, result.stderr


def test_check_post_for_one_venue_queues_its_transmitters(database_url: str, db: Database) -> None:
    devices = register_devices(db, "gb26875", 3)
    register_devices(db, "mqtt", 1)  # not a transmitter: no command for it
    code, out, err = invoke(
        database_url, "check-post", "--venue", SIM_VENUE, "--reply-window", "90"
    )
    assert code == 0, err
    started = json.loads(out)
    assert (started["commands"], started["devices"], started["venues"]) == (3, 3, 1)
    assert started["reply_window_s"] == 90
    with db.session() as session:
        rows = session.scalars(select(DeviceCommand).order_by(DeviceCommand.id)).all()
        assert [r.device_id for r in rows] == [d.id for d in devices]
        assert {(r.kind, r.status, r.cause, r.requested_by) for r in rows} == {
            ("check_post", "queued", "check_post", "system:cli")
        }
        assert {r.round_id for r in rows} == {started["round_id"]}
        assert rows[0].parameters == {"reply_window_s": 90}
    code, out, err = invoke(database_url, "commands", "--round", started["round_id"])
    assert code == 0, err
    assert len(json.loads(out)["commands"]) == 3


def test_poll_takes_the_device_code_and_queues_a_status_read(
    database_url: str, db: Database
) -> None:
    (device,) = register_devices(db, "gb26875", 1)
    code, out, err = invoke(database_url, "poll", device.code)
    assert code == 0, err
    polled = json.loads(out)
    assert (polled["device_id"], polled["kind"], polled["status"], polled["cause"]) == (
        device.id,
        "read_transmitter_status",
        "queued",
        "poll",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check-post"], "give either --venue CODE or --all"),
        (["check-post", "--venue", "NO-SUCH-VENUE"], "no venue with code 'NO-SUCH-VENUE'"),
        (["check-post", "--all", "--reply-window", "0"], "invalid parameters for check_post"),
        (["poll", "NO-SUCH-DEVICE"], "no registered device"),
        (["poll", "SIM-mqtt-0000000"], "commands go to GB/T 26875.3 transmitters only"),
        (["poll", "SIM-gb26875-0000000", "--kind", "reboot"], "unknown command kind 'reboot'"),
        (["commands", "--status", "lost"], "unknown status 'lost'"),
    ],
)
def test_bad_requests_are_one_line_with_a_hint(
    database_url: str, db: Database, args: list[str], message: str
) -> None:
    register_devices(db, "gb26875", 1)
    register_devices(db, "mqtt", 1)
    code, out, err = invoke(database_url, *args)  # with --json: the envelope on stdout
    assert code == 2
    assert err == ""
    error = json.loads(out)["error"]
    assert message in error["message"]
    assert error["hint"]
    text = runner.invoke(app, ["devices", *args, "--db", database_url])  # one line on stderr
    assert text.exit_code == 2
    (line,) = text.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert message in line
    assert "(hint: " in line
    with db.session() as session:
        assert session.scalars(select(DeviceCommand)).all() == []


def test_all_venues_without_a_transmitter_is_not_found(database_url: str, db: Database) -> None:
    register_devices(db, "mqtt", 1)
    with db.session() as session:
        assert session.scalars(select(Venue)).first() is not None
    code, out, _ = invoke(database_url, "check-post", "--all")
    assert code == 2
    assert "no GB/T 26875.3 transmitter" in json.loads(out)["error"]["message"]


def test_the_packaged_schedule_polls_within_two_hours_and_syncs_daily() -> None:
    schedule = default_schedule()
    assert schedule.period_s(POLL, "hospital") == 3600
    assert schedule.period_s(POLL, "small_shop") == 7200  # the default
    assert schedule.period_s(POLL, None) == 7200
    assert schedule.period_s(CLOCK_SYNC, "hospital") == 86400
    assert max([schedule.poll_default_s, *schedule.poll_by_category.values()]) <= 7200


def test_a_schedule_over_two_hours_is_refused_naming_the_entry(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as caught:
        ScheduleSettings.from_mapping(
            {"poll": {"default_period_s": 7201, "by_category": {"hotel": 0}}}
        )
    assert set(caught.value.details) == {"poll.default_period_s", "poll.by_category.hotel"}
    path = tmp_path / "schedule.yaml"
    path.write_text("poll:\n  default_period_s: 600\nclock_sync:\n  period_s: 3600\n")
    loaded = load_schedule(str(path))
    assert (loaded.poll_default_s, loaded.clock_sync_s) == (600, 3600)
    first = loaded.first_due(POLL, 42, 600, NOW)
    assert NOW <= first <= NOW + timedelta(seconds=600)
