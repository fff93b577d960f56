"""What other contexts may use of inspections and hazards (inspections).

Import these names from here, not from the context's internal modules: this is the
context's public surface, and the import-linter contract in ``pyproject.toml`` holds
other contexts to it (``tools/boundaries.py``).
"""

from __future__ import annotations

from firegrid.inspections.models import (
    CATEGORY_BY_CODE,
    Hazard,
    HazardStatus,
    HazardTransition,
    Inspection,
    Severity,
)
from firegrid.inspections.service import (
    HAZARD_CHANGED,
    INSPECTION_RECORDED,
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

#: the codes of the hazard categories (a hazard's ``category``)
HAZARD_CATEGORY_CODES: tuple[str, ...] = tuple(CATEGORY_BY_CODE)


def deadline_days(category: str, severity: str) -> int:
    """The usual rectification period (整改期限) in days of a hazard of ``category``."""
    return CATEGORY_BY_CODE[category].deadline_days[severity]


__all__ = [
    "HAZARD_CATEGORY_CODES",
    "HAZARD_CHANGED",
    "INSPECTION_RECORDED",
    "TASK_CHANGED",
    "Hazard",
    "HazardSpec",
    "HazardStatus",
    "HazardTransition",
    "Inspection",
    "InspectionTask",
    "Severity",
    "TaskStatus",
    "category",
    "close_task",
    "deadline_days",
    "get_hazard",
    "open_task",
    "record_inspection",
    "rectify_hazard",
    "revise_hazard",
    "revise_task",
    "task_dict",
]
