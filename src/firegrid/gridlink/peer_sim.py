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
import random
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from firegrid.core.errors import DomainError
from firegrid.gridlink.messages import SCHEMA_NAME, problems_of
from firegrid.links import signing


@dataclass
class Faults:
    drop: float = 0.0  # share of received messages left unacknowledged (HTTP 503)
    delay_ms: float = 0.0  # wait before each acknowledgement
    duplicate: float = 0.0  # share of messages processed twice / sent twice


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


class GridPlatformSimulator:
    """The simulated grid platform: its faults, its state, and its sending side."""

    def __init__(
        self,
        secret: bytes,
        *,
        peer_id: str = "dggrid",
        target: str = "",
        api_key: str = "",
        faults: Faults | None = None,
        seed: int | None = None,
        echo: bool = False,
    ) -> None:
        self.secret = secret
        self.peer_id = peer_id
        self.target = target.rstrip("/")
        self.api_key = api_key
        self.faults = faults or Faults()
        self.state = PlatformState()
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.echo = echo

    def _print(self, line: dict[str, Any]) -> None:
        if self.echo:
            print(json.dumps(line, ensure_ascii=False, default=str), file=sys.stdout, flush=True)

    # receiving -----------------------------------------------------------------------

    def receive(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """Check, maybe drop, apply once; ``(status, answer)``."""
        try:
            signing.verify(
                self.secret,
                headers.get(signing.TIMESTAMP_HEADER.lower()),
                headers.get(signing.SIGNATURE_HEADER.lower()),
                body,
            )
        except DomainError as err:
            with self.lock:
                self.state.bad_signatures += 1
            return 401, err.envelope()
        message_id = headers.get(signing.MESSAGE_HEADER.lower(), "")
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        problems = problems_of(document)
        with self.lock:
            self.state.received += 1
            if problems:
                self.state.invalid += 1
                self._print({"invalid": message_id, "problems": problems[:3]})
                return 400, {"error": {"code": "invalid", "message": problems[0]}}
            if self.random.random() < self.faults.drop:
                self.state.dropped += 1
                self._print({"dropped": message_id})
                return 503, {"error": {"code": "dropped", "message": "simulated loss"}}
            times = 2 if self.random.random() < self.faults.duplicate else 1
            for _ in range(times):
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
        self._print(
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

    def send(
        self, document: dict[str, Any], *, message_id: str | None = None
    ) -> list[dict[str, Any]]:
        """POST ``document`` to firegrid (twice with the duplicate fault); the answers."""
        if not self.target:
            raise ValueError("the simulator has no --target to send to")
        body = json.dumps(document, ensure_ascii=False).encode()
        message_id = message_id or uuid.uuid4().hex
        times = 2 if self.random.random() < self.faults.duplicate else 1
        answers = []
        for _ in range(times):
            headers = signing.signed_headers(self.secret, self.peer_id, message_id, body)
            if self.api_key:
                headers["X-API-Key"] = self.api_key
            response = httpx.post(
                f"{self.target}/api/v1/gridlink/events", content=body, headers=headers, timeout=10
            )
            answer = {"status": response.status_code, "body": _json(response)}
            answers.append(answer)
            with self.lock:
                self.state.sent.append({"message_id": message_id, **answer})
            self._print({"sent": document["event_id"], "message_id": message_id, **answer})
        return answers


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:300]


def simulator_app(sim: GridPlatformSimulator) -> FastAPI:
    """The simulator's HTTP side."""
    app = FastAPI(title="firegrid grid-platform simulator", docs_url=None, redoc_url=None)

    @app.post("/grid")
    async def grid(request: Request) -> JSONResponse:
        body = await request.body()
        status, answer = sim.receive({k.lower(): v for k, v in request.headers.items()}, body)
        if sim.faults.delay_ms > 0:  # applied at once, acknowledged late (or never)
            await asyncio.sleep(sim.faults.delay_ms / 1000.0)
        return JSONResponse(answer, status_code=status)

    @app.get("/state")
    def state() -> dict[str, Any]:
        with sim.lock:
            return sim.state.as_dict()

    @app.post("/faults")
    async def set_faults(request: Request) -> dict[str, Any]:
        values = await request.json()
        for name in ("drop", "delay_ms", "duplicate"):
            if name in values:
                setattr(sim.faults, name, float(values[name]))
        return sim.faults.__dict__

    @app.post("/send/event")
    async def send_event(request: Request) -> dict[str, Any]:
        values = await request.json()
        message_id = values.pop("message_id", None)
        document = sim.grid_event(values)
        answers = await asyncio.to_thread(sim.send, document, message_id=message_id)
        return {"event_id": document["event_id"], "answers": answers}

    return app
