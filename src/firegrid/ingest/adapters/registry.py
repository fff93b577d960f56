"""Every protocol adapter, by protocol name: what the ingest core may ask of an adapter
without importing it (replaying a quarantined message into events, today).

Adding an adapter touches its own package and this table only.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from firegrid.devices.public import DeviceRef
    from firegrid.ingest.events import DeviceEvent
    from firegrid.ingest.replay import StoredMessage

Replayer = Callable[["StoredMessage", str, "DeviceRef"], list["DeviceEvent"]]

#: protocol -> "module:function" that turns a stored message into the adapter's events
REPLAYERS: dict[str, str] = {
    "gb26875": "firegrid.ingest.adapters.gb26875.events:replay_events",
    "mqtt": "firegrid.ingest.adapters.json_messages:replay_events",
    "http": "firegrid.ingest.adapters.json_messages:replay_events",
}


def replayer(protocol: str) -> Replayer | None:
    """The replay function of ``protocol``'s adapter, or ``None`` when it has none."""
    spec = REPLAYERS.get(protocol)
    if spec is None:
        return None
    module_name, _, attribute = spec.partition(":")
    function: Replayer = getattr(import_module(module_name), attribute)
    return function
