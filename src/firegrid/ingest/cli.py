"""Commands of the ingest context (mounted by :mod:`firegrid.cli`).

- ``firegrid ingest run``: the adapters (GB/T 26875.3 TCP, MQTT, HTTP push) in one process;
- ``firegrid events list``: stored device events;
- ``firegrid simulate devices``: drive registered devices over the real protocols.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import re
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlparse

import typer

from firegrid.core.cli import (
    EXIT_USAGE,
    DbOption,
    JsonOption,
    QuietOption,
    command_group,
    fail,
    notice,
    open_database,
    progress,
    resolve_settings,
    run_service,
)
from firegrid.core.collector import settle_for_service
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode

if TYPE_CHECKING:
    from firegrid.core.db import Database

ingest_app = command_group(
    "Device ingest: protocol adapters and the event log.", no_args_is_help=False
)
events_app = command_group("Stored device events.", no_args_is_help=False)
simulate_app = command_group("Simulators that drive registered devices.", no_args_is_help=False)


@ingest_app.callback()
def _ingest() -> None:
    """Device ingest: protocol adapters and the event log."""


@events_app.callback()
def _events() -> None:
    """Stored device events."""


@simulate_app.callback()
def _simulate() -> None:
    """Simulators that drive registered devices."""


EventLogOption = Annotated[
    str | None,
    typer.Option("--event-log", help="database or jetstream; overrides FIREGRID_EVENT_LOG."),
]
StreamOption = Annotated[
    str | None, typer.Option("--stream", help="JetStream stream name (default FIREGRID_EVENTS).")
]


def _settings(db: str | None, event_log: str | None = None) -> Settings:
    settings = resolve_settings(db)
    if event_log:
        if event_log not in ("database", "jetstream"):
            fail(f"--event-log must be database or jetstream, not {event_log!r}", EXIT_USAGE)
        settings = settings.model_copy(update={"event_log": event_log})
    return settings


def host_port(value: str, option: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` or ``scheme://HOST:PORT``."""
    parsed = urlparse(value if "://" in value else f"tcp://{value}")
    try:
        port = parsed.port
    except ValueError:
        port = None
    if not parsed.hostname or port is None:
        raise ValidationFailed(
            f"{option} must be HOST:PORT, got {value!r}",
            {option: value},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": option, "value": value, "expected": "HOST:PORT"},
        )
    return parsed.hostname, port


@ingest_app.command("run")
def run(
    db: DbOption = None,
    gb26875: Annotated[
        str | None, typer.Option("--gb26875", help="Listen for GB/T 26875.3 on HOST:PORT.")
    ] = None,
    mqtt: Annotated[
        str | None, typer.Option("--mqtt", help="Subscribe to the broker mqtt://HOST:PORT.")
    ] = None,
    http: Annotated[
        str | None, typer.Option("--http", help="Serve the HTTP push endpoint on HOST:PORT.")
    ] = None,
    event_log: EventLogOption = None,
    stream: StreamOption = None,
    idle_timeout: Annotated[float, typer.Option(help="Close a silent TCP link (s).")] = 300.0,
    offline_grace: Annotated[float, typer.Option(help="Offline after this silence (s).")] = 600.0,
    mqtt_client_id: Annotated[
        str, typer.Option(help="Fixed MQTT client id (persistent session).")
    ] = "firegrid-ingest",
    migrate: Annotated[bool, typer.Option(help="Apply migrations first.")] = False,
    reuse_port: Annotated[
        bool, typer.Option(help="SO_REUSEPORT: several ingest processes share the GB port.")
    ] = False,
    worker_id: Annotated[
        str,
        typer.Option(
            "--worker-id",
            help="With --reuse-port: this process's stable name among those sharing the port "
            "(each keeps its own device-state offset for crash recovery).",
        ),
    ] = "",
    downlink: Annotated[
        bool,
        typer.Option(
            "--downlink/--no-downlink",
            help="Send downstream commands (check post, polls, clock sync) to the transmitters "
            "connected to this process, and run their schedules.",
        ),
    ] = True,
    command_schedule: Annotated[
        str | None,
        typer.Option(
            "--command-schedule",
            help="YAML file of poll and clock-sync periods (default: the packaged "
            "firegrid/ingest/commands/schedule.yaml).",
        ),
    ] = None,
    with_alarms: Annotated[
        bool,
        typer.Option(
            "--with-alarms/--no-alarms",
            help="Run the alarm correlator and timers in this process too "
            "(else run `firegrid alarms run` on its own).",
        ),
    ] = False,
) -> None:
    """Run the ingest adapters in one asyncio process until SIGINT/SIGTERM.

    With no adapter option, GB/T 26875.3 listens on 127.0.0.1:2687. Prints one JSON line
    ``{"ready": ...}`` once every adapter is up.
    """
    from firegrid.core.logging import configure_logging

    settings = _settings(db, event_log)
    configure_logging(settings.log_level, settings.log_json)
    if migrate:
        from firegrid.core.migrate import upgrade

        upgrade(settings.database_url)
    if not (gb26875 or mqtt or http):
        gb26875 = "127.0.0.1:2687"
    endpoints = {
        "gb26875": host_port(gb26875, "--gb26875") if gb26875 else None,
        "mqtt": host_port(mqtt, "--mqtt") if mqtt else None,
        "http": host_port(http, "--http") if http else None,
    }
    from firegrid.ingest.service import IngestOptions

    if worker_id and not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", worker_id):
        fail(
            "--worker-id takes 1-32 letters, digits, '-' or '_'",
            EXIT_USAGE,
            {"worker_id": worker_id},
        )
    if reuse_port and not worker_id:
        typer.echo(
            "warning: --reuse-port without --worker-id: give each process sharing the port its "
            "own --worker-id, or a restart may replay too little of the log into device state",
            err=True,
        )
    options = IngestOptions(
        idle_timeout_s=idle_timeout,
        offline_grace_s=offline_grace,
        worker_id=worker_id,
        registry_snapshot=str(registry_snapshot_path(settings)),
    )
    schedule = None
    if command_schedule:
        from firegrid.ingest.commands.schedule import load_schedule

        schedule = load_schedule(command_schedule)
    notice(
        "starting ingest: "
        + ", ".join(f"{name} on {':'.join(map(str, at))}" for name, at in endpoints.items() if at)
        + f", event log {settings.event_log}; the JSON 'ready' line follows once all are up"
    )
    run_service(
        serve_adapters(
            settings,
            endpoints,
            options,
            stream=stream,
            mqtt_client_id=mqtt_client_id,
            reuse_port=reuse_port,
            with_alarms=with_alarms,
            downlink=downlink,
            schedule=schedule,
        )
    )


