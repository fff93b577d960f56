"""Admitting decoded JSON messages (MQTT and HTTP push) into the ingest service.

Adapter code: it knows the vendor message (``mqtt.codec``) and calls the ingest service's
protocol-neutral operations (look the device up, admit events, quarantine, record errors);
the ingest core knows nothing of JSON payloads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from firegrid.devices.public import DeviceRef
from firegrid.ingest.adapters.mqtt.codec import VendorMessage, summary, to_event
from firegrid.ingest.events import DeviceEvent
from firegrid.ingest.replay import StoredMessage
from firegrid.ingest.service import IngestService, QuarantineItem


async def admit_json(
    service: IngestService,
    protocol: str,
    messages: Sequence[VendorMessage],
    *,
    external_id: str | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Store decoded JSON messages (MQTT, HTTP push): admitted or quarantined per device.

    ``external_id`` (the MQTT topic's) wins over the one in each message. Returns counts;
    durable when it returns.
    """
    received_at = service.clock()
    by_device: dict[str, list[VendorMessage]] = {}
    missing = 0
    for message in messages:
        device = external_id or message.external_id
        if not device:
            missing += 1
            continue
        by_device.setdefault(device, []).append(message)
    if missing:
        await service.record_error(
            protocol, "no_device_id", f"{missing} message(s) name no device", ""
        )
    jobs = []
    quarantined = admitted = 0
    for device, items in by_device.items():
        ref = service.lookup(protocol, device)
        if ref is None:
            quarantined += len(items)
            for m in items:
                jobs.append(
                    service.quarantine(
                        QuarantineItem(
                            protocol,
                            device,
                            received_at,
                            "",
                            {**(context or {}), **summary(m), "payload": m.raw},
                        )
                    )
                )
        else:
            admitted += len(items)
            events = [to_event(m, ref, protocol, received_at) for m in items]
            jobs.append(service.admit(ref, events, seen_at=received_at))
    await asyncio.gather(*jobs)
    return {"admitted": admitted, "quarantined": quarantined, "rejected": missing}


def replay_events(message: StoredMessage, protocol: str, ref: DeviceRef) -> list[DeviceEvent]:
    """The event a quarantined JSON message would have made (adapter registry: replay)."""
    from firegrid.core.errors import ValidationFailed
    from firegrid.ingest.adapters.mqtt.codec import decode_message, mapping_for

    payload = message.summary.get("payload")
    vendor = message.summary.get("vendor", "firegrid")
    if not isinstance(payload, dict):
        raise ValueError(f"quarantined message {message.id}: no JSON payload kept")
    try:
        decoded = decode_message(payload, mapping_for(str(vendor)))
    except ValidationFailed as exc:
        raise ValueError(f"quarantined message {message.id}: {exc.message}") from exc
    return [to_event(decoded, ref, protocol, message.received_at)]
