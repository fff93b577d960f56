"""What other contexts may use of inspections and hazards (inspections).

Import these names from here, not from the context's internal modules: this is the
context's public surface, and the import-linter contract in ``pyproject.toml`` holds
other contexts to it (``tools/boundaries.py``).
"""

from __future__ import annotations

from firegrid.inspections.models import Hazard, HazardStatus, Inspection, Severity
from firegrid.inspections.service import (
    HAZARD_CHANGED,
    HazardSpec,
    category,
    get_hazard,
    record_inspection,
    rectify_hazard,
    revise_hazard,
)
from firegrid.inspections.tasks import (
    TASK_CHANGED,
    InspectionTask,
    TaskStatus,
    close_task,
    open_task,
    revise_task,
    task_dict,
)

__all__ = [
    "HAZARD_CHANGED",
    "TASK_CHANGED",
    "Hazard",
    "HazardSpec",
    "HazardStatus",
    "Inspection",
    "InspectionTask",
    "Severity",
    "TaskStatus",
    "category",
    "close_task",
    "get_hazard",
    "open_task",
    "record_inspection",
    "rectify_hazard",
    "revise_hazard",
    "revise_task",
    "task_dict",
]
