"""What other contexts may use of accounts: the acting Principal and the audit log.

Import these names from here, not from the context's internal modules: this is the
context's public surface, and the import-linter contract in ``pyproject.toml`` holds
other contexts to it (``tools/boundaries.py``).
"""

from __future__ import annotations

from firegrid.accounts.audit import jsonable, record_change
from firegrid.accounts.principal import Principal, system_principal

__all__ = [
    "Principal",
    "jsonable",
    "record_change",
    "system_principal",
]
