"""A city grid-platform simulator (``firegrid gridlink peer``): it receives firegrid's hazard
and task messages, checks them against the schema, acknowledges them or, by flags, drops,
delays or duplicates them, and sends grid events (入格事项) to firegrid, printing a line
for everything it gets.

Receiving (``POST /grid``): the signature is checked with the peer's secret; a message is
applied once by its id (a duplicate is acknowledged, not applied again), and per item only
when its ``updated_at`` is newer than the last applied (else counted ``stale``). ``GET
/state`` shows what arrived.

Sending (``POST /send/event``): a grid event (the fields of docs/gridlink.md; ``event_id``
and ``updated_at`` filled in when missing), signed, with the link API key, to
``<target>/api/v1/gridlink/events``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request

from firegrid.gridlink.messages import SCHEMA_NAME, problems_of
from firegrid.links.simulator import Faults, SimulatedPeer
from firegrid.links.simulator import simulator_app as link_simulator_app

__all__ = ["Faults", "GridPlatformSimulator", "Item", "PlatformState", "simulator_app"]


@dataclass
class Item:
    """What the simulated platform holds of one hazard or task of firegrid's."""

    updated_at: datetime
    status: str
    actions: list[str] = field(default_factory=list)
    event_id: str | None = None


@dataclass
class PlatformState:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    dropped: int = 0
    stale: int = 0
    invalid: int = 0
    bad_signatures: int = 0
    messages: dict[str, int] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)  # "hazard:12" -> item
    sent: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "dropped": self.dropped,
            "stale": self.stale,
            "invalid": self.invalid,
            "bad_signatures": self.bad_signatures,
            "messages": dict(self.messages),
            "items": {
                key: {
                    "updated_at": item.updated_at.isoformat(),
                    "status": item.status,
                    "actions": list(item.actions),
                    "event_id": item.event_id,
                }
                for key, item in self.items.items()
            },
            "sent": list(self.sent),
        }


class GridPlatformSimulator(SimulatedPeer[Faults, PlatformState]):
    """The simulated grid platform: its faults, its state, and its sending side."""

    default_peer_id = "dggrid"
    send_path = "/api/v1/gridlink/events"
    faults_type = Faults
    state_type = PlatformState

    # receiving -----------------------------------------------------------------------

    def handle(self, message_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        problems = problems_of(document)
        with self.lock:
            self.state.received += 1
            if problems:
                self.state.invalid += 1
                self.print_line({"invalid": message_id, "problems": problems[:3]})
                return 400, {"error": {"code": "invalid", "message": problems[0]}}
            if self.random.random() < self.faults.drop:
                self.state.dropped += 1
                self.print_line({"dropped": message_id})
                return 503, {"error": {"code": "dropped", "message": "simulated loss"}}
            for _ in range(self.times_to_handle()):
                self._apply(message_id, document)
        return 200, {"ack": message_id}

    def _apply(self, message_id: str, document: dict[str, Any]) -> None:
        if message_id in self.state.messages:
            self.state.duplicates += 1
            return
        self.state.messages[message_id] = 1
        key = f"{document['type']}:{document['id']}"
        updated = datetime.fromisoformat(document["updated_at"])
        seen = self.state.items.get(key)
        if seen is not None and updated < seen.updated_at:
            self.state.stale += 1
            return
        if seen is None:
            seen = Item(updated_at=updated, status=document["status"])
            self.state.items[key] = seen
        seen.updated_at = updated
        seen.status = document["status"]
        seen.event_id = document.get("event_id")
        seen.actions.append(document["action"])
        self.state.applied += 1
        self.print_line(
            {
                "received": key,
                "action": document["action"],
                "status": document["status"],
                "event_id": document.get("event_id"),
                "message_id": message_id,
            }
        )

    # sending -------------------------------------------------------------------------

    def grid_event(self, values: dict[str, Any]) -> dict[str, Any]:
        """A grid event as the platform writes it (missing id and time filled in)."""
        document = {k: v for k, v in values.items() if v is not None}
        document.setdefault("schema", SCHEMA_NAME)
        document.setdefault("type", "grid_event")
        document.setdefault("event_id", f"GE-{uuid.uuid4().hex[:12]}")
        document.setdefault("category", "hazard")
        document.setdefault("status", "open")
        document.setdefault("updated_at", datetime.now(UTC).isoformat())
        return document

    def after_send(self, document: dict[str, Any], message_id: str, answer: dict[str, Any]) -> None:
        self.print_line({"sent": document["event_id"], "message_id": message_id, **answer})


def simulator_app(sim: GridPlatformSimulator) -> FastAPI:
    """The simulator's HTTP side."""
    app = link_simulator_app(
        sim, title="firegrid grid-platform simulator", receive_path="/grid", receive_name="grid"
    )

    @app.post("/send/event")
    async def send_event(request: Request) -> dict[str, Any]:
        values = await request.json()
        message_id = values.pop("message_id", None)
        document = sim.grid_event(values)
        answers = await asyncio.to_thread(sim.send, document, message_id=message_id)
        return {"event_id": document["event_id"], "answers": answers}

    return app
