"""What other contexts may use of the grid link (gridlink).

Import these names from here, not from the context's internal modules: this is the
context's public surface, and the import-linter contract in ``pyproject.toml`` holds
other contexts to it (``tools/boundaries.py``).
"""

from __future__ import annotations

from firegrid.gridlink.config import LINK
from firegrid.gridlink.messages import SCHEMA_NAME

__all__ = ["LINK", "SCHEMA_NAME"]
