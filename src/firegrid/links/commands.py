"""What every link's commands share (``firegrid link110|gridlink …``, ``firegrid sharing
webhooks …``): parsing a simulator's listen address and fault shares, printing a link's
health, running its worker until SIGINT/SIGTERM, sending a dead letter again, and the
simulated peer's options, peer lookup, announcement and server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlparse

import typer

from firegrid.core.cli import EXIT_USAGE, emit, fail, open_database, progress, resolve_settings
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.links.peers import LinkConfig, Peer

if TYPE_CHECKING:
    from fastapi import FastAPI

#: a link's worker: relay and deliver until the event is set
LinkRunner = Callable[[Database, Settings, asyncio.Event], Awaitable[None]]
#: a link's configuration from the settings (``firegrid.<context>.config.link_config``)
LinkConfigLoader = Callable[[Settings], LinkConfig]

# The options and argument every link's commands declare alike.
OutboxIdArgument = Annotated[int, typer.Argument(help="Id of the dead letter.")]
DropOption = Annotated[float, typer.Option(help="Share of messages left unacknowledged.")]
DelayOption = Annotated[float, typer.Option(help="Milliseconds before each acknowledgement.")]
DuplicateOption = Annotated[float, typer.Option(help="Share of messages handled/sent twice.")]
SeedOption = Annotated[int | None, typer.Option(help="Seed of the fault dice.")]


def host_port(value: str, option: str, example: str) -> tuple[str, int]:
    """``HOST:PORT`` of ``option`` (a usage error naming ``example`` otherwise)."""
    parsed = urlparse(value if "://" in value else f"tcp://{value}")
    try:
        port = parsed.port
    except ValueError:
        port = None
    if not parsed.hostname or port is None:
        fail(f"{option} must be HOST:PORT, got {value!r}", EXIT_USAGE, hint=f"e.g. {example}")
    return parsed.hostname, port


def share(value: float, option: str) -> float:
    """A fault share of ``option``, between 0 and 1."""
    if not 0.0 <= value <= 1.0:
        fail(f"{option} must lie between 0 and 1, got {value}", EXIT_USAGE)
    return value


def fault_shares(drop: float, delay: float, duplicate: float) -> dict[str, float]:
    """The faults every simulated peer has, checked: ``drop``, ``delay_ms``, ``duplicate``."""
    return {
        "drop": share(drop, "--drop"),
        "delay_ms": max(delay, 0.0),
        "duplicate": share(duplicate, "--duplicate"),
    }


def configured_peer(
    config: LinkConfig, peer_id: str, link_name: str, *, hint: str | None = None
) -> Peer:
    """The peer ``peer_id`` of ``config`` (a usage error naming ``link_name`` otherwise)."""
    configured = config.peer(peer_id)
    if configured is None:
        fail(f"no peer {peer_id!r} in the {link_name} configuration", EXIT_USAGE, hint=hint)
    return configured


def announce_simulator(url: str, peer_id: str, faults: object, **more: Any) -> None:
    """The simulator's first line, on stderr: where it listens, whom it plays, its faults."""
    typer.echo(
        json.dumps({"listening": url, "peer": peer_id, "faults": faults.__dict__, **more}),
        err=True,
    )


def serve_simulator(app: FastAPI, host: str, port: int) -> None:
    """Serve a simulated peer until Ctrl-C."""
    import uvicorn

    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(app, host=host, port=port, log_level="warning")


def show_link_status(db: str | None, load_config: LinkConfigLoader, as_json: bool) -> None:
    """Print the health of the link ``load_config`` configures (:func:`show_health`)."""
    from firegrid.links.health import link_health

    settings = resolve_settings(db)
    with open_database(db) as database, database.session() as session:
        health = link_health(session, load_config(settings))
    show_health(health, as_json)


def show_health(health: dict[str, Any], as_json: bool) -> None:
    """A link's health (:func:`firegrid.links.link_health`), one line a peer."""
    if as_json:
        emit(health, True)
        return
    for peer in health["peers"]:
        alert = peer["alert"]["cause"] if peer["alert"] else "none"
        typer.echo(
            f"{peer['peer']}: backlog {peer['backlog']}, last ack {peer['last_ack_at'] or '-'}, "
            f"failures {peer['failures']}, retries {peer['retries']}, "
            f"dead {peer['dead_letters']}, p99 {peer['p99_round_trip_ms'] or '-'} ms, "
            f"alert {alert}"
        )


def run_worker(db: str | None, runner: LinkRunner, what: str, *, quiet: bool) -> None:
    """Run a link's worker until SIGINT or SIGTERM, with the kit's progress line."""
    settings = resolve_settings(db)
    database = Database(settings.database_url)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await runner(database, settings, stop)

    try:
        with progress(what, quiet=quiet):
            asyncio.run(main())
    finally:
        database.dispose()


def retry_dead(db: str | None, link: str, outbox_id: int, as_json: bool) -> None:
    """Queue the dead letter ``outbox_id`` of ``link`` again (same idempotency key)."""
    from firegrid.links.outbox import message_dict, retry_dead_letter

    with open_database(db) as database, database.session() as session:
        row = message_dict(retry_dead_letter(session, link, outbox_id))
    emit(row, as_json)
