"""MQTT adapter: subscribe through the broker, PUBACK only after the event is durable.

- Subscription ``firegrid/devices/+/+/events`` at QoS 1 (layout in :mod:`.codec`).
- Persistent session: a fixed client id and ``clean_session=False``, so the broker keeps
  the subscription and queues QoS 1 messages while ingest is down, then redelivers them.
- Manual acknowledgement: aiomqtt 2.x has no public switch for it, so the adapter turns on
  paho-mqtt's ``manual_ack`` on the wrapped client and calls ``ack(mid, qos)`` itself once
  :meth:`IngestService.admit` (or quarantine) has returned. A message whose processing
  failed is not acknowledged; the broker redelivers it on the next session.
- PUBACKs are sent in the order the PUBLISH packets arrived (MQTT 3.1.1 §4.6), even though
  messages are processed concurrently (so their events share group commits).
- Undecodable payloads and unknown vendors are recorded in ``ingest_errors`` and
  acknowledged (redelivering a poison message forever helps nobody).

Trade-off: Mosquitto lets only ``max_inflight_messages`` (default 20) unacknowledged QoS 1
messages travel to one subscriber at a time, so one subscriber's throughput is bounded by
that window divided by the commit latency; raise it in ``mosquitto.conf`` (or run several
subscribers with shared subscriptions) for more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

import aiomqtt

from firegrid.core.errors import ValidationFailed
from firegrid.ingest.service import IngestService

from .codec import SUBSCRIPTION, decode_message, mapping_for, parse_topic, split_payload

log = logging.getLogger(__name__)

PROTOCOL = "mqtt"


class MQTTSubscriber:
    """Consumes device messages from the broker into the ingest service."""

    def __init__(
        self,
        service: IngestService,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        client_id: str = "firegrid-ingest",
        topic: str = SUBSCRIPTION,
        reconnect_s: float = 1.0,
    ) -> None:
        self.service = service
        self.host = host
        self.port = port
        self.client_id = client_id
        self.topic = topic
        self.reconnect_s = reconnect_s
        self.counters = {"messages": 0, "acked": 0, "errors": 0, "quarantined": 0}
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self, *, wait_s: float = 10.0) -> None:
        """Connect and subscribe (waits until subscribed or ``wait_s``)."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), wait_s)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
            except aiomqtt.MqttError as exc:
                self._subscribed.clear()
                log.warning("mqtt %s:%d: %s; reconnecting", self.host, self.port, exc)
                await asyncio.sleep(self.reconnect_s)

    async def _session(self) -> None:
        async with aiomqtt.Client(
            self.host,
            self.port,
            identifier=self.client_id,
            clean_session=False,
            keepalive=30,
        ) as client:
            paho = client._client
            paho.manual_ack_set(True)
            await client.subscribe(self.topic, qos=1)
            self._subscribed.set()
            acks: deque[tuple[int, int, asyncio.Future[bool]]] = deque()
            tasks: set[asyncio.Task[Any]] = set()

            def flush_acks() -> None:
                while acks and acks[0][2].done():
                    mid, qos, future = acks.popleft()
                    if not future.cancelled() and future.exception() is None and future.result():
                        if qos > 0:
                            paho.ack(mid, qos)
                        self.counters["acked"] += 1

            async for message in client.messages:
                self.counters["messages"] += 1
                payload = message.payload
                data = payload if isinstance(payload, bytes) else str(payload).encode()
                task = asyncio.get_running_loop().create_task(self.handle(str(message.topic), data))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                acks.append((message.mid, message.qos, task))
                task.add_done_callback(lambda _t: flush_acks())

    async def handle(self, topic: str, payload: bytes) -> bool:
        """Process one message; True when it may be acknowledged."""
        service = self.service
        try:
            vendor, external_id = parse_topic(topic)
            mapping = mapping_for(vendor)
            messages = [decode_message(item, mapping) for item in split_payload(payload)]
        except ValidationFailed as exc:
            self.counters["errors"] += 1
            await service.record_error(
                PROTOCOL,
                "bad_payload",
                f"{topic}: {exc.message} {exc.details or ''}",
                payload[:4096].hex(),
            )
            return True
        try:
            await service.admit_json(
                PROTOCOL,
                messages,
                external_id=external_id,
                context={"topic": topic, "vendor": vendor},
            )
            return True
        except Exception:
            log.exception("mqtt %s: not stored; left unacknowledged for redelivery", topic)
            return False
