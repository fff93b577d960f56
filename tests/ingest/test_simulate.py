"""The device simulator over real protocols, and the ingest CLI commands."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.devices.models import Device
from firegrid.ingest.adapters.gb26875.server import GB26875Server
from firegrid.ingest.adapters.http.server import HTTPPushServer
from firegrid.ingest.cli import events_app, ingest_app, simulate_app
from firegrid.ingest.log_db import DatabaseEventLog
from firegrid.ingest.service import IngestService
from firegrid.ingest.simulate import SimOptions, register_devices, run_simulation

runner = CliRunner()


def test_gb_mix_is_confirmed_and_stored(database_url: str, db: Database) -> None:
    register_devices(db, "gb26875", 5)

    async def run() -> dict[str, object]:
        service = IngestService(db, DatabaseEventLog(db))
        await service.start(background=False)
        server = GB26875Server(service)
        await server.start()
        try:
            options = SimOptions(
                target=f"127.0.0.1:{server.port}",
                count=5,
                rate=300,
                duration_s=1.5,
                fire_ratio=0.2,
                storm_every_s=0.5,
            )
            stats = await run_simulation(db, options)
        finally:
            await server.close()
            await service.close()
        return stats.summary()

    summary = asyncio.run(run())
    assert summary["sent"] == summary["confirmed"]
    assert int(summary["sent"]) >= 300  # type: ignore[call-overload]
    assert summary["errors"] == 0
    assert summary["unconfirmed"] == 0
    assert float(summary["confirm_p99_ms"]) > 0  # type: ignore[arg-type]

    result = runner.invoke(
        events_app, ["list", "--db", database_url, "--kind", "fire_alarm", "--limit", "5", "--json"]
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert 0 < len(listed) <= 5
    assert {e["kind"] for e in listed} == {"fire_alarm"}
    offsets = [e["offset"] for e in listed]
    assert offsets == sorted(offsets, reverse=True)
    # --device takes the registry id, the device code or the external id
    with db.session() as session:
        device = session.get(Device, listed[0]["device_id"])
        assert device is not None
    for key in (str(device.id), device.code, device.external_id):
        result = runner.invoke(
            events_app, ["list", "--db", database_url, "--device", key, "--json"]
        )
        assert result.exit_code == 0, result.output
        assert {e["device_id"] for e in json.loads(result.output)} == {device.id}
    unknown = runner.invoke(events_app, ["list", "--db", database_url, "--device", "NOPE-1"])
    assert unknown.exit_code == 2
    assert "no registered device" in unknown.output


def test_http_simulation(db: Database, settings: Settings) -> None:
    async def run() -> dict[str, object]:
        service = IngestService(db, DatabaseEventLog(db))
        await service.start(background=False)
        server = HTTPPushServer(service, settings, port=0)
        await server.start()
        try:
            options = SimOptions(
                target=f"http://127.0.0.1:{server.port}",
                protocol="http",
                count=4,
                rate=200,
                duration_s=1.0,
            )
            stats = await run_simulation(db, options, register=True)
        finally:
            await server.close()
            await service.close()
        return stats.summary()

    summary = asyncio.run(run())
    assert summary["errors"] == 0
    assert summary["confirmed"] == summary["sent"]


def test_cli_reports_missing_devices_and_bad_options(database_url: str) -> None:
    result = runner.invoke(
        simulate_app, ["devices", "--db", database_url, "--target", "127.0.0.1:1", "--count", "1"]
    )
    assert result.exit_code == 2
    assert "no registered gb26875 devices" in result.output
    result = runner.invoke(ingest_app, ["run", "--db", database_url, "--gb26875", "nonsense"])
    assert result.exit_code == 2
    assert "HOST:PORT" in result.output
    help_text = runner.invoke(ingest_app, ["run", "--help"]).output
    for option in ("--gb26875", "--mqtt", "--http", "--db"):
        assert option in help_text
