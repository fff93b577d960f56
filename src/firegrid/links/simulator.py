"""What every simulated link peer shares (``firegrid link110 peer``, ``firegrid gridlink
peer``): the fault dice, the signature check of what it receives, signed sending to
firegrid (twice with the duplicate fault), and the HTTP side's receive, ``GET /state`` and
``POST /faults`` routes. A context's simulator adds what it holds of the messages and what
it sends."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import sys
import threading
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from firegrid.core.errors import DomainError
from firegrid.links import signing


@dataclass
class Faults:
    drop: float = 0.0  # share of received messages left unacknowledged (HTTP 503)
    delay_ms: float = 0.0  # wait before each acknowledgement
    duplicate: float = 0.0  # share of messages processed twice / sent twice


class SimulatorState(Protocol):
    """What a simulated peer's state has to offer the shared parts."""

    bad_signatures: int
    sent: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]: ...


FaultsT = TypeVar("FaultsT", bound=Faults)
StateT = TypeVar("StateT", bound=SimulatorState)


class SimulatedPeer(Generic[FaultsT, StateT]):
    """A simulated peer: its secret, faults and state; a subclass names the configured peer
    it plays by default, the firegrid route it sends to and the types of its faults and
    state, and handles what arrives signed (:meth:`handle`). ``echo``: print a JSON line for
    what it prints (:meth:`print_line`)."""

    default_peer_id: ClassVar[str]
    send_path: ClassVar[str]  # on firegrid, e.g. "/api/v1/link110/eido"
    faults_type: type[FaultsT]  # made with no arguments: no faults
    state_type: type[StateT]  # made with no arguments: nothing received yet

    def __init__(
        self,
        secret: bytes,
        *,
        peer_id: str | None = None,
        target: str = "",
        api_key: str = "",
        faults: FaultsT | None = None,
        seed: int | None = None,
        echo: bool = False,
    ) -> None:
        self.secret = secret
        self.peer_id = self.default_peer_id if peer_id is None else peer_id
        self.target = target.rstrip("/")
        self.api_key = api_key
        self.faults = self.faults_type() if faults is None else faults
        self.state = self.state_type()
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.echo = echo

    def receive(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """Check the signature (HTTP 401 when it is not the peer's, counted as a bad
        signature), then :meth:`handle` the message; ``(status, answer)``."""
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
        return self.handle(headers.get(signing.MESSAGE_HEADER.lower(), ""), body)

    def handle(self, message_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """A signed message: maybe drop it, apply it once; ``(status, answer)``."""
        raise NotImplementedError

    def print_line(self, line: dict[str, Any]) -> None:
        """Print ``line`` as JSON on stdout when the simulator echoes."""
        if self.echo:
            print(json.dumps(line, ensure_ascii=False, default=str), file=sys.stdout, flush=True)

    def times_to_handle(self) -> int:
        """2 when the duplicate fault strikes, else 1 (the dice are thrown once)."""
        return 2 if self.random.random() < self.faults.duplicate else 1

    def send(
        self, document: dict[str, Any], *, message_id: str | None = None
    ) -> list[dict[str, Any]]:
        """POST ``document`` to firegrid (twice with the duplicate fault); the answers."""
        if not self.target:
            raise ValueError("the simulator has no --target to send to")
        body = json.dumps(document, ensure_ascii=False).encode()
        message_id = message_id or uuid.uuid4().hex
        times = self.times_to_handle()
        answers = []
        for _ in range(times):
            headers = signing.signed_headers(self.secret, self.peer_id, message_id, body)
            if self.api_key:
                headers["X-API-Key"] = self.api_key
            response = httpx.post(
                f"{self.target}{self.send_path}", content=body, headers=headers, timeout=10
            )
            answer = {"status": response.status_code, "body": _json(response)}
            answers.append(answer)
            with self.lock:
                self.state.sent.append({"message_id": message_id, **answer})
            self.after_send(document, message_id, answer)
        return answers

    def after_send(self, document: dict[str, Any], message_id: str, answer: dict[str, Any]) -> None:
        """Called after each POST of :meth:`send` (a simulator that prints overrides it)."""


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:300]


def simulator_app(
    sim: SimulatedPeer[FaultsT, StateT], *, title: str, receive_path: str, receive_name: str
) -> FastAPI:
    """The simulator's HTTP side: ``POST receive_path`` (firegrid's messages, acknowledged
    after the delay fault), ``GET /state`` and ``POST /faults``; a context adds its sending
    routes."""
    app = FastAPI(title=title, docs_url=None, redoc_url=None)
    fault_names = [f.name for f in dataclasses.fields(sim.faults)]

    @app.post(receive_path, name=receive_name)
    async def receive(request: Request) -> JSONResponse:
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
        for name in fault_names:
            if name in values:
                setattr(sim.faults, name, float(values[name]))
        return sim.faults.__dict__

    return app
