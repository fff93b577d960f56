"""``firegrid link110 …`` (the 110 link) and ``firegrid incidents eido ID``."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated

import typer

from firegrid.core.cli import (
    EXIT_USAGE,
    DbOption,
    JsonOption,
    QuietOption,
    emit,
    fail,
    resolve_settings,
)
from firegrid.links import commands as link

link110_app = typer.Typer(
    help="The 110 ↔ 119 link (NENA EIDO): status, the delivery worker, a 110 peer simulator.",
    no_args_is_help=True,
)


@link110_app.command("status")
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Per peer: backlog, last acknowledgement, retries, failures, p99 round trip, alert."""
    from firegrid.interop.config import link_config

    link.show_link_status(db, link_config, as_json)


@link110_app.command("run")
def run(db: DbOption = None, quiet: QuietOption = False) -> None:
    """Relay incident changes to the 110 outbox and deliver it, until stopped."""
    from firegrid.interop.worker import run_link110

    link.run_worker(db, run_link110, "delivering to the 110 centres", quiet=quiet)


@link110_app.command("retry")
def retry(
    outbox_id: link.OutboxIdArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Send a dead letter again (same idempotency key)."""
    from firegrid.interop.config import LINK

    link.retry_dead(db, LINK, outbox_id, as_json)


@link110_app.command("peer")
def peer(
    listen: Annotated[str, typer.Option(help="HOST:PORT the simulated 110 centre listens on.")],
    target: Annotated[
        str, typer.Option(help="firegrid's base URL (for transfers and follow-ups).")
    ],
    drop: link.DropOption = 0.0,
    delay: link.DelayOption = 0.0,
    duplicate: link.DuplicateOption = 0.0,
    reorder: Annotated[float, typer.Option(help="Share of follow-ups sent out of order.")] = 0.0,
    peer_id: Annotated[
        str, typer.Option(help="Which configured peer this centre plays.")
    ] = "dg110",
    api_key: Annotated[
        str,
        typer.Option(help="firegrid API key of the link (default: FIREGRID_LINK110_API_KEY)."),
    ] = "",
    seed: link.SeedOption = None,
    transfer_every: Annotated[
        float,
        typer.Option(
            help="Seconds between fire calls the centre transfers to 119 on its own, each "
            "followed by a follow-up half a period later (0: only on request).",
        ),
    ] = 0.0,
    places: Annotated[
        Path | None,
        typer.Option(
            help="JSON-lines file of places ({lon, lat, address}) where those calls are "
            "(needed with --transfer-every).",
        ),
    ] = None,
) -> None:
    """Run a 110 centre simulator: receive, acknowledge (or drop, delay, duplicate), and
    send transfers and follow-ups (POST /send/transfer, /send/followup; GET /state)."""
    from firegrid.interop.config import link_config, owner_agency
    from firegrid.interop.peer_sim import Faults, PeerSimulator, simulator_app
    from firegrid.interop.peer_traffic import CentreTraffic, load_places

    host, port = link.host_port(listen, "--listen", "127.0.0.1:8110")
    faults = Faults(
        **link.fault_shares(drop, delay, duplicate), reorder=link.share(reorder, "--reorder")
    )
    settings = resolve_settings(None)
    configured = link.configured_peer(link_config(settings), peer_id, "110 link")
    sim = PeerSimulator(
        configured.secret,
        peer_id=peer_id,
        target=target,
        api_key=api_key or os.environ.get("FIREGRID_LINK110_API_KEY", ""),
        faults=faults,
        seed=seed,
    )
    traffic = None
    if transfer_every < 0:
        fail("--transfer-every must be 0 or more seconds", EXIT_USAGE)
    if transfer_every > 0:
        if places is None:
            fail("--transfer-every needs --places", EXIT_USAGE, hint="a JSON-lines file of places")
        traffic = CentreTraffic(
            sim,
            load_places(places),
            transfer_every,
            fire_agency=owner_agency(settings).id,
            seed=seed,
        )
    link.announce_simulator(
        f"http://{host}:{port}/eido", peer_id, faults, transfer_every_s=transfer_every
    )
    if traffic is not None:
        traffic.start()
    try:
        link.serve_simulator(simulator_app(sim), host, port)
    finally:
        if traffic is not None:
            traffic.close()


@link110_app.command("switch")
def switch(
    target: Annotated[str, typer.Option(help="firegrid's base URL.")],
    calls: Annotated[int, typer.Option(help="How many calls to place.")] = 10,
    interval: Annotated[float, typer.Option(help="Seconds between calls.")] = 2.0,
    bbox: Annotated[
        str, typer.Option(help="Where callers are: LON0,LAT0,LON1,LAT1 (WGS-84).")
    ] = "113.60,22.90,114.10,23.10",
    api_key: Annotated[
        str, typer.Option(help="API key with telephony:events (default: FIREGRID_SWITCH_API_KEY).")
    ] = "",
    seed: Annotated[int | None, typer.Option(help="Seed of the simulated traffic.")] = None,
) -> None:
    """Simulate the fire command centre's switch: call events (offered, answered, some
    transferred) and answers to the remote seat's monitor / barge-in / release requests."""
    from firegrid.interop.switch_sim import SwitchSimulator

    try:
        box = tuple(float(v) for v in bbox.split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        fail(f"--bbox must be LON0,LAT0,LON1,LAT1, got {bbox!r}", EXIT_USAGE)
    key = api_key or os.environ.get("FIREGRID_SWITCH_API_KEY", "")
    if not key:
        fail("an API key is needed", EXIT_USAGE, hint="--api-key or FIREGRID_SWITCH_API_KEY")
    sim = SwitchSimulator(target, key, seed)
    with contextlib.suppress(KeyboardInterrupt):
        sim.run(calls, interval, (box[0], box[1], box[2], box[3]))
    emit({"events": len(sim.sent), "refused": sum(1 for s in sim.sent if s["status"] >= 400)}, True)


def eido_command(
    incident_id: Annotated[int, typer.Argument(help="Id of the incident.")],
    db: DbOption = None,
) -> None:
    """Print the incident as an EIDO JSON document (NENA-STA-021.1)."""
    from firegrid.core.db import Database
    from firegrid.dispatch.public import Incident
    from firegrid.interop.config import link_config
    from firegrid.interop.relay import incident_eido

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                fail(f"no incident {incident_id}", EXIT_USAGE, hint="check the id in the console")
            config = link_config(settings)
            document = incident_eido(
                session, settings, incident, config.peer_for_path(incident.jurisdiction_path)
            )
    finally:
        database.dispose()
    emit(document, True)
