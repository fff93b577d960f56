"""A switch simulator (``firegrid link110 switch``): it plays the fire command centre's
switch adapter against firegrid's telephony seam — call events for a number of calls
(offered, answered, released; some transferred to 110) and answers to the remote seat's
requests (monitor, barge in, release: answered ``done``; a release also ends the call)."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx


@dataclass
class SwitchSimulator:
    target: str
    api_key: str
    seed: int | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.client = httpx.Client(
            base_url=self.target.rstrip("/"), headers={"X-API-Key": self.api_key}, timeout=10
        )

    def event(self, call_id: str, event: str, **values: Any) -> dict[str, Any]:
        body = {"event": event, "call_id": call_id, "at": datetime.now(UTC).isoformat(), **values}
        response = self.client.post("/api/v1/telephony/events", json=body)
        answer = {"status": response.status_code, "body": response.json()}
        self.sent.append({"request": body, **answer})
        return answer

    def call(self, lon: float, lat: float, *, transfer: bool = False) -> str:
        """One call: offered (with its network location), answered, then maybe transferred."""
        call_id = uuid.uuid4().hex[:16]
        number = f"139{self.random.randrange(10**8):08d}"
        self.event(call_id, "offered", caller_number=number, trunk="119-1", lon=lon, lat=lat)
        self.event(call_id, "answered", seat=f"seat-{self.random.randrange(1, 9)}")
        if transfer:
            self.event(call_id, "transferred", transferred_to="110")
        return call_id

    def answer_requests(self) -> int:
        """Carry out the pending seat requests (a release ends the call); how many."""
        pending = self.client.get("/api/v1/telephony/requests").json()["items"]
        for request in pending:
            self.client.post(
                f"/api/v1/telephony/requests/{request['id']}/answer", json={"outcome": "done"}
            )
        return len(pending)

    def run(self, calls: int, interval_s: float, bbox: tuple[float, float, float, float]) -> None:
        for _ in range(calls):
            lon = self.random.uniform(bbox[0], bbox[2])
            lat = self.random.uniform(bbox[1], bbox[3])
            self.call(lon, lat, transfer=self.random.random() < 0.1)
            self.answer_requests()
            time.sleep(interval_s)
