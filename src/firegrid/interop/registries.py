"""The mapping of firegrid's codes to the EIDO registries, as data (``registries.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

REGISTRIES_FILE = Path(__file__).with_name("registries.yaml")


@dataclass(frozen=True)
class Registries:
    incident_type_out: dict[str, str]
    incident_type_in: dict[str, str]
    incident_status_out: dict[str, str]
    resource_type_out: dict[str, str]
    unit_status_out: dict[str, tuple[str, str]]
    level_priority: dict[int, int]

    def priority_level(self, priority: int) -> int:
        """The level whose priority is nearest ``priority`` (the higher on a tie)."""
        return min(
            self.level_priority,
            key=lambda level: (abs(self.level_priority[level] - priority), -level),
        )


@cache
def registries() -> Registries:
    data = yaml.safe_load(REGISTRIES_FILE.read_text(encoding="utf-8"))
    return Registries(
        incident_type_out=dict(data["incident_type"]["out"]),
        incident_type_in=dict(data["incident_type"]["in"]),
        incident_status_out=dict(data["incident_status"]["out"]),
        resource_type_out=dict(data["resource_type"]["out"]),
        unit_status_out={k: (v[0], v[1]) for k, v in data["unit_status"]["out"].items()},
        level_priority={int(k): int(v) for k, v in data["level_priority"].items()},
    )
