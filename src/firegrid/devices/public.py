"""What other contexts may use of the device registry and live device state (devices).

Import these names from here, not from the context's internal modules: this is the
context's public surface, and the import-linter contract in ``pyproject.toml`` holds
other contexts to it (``tools/boundaries.py``).
"""

from __future__ import annotations

from firegrid.devices.models import Device, DeviceKind, DeviceProtocol
from firegrid.devices.state import (
    DeviceRef,
    DeviceStateTracker,
    read_stored_seen,
    state_row_chunks,
    write_state_rows,
)
from firegrid.devices.state_models import DeviceStateRow

__all__ = [
    "Device",
    "DeviceKind",
    "DeviceProtocol",
    "DeviceRef",
    "DeviceStateRow",
    "DeviceStateTracker",
    "read_stored_seen",
    "state_row_chunks",
    "write_state_rows",
]
