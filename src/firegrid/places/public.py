"""What other contexts may use of the city model (places).

Import these names from here, not from ``places.models`` or its service modules: this module
is the context's public surface, and the import-linter contracts in ``pyproject.toml`` hold
other contexts to it.
"""

from __future__ import annotations

#: the kind of change (``core.changes``) recorded when a venue's own facts, its hazards or
#: its inspections changed; the key is the venue's id
VENUE_CHANGED = "venue.changed"

__all__ = ["VENUE_CHANGED"]
