"""EIDO documents as a 110 centre sends them, for tests of other contexts (the authz matrix)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from firegrid.interop.peer_sim import PeerSimulator


def transfer_eido(name: str, lon: float, lat: float) -> dict[str, Any]:
    """A transfer of a building fire at ``(lon, lat)``, its id made from ``name``."""
    remote_id = f"urn:emergency:uid:incidentid:{name}:110.centre.example"
    return PeerSimulator(b"").police_eido(
        remote_id, lon=lon, lat=lat, updated_at=datetime.now(UTC), address="test"
    )
