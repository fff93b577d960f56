"""``firegrid gridlink status|run|retry|peer``: the link with the city grid platform."""

from __future__ import annotations

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
    resolve_settings,
)
from firegrid.links import commands as link

gridlink_app = command_group(
    "The link with the city grid platform (智网工程): status, the worker, a platform simulator."
)


@gridlink_app.command("status")
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Per peer: backlog, last acknowledgement, retries, failures, p99 round trip, alert."""
    from firegrid.gridlink.config import link_config

    link.show_link_status(db, link_config, as_json)


@gridlink_app.command("run")
def run(db: DbOption = None, quiet: QuietOption = False) -> None:
    """Relay hazard and task changes to the grid platform and deliver them, until stopped."""
    from firegrid.gridlink.worker import run_gridlink

    link.run_worker(db, run_gridlink, "delivering to the grid platform", quiet=quiet)


@gridlink_app.command("retry")
def retry(
    outbox_id: link.OutboxIdArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Send a dead letter to the grid platform again (same idempotency key)."""
    from firegrid.gridlink.config import LINK

    link.retry_dead(db, LINK, outbox_id, as_json)


@gridlink_app.command("peer")
def peer(
    listen: Annotated[str, typer.Option(help="HOST:PORT the simulated platform listens on.")],
    target: Annotated[str, typer.Option(help="firegrid's base URL (for grid events).")],
    drop: link.DropOption = 0.0,
    delay: link.DelayOption = 0.0,
    duplicate: link.DuplicateOption = 0.0,
    peer_id: Annotated[
        str, typer.Option(help="Which configured peer this platform plays.")
    ] = "dggrid",
    api_key: Annotated[
        str,
        typer.Option(help="firegrid API key of the link (default: FIREGRID_GRIDLINK_API_KEY)."),
    ] = "",
    seed: link.SeedOption = None,
) -> None:
    """Run a grid-platform simulator: receive and acknowledge firegrid's hazards and tasks
    (or drop, delay, duplicate them), send grid events (POST /send/event; GET /state), and
    print a JSON line for each."""
    from firegrid.gridlink.config import link_config
    from firegrid.gridlink.peer_sim import Faults, GridPlatformSimulator, simulator_app

    host, port = link.host_port(listen, "--listen", "127.0.0.1:8120")
    if not target.startswith(("http://", "https://")):
        fail(f"--target must be firegrid's http(s) base URL, got {target!r}", EXIT_USAGE)
    faults = Faults(**link.fault_shares(drop, delay, duplicate))
    configured = link.configured_peer(
        link_config(resolve_settings(None)),
        peer_id,
        "grid link",
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
    link.announce_simulator(f"http://{host}:{port}/grid", peer_id, faults)
    link.serve_simulator(simulator_app(sim), host, port)
