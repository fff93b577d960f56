"""The simulated 110 centre's own traffic, for the demo: every ``every_s`` seconds a fire
call that reached 110 is transferred to 119 (at one of the given places), and half a period
later 110 sends a follow-up on it — so the demo shows the 110 → 119 direction without anyone
typing. The places are where 110 callers report fires: points with an address in the city
(``firegrid demo`` writes some of its venues), never a real person's data.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Problem
from firegrid.core.texts import TextCode
from firegrid.interop.peer_sim import CENTRE_AGENCY, PeerSimulator

log = logging.getLogger(__name__)

#: what 110 callers report, as the 110 centre writes it in its follow-ups
FOLLOW_UPS = (
    "报警人称有人被困三楼",
    "现场民警已到达，正在疏散群众",
    "报警人称火势已蔓延至隔壁商铺",
    "现场浓烟较大，已实施交通管制",
)


@dataclass(frozen=True)
class Place:
    lon: float
    lat: float
    address: str


def load_places(path: Path) -> list[Place]:
    """Places from a JSON-lines file of ``{"lon", "lat", "address"}`` objects."""
    places: list[Place] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ValidationFailed(
            f"cannot read the places file {path}: {err.strerror}",
            text=TextCode.FILE_UNREADABLE,
            params={"file": str(path)},
        ) from err
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            places.append(Place(float(raw["lon"]), float(raw["lat"]), str(raw.get("address", ""))))
        except (ValueError, KeyError, TypeError) as err:
            raise ValidationFailed(
                f"line {number} of {path} is not a place: need lon, lat and address",
                {"line": number},
                text=TextCode.FILE_LINE_INVALID,
                params={
                    "file": str(path),
                    "line": number,
                    "problem": Problem.LON_LAT_ADDRESS_MISSING,
                },
            ) from err
    if not places:
        raise ValidationFailed(
            f"the places file {path} holds no place",
            text=TextCode.VALIDATION_EMPTY,
            params={"field": str(path)},
        )
    return places


class CentreTraffic:
    """Transfers and follow-ups sent by the simulated centre on a timer (a thread)."""

    def __init__(
        self,
        sim: PeerSimulator,
        places: list[Place],
        every_s: float,
        *,
        fire_agency: str = "",
        seed: int | None = None,
    ) -> None:
        self.sim = sim
        self.places = places
        self.every_s = every_s
        self.fire_agency = fire_agency
        self.random = random.Random(seed)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="centre-traffic", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)

    def _run(self) -> None:
        while not self.stop.wait(self.every_s / 2):
            remote_id = self.transfer()
            if remote_id and not self.stop.wait(self.every_s / 2):
                self.follow_up(remote_id)

    def transfer(self) -> str:
        """One fire call transferred to 119; the 110 incident id (empty when refused)."""
        place = self.random.choice(self.places)
        remote_id = f"urn:emergency:uid:incidentid:{uuid.uuid4().hex[:12]}:{CENTRE_AGENCY}"
        document = self.sim.police_eido(
            remote_id,
            lon=place.lon,
            lat=place.lat,
            address=place.address,
            notes=[("0", "110 接警：报警人称看到明火和浓烟")],
            caller_number=f"139{self.random.randrange(10**8):08d}",
            fire_agency=self.fire_agency,
        )
        return remote_id if self._send(document, "transfer") else ""

    def follow_up(self, remote_id: str) -> None:
        note = self.random.choice(FOLLOW_UPS)
        document = self.sim.police_eido(remote_id, notes=[(uuid.uuid4().hex[:8], note)])
        self._send(document, "follow-up")

    def _send(self, document: dict[str, Any], what: str) -> bool:
        try:
            answers = self.sim.send(document)
        except Exception as err:  # noqa: BLE001 - the demo's firegrid may not be up yet
            log.warning("the simulated 110 centre could not send a %s: %s", what, err)
            return False
        ok = any(200 <= int(a["status"]) < 300 for a in answers)
        if not ok:
            log.warning("firegrid refused the simulated %s: %s", what, answers[-1]["body"])
        return ok
