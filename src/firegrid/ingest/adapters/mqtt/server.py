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
- Payloads are parsed within limits (size, nesting depth, events per message; see
  :mod:`..payload`), and no failure escapes: a payload's valid events are stored, its
  invalid ones (or the whole payload: not JSON, too deep, unknown vendor) are recorded in
  ``ingest_errors`` with the raw bytes and logged, and the message is acknowledged once
  both are durable (redelivering a poison message forever helps nobody, and an
  unacknowledged one holds one of the broker's in-flight slots).

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
from collections.abc import Coroutine
from typing import Any

import aiomqtt

from firegrid.core.errors import ValidationFailed
from firegrid.ingest.adapters.json_messages import admit_json
from firegrid.ingest.service import IngestService

from ..payload import MQTT_LIMITS, ParsedBatch, PayloadLimits, parse_batch
from .codec import SUBSCRIPTION, mapping_for, parse_topic

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
        limits: PayloadLimits = MQTT_LIMITS,
    ) -> None:
        self.service = service
        self.limits = limits
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
        """Process one message; True when it may be acknowledged.

        Never raises. The valid events of a payload are stored and its invalid ones (or the
        whole payload) recorded in ``ingest_errors`` with the raw bytes; True only once both
        are durable. False (no PUBACK, the broker redelivers) only when storing failed.
        """
        service = self.service
        external_id: str | None = None
        try:
            vendor, external_id = parse_topic(topic)
            batch = parse_batch(payload, mapping_for(vendor), self.limits, device_given=True)
        except ValidationFailed as exc:  # a topic or vendor we cannot map
            vendor = ""
            batch = ParsedBatch.refused("bad_topic", exc.message, payload, exc.details)
        jobs: list[Coroutine[Any, Any, Any]] = []
        if batch.rejected:
            self.counters["errors"] += len(batch.rejected)
            first = batch.rejected[0]
            log.warning(
                "mqtt %s: %d of the payload's events rejected, first: %s %s",
                topic,
                len(batch.rejected),
                first.code,
                first.message,
            )
            jobs.append(
                service.record_rejections(
                    PROTOCOL, batch.rejected, where=topic[:200], external_id=external_id
                )
            )
        if batch.accepted:
            jobs.append(
                admit_json(
                    service,
                    PROTOCOL,
                    batch.messages,
                    external_id=external_id,
                    context={"topic": topic, "vendor": vendor},
                )
            )
        try:
            await asyncio.gather(*jobs)
        except Exception:
            log.exception("mqtt %s: not stored; left unacknowledged for redelivery", topic)
            return False
        return True
