"""What other contexts may use of resources (stations, vehicles, hydrants) and incidents (dispatch).

Import these names from here, not from the context's internal modules: this is the
context's public surface, and the import-linter contract in ``pyproject.toml`` holds
other contexts to it (``tools/boundaries.py``).
"""

from __future__ import annotations

from firegrid.dispatch.incident_models import AidRequest, Incident, IncidentCall
from firegrid.dispatch.incidents import set_incident_status
from firegrid.dispatch.models import Hydrant, HydrantStatus, Station, Vehicle
from firegrid.dispatch.plans import Plan, Requirement
from firegrid.dispatch.recommend import Unit, assign_slots

__all__ = [
    "AidRequest",
    "Hydrant",
    "HydrantStatus",
    "Incident",
    "IncidentCall",
    "Plan",
    "Requirement",
    "Station",
    "Unit",
    "Vehicle",
    "assign_slots",
    "set_incident_status",
]
