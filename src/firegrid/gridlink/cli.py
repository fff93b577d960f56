"""``firegrid gridlink status|run|retry|peer``: the link with the city grid platform."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Annotated

import typer

from firegrid.core.cli import (
    EXIT_USAGE,
    DbOption,
    JsonOption,
    QuietOption,
    command_group,
    fail,
    open_database,
    resolve_settings,
)
from firegrid.links.commands import host_port, retry_dead, run_worker, share, show_health

gridlink_app = command_group(
    "The link with the city grid platform (智网工程): status, the worker, a platform simulator."
)


def _host_port(value: str, option: str) -> tuple[str, int]:
    return host_port(value, option, "127.0.0.1:8120")


_share = share


@gridlink_app.command("status")
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Per peer: backlog, last acknowledgement, retries, failures, p99 round trip, alert."""
    from firegrid.gridlink.config import link_config
    from firegrid.links.health import link_health

    settings = resolve_settings(db)
    with open_database(db) as database, database.session() as session:
        health = link_health(session, link_config(settings))
    show_health(health, as_json)


@gridlink_app.command("run")
def run(db: DbOption = None, quiet: QuietOption = False) -> None:
    """Relay hazard and task changes to the grid platform and deliver them, until stopped."""
    from firegrid.gridlink.worker import run_gridlink

    run_worker(db, run_gridlink, "delivering to the grid platform", quiet=quiet)


@gridlink_app.command("retry")
def retry(
    outbox_id: Annotated[int, typer.Argument(help="Id of the dead letter.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a dead letter to the grid platform again (same idempotency key)."""
    from firegrid.gridlink.config import LINK

    retry_dead(db, LINK, outbox_id, as_json)


@gridlink_app.command("peer")
def peer(
    listen: Annotated[str, typer.Option(help="HOST:PORT the simulated platform listens on.")],
    target: Annotated[str, typer.Option(help="firegrid's base URL (for grid events).")],
    drop: Annotated[float, typer.Option(help="Share of messages left unacknowledged.")] = 0.0,
    delay: Annotated[float, typer.Option(help="Milliseconds before each acknowledgement.")] = 0.0,
    duplicate: Annotated[float, typer.Option(help="Share of messages handled/sent twice.")] = 0.0,
    peer_id: Annotated[
        str, typer.Option(help="Which configured peer this platform plays.")
    ] = "dggrid",
    api_key: Annotated[
        str,
        typer.Option(help="firegrid API key of the link (default: FIREGRID_GRIDLINK_API_KEY)."),
    ] = "",
    seed: Annotated[int | None, typer.Option(help="Seed of the fault dice.")] = None,
) -> None:
    """Run a grid-platform simulator: receive and acknowledge firegrid's hazards and tasks
    (or drop, delay, duplicate them), send grid events (POST /send/event; GET /state), and
    print a JSON line for each."""
    import uvicorn

    from firegrid.gridlink.config import link_config
    from firegrid.gridlink.peer_sim import Faults, GridPlatformSimulator, simulator_app

    host, port = _host_port(listen, "--listen")
    if not target.startswith(("http://", "https://")):
        fail(f"--target must be firegrid's http(s) base URL, got {target!r}", EXIT_USAGE)
    faults = Faults(
        drop=_share(drop, "--drop"),
        delay_ms=max(delay, 0.0),
        duplicate=_share(duplicate, "--duplicate"),
    )
    settings = resolve_settings(None)
    configured = link_config(settings).peer(peer_id)
    if configured is None:
        fail(
            f"no peer {peer_id!r} in the grid link configuration",
            EXIT_USAGE,
            hint="name a peer of FIREGRID_GRIDLINK_PEERS (or the packaged peers.yaml)",
        )
    sim = GridPlatformSimulator(
        configured.secret,
        peer_id=peer_id,
        target=target,
        api_key=api_key or os.environ.get("FIREGRID_GRIDLINK_API_KEY", ""),
        faults=faults,
        seed=seed,
        echo=True,
    )
    typer.echo(
        json.dumps(
            {"listening": f"http://{host}:{port}/grid", "peer": peer_id, "faults": faults.__dict__}
        ),
        err=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(simulator_app(sim), host=host, port=port, log_level="warning")
