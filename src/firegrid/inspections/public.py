"""What other contexts may use of inspections and hazards (inspections).

Import these names from here, not from the context's internal modules: this is the
context's public surface, and the import-linter contract in ``pyproject.toml`` holds
other contexts to it (``tools/boundaries.py``).
"""

from __future__ import annotations

from firegrid.inspections.models import Hazard, HazardStatus, Inspection

__all__ = [
    "Hazard",
    "HazardStatus",
    "Inspection",
]
