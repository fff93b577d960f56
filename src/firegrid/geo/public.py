"""What other contexts may use of the road network and its errors (geo).

Import these names from here, not from the context's internal modules: this is the
context's public surface, and the import-linter contract in ``pyproject.toml`` holds
other contexts to it (``tools/boundaries.py``).
"""

from __future__ import annotations

from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.errors import GeoError, UnknownFacility
from firegrid.geo.network import RoadClass, RoadNetwork
from firegrid.geo.store import road_labels

__all__ = [
    "GeoError",
    "RoadClass",
    "RoadNetwork",
    "TravelTimeEngine",
    "UnknownFacility",
    "road_labels",
]
