"""What other contexts may use of normalised device events (ingest).

Import these names from here, not from the context's internal modules: this is the
context's public surface, and the import-linter contract in ``pyproject.toml`` holds
other contexts to it (``tools/boundaries.py``).
"""

from __future__ import annotations

from firegrid.ingest.events import Component, DeviceEvent, EventKind, decode_event, make_event_id

__all__ = [
    "Component",
    "DeviceEvent",
    "EventKind",
    "decode_event",
    "make_event_id",
]
