"""A 110 centre simulator (``firegrid link110 peer``): it receives firegrid's EIDO,
acknowledges them or, by flags, drops, delays or duplicates them, and sends transfers and
follow-ups to firegrid (duplicated or reordered by the same flags), so a demo shows both
sides and tests can break the link.

Receiving (``POST /eido``): the signature is checked with the peer's secret; a message is
applied once by its id (a duplicate is acknowledged, not applied again), and by incident
only when its ``lastUpdateTimeStamp`` is newer than the last applied (an older one is
counted ``stale``). ``GET /state`` shows what arrived.

Sending (``POST /send/transfer``, ``POST /send/followup``): an EIDO as a 110 centre writes
it, signed, with the link API key, to ``<target>/api/v1/link110/eido``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request

from firegrid.interop.eido import pidf_point
from firegrid.links.simulator import Faults as LinkFaults
from firegrid.links.simulator import SimulatedPeer
from firegrid.links.simulator import simulator_app as link_simulator_app

CENTRE_AGENCY = "110.centre.example"


@dataclass
class Faults(LinkFaults):
    reorder: float = 0.0  # share of outgoing follow-ups sent before the one preceding them


@dataclass
class Received:
    """What the simulated centre holds of one incident."""

    last_update: datetime
    applied: int = 0
    status: str = ""
    units: int = 0
    transfers: int = 0
    timestamps: list[str] = field(default_factory=list)


@dataclass
class PeerState:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    dropped: int = 0
    stale: int = 0
    bad_signatures: int = 0
    messages: dict[str, int] = field(default_factory=dict)  # message id -> times applied
    incidents: dict[str, Received] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "dropped": self.dropped,
            "stale": self.stale,
            "bad_signatures": self.bad_signatures,
            "messages": dict(self.messages),
            "incidents": {
                k: {
                    "last_update": v.last_update.isoformat(),
                    "applied": v.applied,
                    "status": v.status,
                    "units": v.units,
                    "transfers": v.transfers,
                    "timestamps": list(v.timestamps),
                }
                for k, v in self.incidents.items()
            },
            "sent": list(self.sent),
        }


class PeerSimulator(SimulatedPeer[Faults, PeerState]):
    """The simulated centre: its faults, its state, and its sending side."""

    default_peer_id = "dg110"
    send_path = "/api/v1/link110/eido"
    faults_type = Faults
    state_type = PeerState

    # receiving -----------------------------------------------------------------------

    def handle(self, message_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.state.received += 1
            if self.random.random() < self.faults.drop:
                self.state.dropped += 1
                return 503, {"error": {"code": "dropped", "message": "simulated loss"}}
            for _ in range(self.times_to_handle()):
                self._apply(message_id, json.loads(body))
        return 200, {"ack": message_id}

    def _apply(self, message_id: str, document: dict[str, Any]) -> None:
        if message_id in self.state.messages:
            self.state.duplicates += 1
            return
        self.state.messages[message_id] = 1
        incident_id = str(document["$id"])
        updated = datetime.fromisoformat(document["lastUpdateTimeStamp"])
        seen = self.state.incidents.get(incident_id)
        if seen is not None and updated < seen.last_update:
            self.state.stale += 1
            return
        if seen is None:
            seen = Received(last_update=updated)
            self.state.incidents[incident_id] = seen
        component = document.get("incidentComponent") or {}
        seen.last_update = updated
        seen.applied += 1
        seen.status = next(iter(component.get("incidentStatusInternalText") or []), "")
        seen.units = len(document.get("emergencyResourceComponent") or [])
        roles = [
            r for a in document["agencyComponent"] for r in a["agencyRoleDescriptionRegistryText"]
        ]
        if "TransferredTo" in roles:
            seen.transfers += 1
        seen.timestamps.append(updated.isoformat())
        self.state.applied += 1

    # sending -------------------------------------------------------------------------

    def police_eido(
        self,
        remote_id: str,
        *,
        incident_type: str = "FSTRU",
        lon: float | None = None,
        lat: float | None = None,
        address: str = "",
        notes: list[tuple[str, str]] | None = None,
        caller_number: str = "",
        updated_at: datetime | None = None,
        fire_agency: str = "",
        status: str = "",
    ) -> dict[str, Any]:
        """An EIDO as a 110 centre writes it (``notes``: ``(note id, text)``; ``status``:
        an EIDO incident status, e.g. ``Closed``)."""
        at = (updated_at or datetime.now(UTC)).isoformat()
        by = {"$ref": CENTRE_AGENCY}

        def pro(cid: str) -> dict[str, Any]:
            return {"$id": cid, "lastUpdateTimeStamp": at, "updatedByAgencyReference": by}

        location: dict[str, Any] = {
            **pro(f"{remote_id}:loc"),
            "locationTypeDescriptionRegistryText": "CurrentIncident",
            "locationDescriptionText": address,
        }
        if lon is not None and lat is not None:
            location["locationByValue"] = pidf_point(lon, lat, remote_id)
        agencies = [
            {
                **pro(CENTRE_AGENCY),
                "agencyRoleDescriptionRegistryText": ["CallReceiving"],
                "agencyType": ["police"],
                "incidentOwningAgencyIndicator": True,
            }
        ]
        if fire_agency:
            agencies.append(
                {
                    **pro(fire_agency),
                    "agencyRoleDescriptionRegistryText": ["TransferredTo"],
                    "agencyType": ["fire"],
                }
            )
        note_items = [
            {**pro(f"{remote_id}:note:{nid}"), "notesActionComments": text}
            for nid, text in notes or []
        ]
        document: dict[str, Any] = {
            **pro(remote_id),
            "eidoVersion": "1.0",
            "issuingElementIdentification": f"simulator.{self.peer_id}",
            "agencyComponent": agencies,
            "incidentComponent": {
                **pro(f"{remote_id}:incident"),
                "incidentTypeCommonRegistryText": incident_type,
                "locationReference": [{"$ref": f"{remote_id}:loc"}],
                "notesReference": [{"$ref": n["$id"]} for n in note_items],
                **({"incidentStatusCommonRegistryText": [status]} if status else {}),
            },
            "callComponent": [
                {
                    **pro(f"{remote_id}:call"),
                    "callStateRegistryText": "callTransferred",
                    "standardPrimaryCallType": "emergency",
                    "direction": "incoming",
                    "callStartTimestamp": at,
                }
            ],
            "locationComponent": [location],
            "notesComponent": note_items,
        }
        if caller_number:
            document["callbackComponent"] = [
                {**pro(f"{remote_id}:cb"), "callBackInformationUri": [f"tel:{caller_number}"]}
            ]
            document["callComponent"][0]["callBackReference"] = {"$ref": f"{remote_id}:cb"}
        return document

    def send_followups(self, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send follow-ups in order, except that with the reorder fault a follow-up may
        be sent before the one preceding it (firegrid must apply by timestamp)."""
        order = list(documents)
        for i in range(1, len(order)):
            if self.random.random() < self.faults.reorder:
                order[i - 1], order[i] = order[i], order[i - 1]
        answers: list[dict[str, Any]] = []
        for document in order:
            answers += self.send(document)
        return answers


