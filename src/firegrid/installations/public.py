"""What other contexts may use of installation programmes (installations).

Import these names from here, not from the context's internal modules (``lint-imports``).
"""

from __future__ import annotations

from firegrid.installations.models import DeviceType, Installation, InstallationProgramme

__all__ = ["DeviceType", "Installation", "InstallationProgramme"]
