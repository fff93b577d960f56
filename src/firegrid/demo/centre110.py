"""The demo's outside systems: ``firegrid demo`` starts their simulators beside the
platform, so its links work out of the box.

- ``firegrid link110 peer``, the district 110 centre: 119 incidents go to it and are
  acknowledged, and it transfers a fire call to 119 every few minutes (at one of the demo
  city's venues) with a follow-up on it;
- ``firegrid gridlink peer``, the city grid platform: the hazards and tasks firegrid sends
  are acknowledged (its grid events are sent on request: ``POST /send/event``).

Only for the packaged peers files (the demo's own peers on 127.0.0.1): with a peers file of
real systems nothing is simulated. Each simulator gets an API key of its own, limited to its
link's routes (the previous demo key is revoked at each start, audited).
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy import select

from firegrid.accounts.models import ApiKey
from firegrid.accounts.public import system_principal
from firegrid.accounts.service import create_api_key, revoke_api_key
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.interop.config import link_config
from firegrid.links import Peer
from firegrid.places.models import Venue

KEY_NAME = "110 centre simulator (demo)"
PEER_ID = "dg110"
GRID_KEY_NAME = "grid platform simulator (demo)"
GRID_PEER_ID = "dggrid"
#: seconds between the simulated centre's own transfers to 119
TRANSFER_EVERY_S = 120.0
PLACES = 200


class CentreNotStarted(Exception):
    """Why the demo runs without its simulated 110 centre (said to the user, not raised)."""


def start_centre(settings: Settings, database: Database, api_url: str) -> subprocess.Popen[bytes]:
    """Start the simulated 110 centre; raises :class:`CentreNotStarted` with the reason."""
    if settings.link110_peers is not None:
        raise CentreNotStarted(
            "FIREGRID_LINK110_PEERS names your own 110 centres: no simulator is started"
        )
    address = _free_address(link_config(settings).peer(PEER_ID), PEER_ID, "110", "110 centre")
    places_file = _write_places(settings, database)
    key = _fresh_key(database, settings, KEY_NAME, "/api/v1/link110")
    extra = ["--transfer-every", str(TRANSFER_EVERY_S), "--places", str(places_file)]
    return _spawn(settings, "link110", "FIREGRID_LINK110_API_KEY", key, address, api_url, extra)


def start_grid_platform(
    settings: Settings, database: Database, api_url: str
) -> subprocess.Popen[bytes]:
    """Start the simulated city grid platform; raises :class:`CentreNotStarted`."""
    from firegrid.gridlink.config import link_config as grid_link_config

    if settings.gridlink_peers is not None:
        raise CentreNotStarted(
            "FIREGRID_GRIDLINK_PEERS names your own grid platform: no simulator is started"
        )
    peer = grid_link_config(settings).peer(GRID_PEER_ID)
    address = _free_address(peer, GRID_PEER_ID, "grid-link", "grid platform")
    key = _fresh_key(database, settings, GRID_KEY_NAME, "/api/v1/gridlink")
    return _spawn(settings, "gridlink", "FIREGRID_GRIDLINK_API_KEY", key, address, api_url, [])


def _free_address(peer: Peer | None, peer_id: str, link: str, what: str) -> tuple[str, int]:
    """Where the simulator of ``peer`` listens; :class:`CentreNotStarted` if it cannot."""
    if peer is None:
        raise CentreNotStarted(f"the packaged {link} peers file has no {peer_id!r}")
    url = urlparse(peer.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    if _in_use(host, port):
        raise CentreNotStarted(f"{host}:{port} is in use: the simulated {what} cannot listen")
    return host, port


def _spawn(
    settings: Settings,
    link: str,
    key_variable: str,
    key: str,
    address: tuple[str, int],
    api_url: str,
    extra: list[str],
) -> subprocess.Popen[bytes]:
    """``firegrid <link> peer`` listening at ``address`` and sending to ``api_url``."""
    env = {
        **os.environ,
        "FIREGRID_DATABASE_URL": settings.database_url,
        "FIREGRID_SECRET_KEY": settings.secret_key.get_secret_value(),
        key_variable: key,
        "FIREGRID_LOG_LEVEL": "WARNING",
    }
    host, port = address
    command = [sys.executable, "-m", "firegrid.cli", link, "peer", "--listen", f"{host}:{port}"]
    command += ["--target", api_url, *extra, "--seed", "7"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: S603 - our own CLI


def stop_centre(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()


def _in_use(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def _fresh_key(database: Database, settings: Settings, name: str, route: str) -> str:
    actor = system_principal("demo")
    with database.session() as session:
        previous = session.scalars(
            select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
        ).all()
        for key_id in previous:  # audited, like any revocation
            revoke_api_key(session, actor, key_id)
        return create_api_key(
            session,
            actor,
            name=name,
            role="integration",
            scope_code=settings.city_code,
            routes=[route],
        ).secret


def _write_places(settings: Settings, database: Database) -> Path:
    """Some venues of the city, as a 110 caller reports them (point and address)."""
    with database.session() as session:
        rows = session.execute(
            select(Venue.lon, Venue.lat, Venue.address, Venue.name)
            .where(Venue.address != "")
            .order_by(Venue.id)
            .limit(PLACES * 20)
        ).all()
    chosen = random.Random(7).sample(rows, min(PLACES, len(rows)))
    if not chosen:
        raise CentreNotStarted("the city has no venue with an address for 110 callers to report")
    path = settings.data_dir / "demo-110-places.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(
            json.dumps(
                {"lon": r.lon, "lat": r.lat, "address": f"{r.address}（{r.name}）"},
                ensure_ascii=False,
            )
            + "\n"
            for r in chosen
        ),
        encoding="utf-8",
    )
    return path
