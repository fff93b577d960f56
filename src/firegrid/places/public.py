"""What other contexts may use of the city model (places): jurisdictions, venues, CRS, the
population register.

Import these names from here, not from the context's internal modules: this is the
context's public surface, and the import-linter contract in ``pyproject.toml`` holds
other contexts to it (``tools/boundaries.py``).
"""

from __future__ import annotations

from firegrid.places.bulk_fields import CellError, latitude, longitude, number
from firegrid.places.crs import Crs, parse_crs, point_from_wgs84, point_to_wgs84, validate_lon_lat
from firegrid.places.locate import JurisdictionIndex, jurisdiction_index
from firegrid.places.models import (
    Building,
    GridWorker,
    Jurisdiction,
    JurisdictionLevel,
    PopulationCount,
    Venue,
)
from firegrid.places.taxonomy import load_taxonomy

#: the kind of change (``core.changes``) recorded when a venue's own facts, its hazards or
#: its inspections changed; the key is the venue's id
VENUE_CHANGED = "venue.changed"

__all__ = [
    "VENUE_CHANGED",
    "Building",
    "CellError",
    "Crs",
    "GridWorker",
    "Jurisdiction",
    "JurisdictionIndex",
    "JurisdictionLevel",
    "PopulationCount",
    "Venue",
    "jurisdiction_index",
    "latitude",
    "load_taxonomy",
    "longitude",
    "number",
    "parse_crs",
    "point_from_wgs84",
    "point_to_wgs84",
    "validate_lon_lat",
]