def _serve_metrics(settings: Settings, database: Any) -> None:
    """``/metrics`` on FIREGRID_METRICS_LISTEN; a port already taken (another ingest process
    sharing the GB port) is a warning, never a reason not to ingest."""
    from firegrid.ops.metrics import serve_metrics

    try:
        serve_metrics(
            settings.metrics_listen,
            database,
            event_log=settings.event_log,
            nats_url=settings.nats_url,
        )
    except OSError as exc:
        typer.echo(
            f"warning: metrics not served on {settings.metrics_listen} ({exc.strerror}); "
            "give each ingest process its own FIREGRID_METRICS_LISTEN",
            err=True,
        )


def registry_snapshot_path(settings: Settings) -> Path:
    """Where ``ingest run`` keeps its registry snapshot for this database."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url).render_as_string(hide_password=True)
    name = hashlib.sha256(url.encode()).hexdigest()[:16]
    return settings.data_dir / "ingest-registry" / f"{name}.msgpack"


async def serve_adapters(
    settings: Settings,
    endpoints: dict[str, tuple[str, int] | None],
    options: Any,
    *,
    stream: str | None = None,
    mqtt_client_id: str = "firegrid-ingest",
    reuse_port: bool = False,
    with_alarms: bool = False,
    downlink: bool = True,
    schedule: Any = None,
) -> None:
    """Start the service and the requested adapters; stop on SIGINT/SIGTERM."""
    from firegrid.core.db import Database
    from firegrid.ingest.log import open_event_log
    from firegrid.ingest.service import IngestService

    started = time.perf_counter()
    database = Database(settings.database_url)
    _serve_metrics(settings, database)
    service = IngestService(
        database, open_event_log(settings, database, stream=stream), options=options
    )
    await service.start(defer_state=True)
    service_ready = time.perf_counter()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    closers: list[Any] = []
    ready: dict[str, Any] = {"event_log": service.log.backend, "devices": len(service.registry)}
    tasks: list[asyncio.Task[Any]] = []
    gb: Any = None
    try:
        if endpoints.get("gb26875"):
            from firegrid.ingest.adapters.gb26875.server import GB26875Server

            host, port = endpoints["gb26875"]  # type: ignore[misc]
            gb = GB26875Server(service, host=host, port=port, reuse_port=reuse_port)
            await gb.start()
            closers.append(gb.close)
            ready["gb26875"] = f"{host}:{gb.port}"
            if downlink:
                from firegrid.ingest.commands.dispatcher import Downlink

                commands = Downlink(
                    gb, worker_id=getattr(options, "worker_id", ""), schedule=schedule
                )
                await commands.start()
                closers.append(commands.close)
                ready["downlink"] = commands.worker_id
        if endpoints.get("mqtt"):
            from firegrid.ingest.adapters.mqtt.server import MQTTSubscriber

            host, port = endpoints["mqtt"]  # type: ignore[misc]
            subscriber = MQTTSubscriber(service, host=host, port=port, client_id=mqtt_client_id)
            await subscriber.start()
            closers.append(subscriber.close)
            ready["mqtt"] = f"mqtt://{host}:{port}"
        if endpoints.get("http"):
            from firegrid.ingest.adapters.http.server import HTTPPushServer

            host, port = endpoints["http"]  # type: ignore[misc]
            push = HTTPPushServer(service, settings, host=host, port=port)
            await push.start()
            closers.append(push.close)
            ready["http"] = f"http://{host}:{push.port}"
        if with_alarms:
            from firegrid.alarms.consumer import run_alarm_services

            tasks.append(
                asyncio.create_task(
                    run_alarm_services(database, settings, stop, event_log=service.log)
                )
            )
            ready["alarms"] = "in process"
        # Everything loaded so far (modules, the registry) lives as long as the process: keep
        # it out of the collector's passes, which would otherwise walk it all and pause
        # every connection's confirms (device state is frozen too once it has loaded), and
        # make the young passes rarer (core.collector). No gc.collect() first: it would hold
        # up readiness for the little it frees.
        adapters_ready = time.perf_counter()
        ready["collector"] = settle_for_service()
        ready["startup_s"] = {
            **service.startup_s,
            "adapters": round(adapters_ready - service_ready, 3),
            "gc": round(time.perf_counter() - adapters_ready, 3),
            "total": round(time.perf_counter() - started, 3),
        }
        ready["startup_counts"] = service.startup_counts
        print(json.dumps({"ready": ready}), flush=True)
        reporter = asyncio.create_task(_report_state_ready(service))
        await stop.wait()
        reporter.cancel()
        for task in tasks:  # the alarm services finish their batch when ``stop`` is set
            await asyncio.wait({task}, timeout=10)
        report: dict[str, Any] = {"stats": vars(service.stats)}
        log_stats = getattr(service.log, "stats", None)
        if isinstance(log_stats, dict):  # the database log: group commits and events
            report["event_log"] = log_stats
        if gb is not None:
            report["gb26875"] = {**gb.counters, **_latency_ms(list(gb.latencies_s))}
            if gb.downlink is not None:
                report["downlink"] = gb.downlink.counters
        print(json.dumps({"stopped": report}, default=str), flush=True)
    finally:
        for task in tasks:
            task.cancel()
        for close in reversed(closers):
            await close()
        await service.close()
        database.dispose()


async def _report_state_ready(service: Any) -> None:
    """Print ``{"state_ready": ...}`` once device state has loaded in the background."""
    await service.state_ready.wait()
    gc.freeze()
    state = {"startup_s": service.startup_s, "counts": service.startup_counts}
    print(json.dumps({"state_ready": state}), flush=True)


def _latency_ms(samples: list[float]) -> dict[str, float]:
    """p50/p99/max of frame received → confirm written, in ms."""
    if not samples:
        return {}
    samples.sort()

    def at(q: float) -> float:
        return round(samples[min(len(samples) - 1, int(q * len(samples)))] * 1000, 3)

    return {"confirm_p50_ms": at(0.5), "confirm_p99_ms": at(0.99), "confirm_max_ms": at(1.0)}


def resolve_device(database: Database, key: str) -> int:
    """The registry id of the device named by ``key``: its id, code or external id."""
    from sqlalchemy import or_, select

    from firegrid.devices.public import Device

    key = key.strip()
    with database.session() as session:
        if key.isdigit() and int(key) < 2**31 and session.get(Device, int(key)) is not None:
            return int(key)
        ids = session.scalars(
            select(Device.id).where(or_(Device.code == key, Device.external_id == key)).limit(2)
        ).all()
    if len(ids) == 1:
        return int(ids[0])
    if not ids:
        raise NotFound(
            f"no registered device with id, code or external id {key!r}",
            {"device": key},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "device", "id": key},
        )
    raise ValidationFailed(
        f"{key!r} is the external id of several devices (other protocols): give the id",
        {"device": key, "ids": list(ids)},
        text=TextCode.DEVICE_AMBIGUOUS,
        params={"device": key, "ids": list(ids)},
    )


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--since must be an ISO 8601 time, got {value!r}", EXIT_USAGE)
    if parsed.tzinfo is None:
        fail("--since needs a time zone, e.g. 2026-11-25T08:00:00+08:00", EXIT_USAGE)
    return parsed


@events_app.command("list")
def list_events(
    db: DbOption = None,
    device: Annotated[
        str | None,
        typer.Option("--device", help="A registered device: its id, code or external id."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only events received at/after this time.")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this event kind.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (newest).")] = 50,
    event_log: EventLogOption = None,
    stream: StreamOption = None,
    as_json: JsonOption = False,
) -> None:
    """List stored device events, newest first."""
    from firegrid.ingest.log import find_events

    settings = _settings(db, event_log)
    with open_database(settings.database_url) as database:
        device_id = resolve_device(database, device) if device is not None else None
        events = run_service(
            find_events(
                settings,
                database,
                device_id=device_id,
                since=_parse_time(since),
                kind=kind,
                limit=limit,
                stream=stream,
            )
        )
    if as_json:
        typer.echo(json.dumps(events, ensure_ascii=False, indent=2, default=str))
        return
    for e in events:
        typer.echo(
            f"{e['offset']:>8}  {e['received_at']}  {e['kind']:<13} device={e['device_id']} "
            f"{e['protocol']}:{e['external_id']}  {e['component'].get('description', '')}"
        )


@simulate_app.command("devices")
def simulate_devices(
    target: Annotated[
        str, typer.Option("--target", help="HOST:PORT (gb26875, mqtt) or base URL (http).")
    ],
    db: DbOption = None,
    protocol: Annotated[str, typer.Option(help="gb26875, mqtt or http.")] = "gb26875",
    count: Annotated[int, typer.Option(help="How many devices to drive.")] = 10,
    rate: Annotated[float, typer.Option(help="Messages per second, all devices together.")] = 100,
    duration: Annotated[float, typer.Option(help="Seconds to send for.")] = 10,
    fire_ratio: Annotated[float, typer.Option(help="Share of fire alarms.")] = 0.01,
    heartbeat_ratio: Annotated[float, typer.Option(help="Share of heartbeats.")] = 0.3,
    storm_every: Annotated[
        float, typer.Option(help="Every N s every device sends at once (0 = never).")
    ] = 0.0,
    operator_answer_ratio: Annotated[
        float, typer.Option(help="Share of check posts a simulated operator answers.")
    ] = 0.9,
    operator_delay: Annotated[
        float, typer.Option(help="Seconds before the simulated operator answers a check post.")
    ] = 1.0,
    numbered: Annotated[
        bool, typer.Option(help="Send a numbered stream (component address = sequence).")
    ] = False,
    register: Annotated[
        bool, typer.Option(help="Register simulated devices first if there are too few.")
    ] = False,
    retransmit: Annotated[float, typer.Option(help="Retransmit after (s).")] = 3.0,
    drain: Annotated[float, typer.Option(help="Wait this long for last confirms (s).")] = 15.0,
    integration: Annotated[str, typer.Option(help="HTTP push integration name.")] = "simulator",
    confirmed_out: Annotated[
        str | None, typer.Option(help="Write confirmed sequence numbers (JSON) here.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    quiet: QuietOption = False,
) -> None:
    """Drive registered devices over a real protocol; print JSON stats."""
    from firegrid.ingest.simulate import SimOptions, run_simulation

    settings = _settings(db)
    options = SimOptions(
        target=target,
        protocol=protocol,
        count=count,
        rate=rate,
        duration_s=duration,
        fire_ratio=fire_ratio,
        heartbeat_ratio=heartbeat_ratio,
        numbered=numbered,
        retransmit_s=retransmit,
        drain_s=drain,
        seed=seed,
        integration=integration,
        storm_every_s=storm_every,
        operator_answer_ratio=operator_answer_ratio,
        operator_delay_s=operator_delay,
    )
    with (
        open_database(settings.database_url) as database,
        progress(f"driving {count} {protocol} devices for {duration:g} s", quiet=quiet),
    ):
        stats = run_service(run_simulation(database, options, register=register))
    if confirmed_out:
        with open(confirmed_out, "w", encoding="utf-8") as handle:
            json.dump(stats.confirmed_numbers, handle)
    typer.echo(json.dumps(stats.summary(), indent=2))
    sys.stdout.flush()


if __name__ == "__main__":  # ``python -m firegrid.ingest.cli run ...`` (tests, no mount needed)
    ingest_app()