def simulator_app(sim: PeerSimulator) -> FastAPI:
    """The simulator's HTTP side."""
    app = link_simulator_app(
        sim, title="firegrid 110 peer simulator", receive_path="/eido", receive_name="eido"
    )

    @app.post("/send/transfer")
    async def send_transfer(request: Request) -> dict[str, Any]:
        values = await request.json()
        remote_id = (
            values.get("remote_id")
            or f"urn:emergency:uid:incidentid:{uuid.uuid4().hex[:12]}:{CENTRE_AGENCY}"
        )
        document = sim.police_eido(
            remote_id,
            incident_type=values.get("incident_type", "FSTRU"),
            lon=values.get("lon"),
            lat=values.get("lat"),
            address=values.get("address", ""),
            notes=[(str(i), n) for i, n in enumerate(values.get("notes", []))],
            caller_number=values.get("caller_number", ""),
            fire_agency=values.get("fire_agency", ""),
        )
        answers = await asyncio.to_thread(sim.send, document)
        return {"remote_id": remote_id, "answers": answers}

    @app.post("/send/followup")
    async def send_followup(request: Request) -> dict[str, Any]:
        values = await request.json()
        document = sim.police_eido(
            values["remote_id"],
            incident_type=values.get("incident_type", "FSTRU"),
            lon=values.get("lon"),
            lat=values.get("lat"),
            address=values.get("address", ""),
            notes=[(str(values.get("note_id", uuid.uuid4().hex[:8])), values.get("note", ""))],
        )
        answers = await asyncio.to_thread(sim.send, document)
        return {"remote_id": values["remote_id"], "answers": answers}

    return app
