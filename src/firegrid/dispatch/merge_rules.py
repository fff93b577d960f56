"""Merge rules: when a new call joins an open incident, and what is "possibly related".

Declared as data (``merge_rules.yaml``; ``FIREGRID_MERGE_RULES`` names a replacement file)
and validated with pydantic; an error names the file and the field::

    merge rules /etc/firegrid/merge.yaml: call.radius_m: Input should be greater than 0

- A **forwarded alarm** merges only into an open incident of the same venue (within
  ``alarm.same_venue_window_s`` of its last call when that is set): two buildings burning
  are two incidents until a dispatcher merges them.
- A **119 call or 110 transfer** merges into the nearest open incident within
  ``call.radius_m`` whose last call is within ``call.window_s`` and whose type is
  compatible (``call.compatible_types``).
- An incident opened next to other open ones (``related.radius_m``, ``related.window_s``)
  is shown with them as "possibly related", both ways, with the distance.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from firegrid.core.datafiles import load_yaml_model, parse_yaml_model
from firegrid.dispatch.plans import INCIDENT_TYPES

_SHAPE = "a mapping with 'alarm', 'call' and 'related'"
DEFAULT_FILE = "merge_rules.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlarmRule(_Strict):
    same_venue_window_s: float | None = Field(None, gt=0)

    @property
    def same_venue_window(self) -> timedelta | None:
        if self.same_venue_window_s is None:
            return None
        return timedelta(seconds=self.same_venue_window_s)


class CallRule(_Strict):
    radius_m: float = Field(300.0, gt=0, le=5000)
    window_s: float = Field(1800.0, gt=0, le=86400)
    compatible_types: list[list[str]] = Field(default_factory=list)

    @field_validator("compatible_types")
    @classmethod
    def _known_types(cls, groups: list[list[str]]) -> list[list[str]]:
        for i, group in enumerate(groups):
            unknown = [t for t in group if t not in INCIDENT_TYPES]
            if unknown:
                raise ValueError(
                    f"group #{i + 1} has unknown incident types {unknown}; "
                    f"known: {', '.join(INCIDENT_TYPES)}"
                )
        return groups

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_s)

    def compatible(self, call_type: str, incident_type: str) -> bool:
        """A call of ``call_type`` may join an incident of ``incident_type``."""
        if not call_type or call_type == incident_type:
            return True
        return any(call_type in g and incident_type in g for g in self.compatible_types)


class RelatedRule(_Strict):
    radius_m: float = Field(500.0, gt=0, le=5000)
    window_s: float = Field(3600.0, gt=0, le=7 * 86400)

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_s)


class MergeRules(_Strict):
    alarm: AlarmRule = Field(default_factory=AlarmRule)
    call: CallRule = Field(default_factory=CallRule)
    related: RelatedRule = Field(default_factory=RelatedRule)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


def parse_merge_rules(text: str, origin: str) -> MergeRules:
    """Rules from YAML text; a ``ValidationFailed`` names ``origin`` and each bad field."""
    return parse_yaml_model(MergeRules, text, label="merge rules", origin=origin, shape=_SHAPE)


def load_merge_rules(path: Path | None = None) -> MergeRules:
    """The rules of ``path``, or the packaged defaults."""
    return load_yaml_model(
        MergeRules,
        path,
        package="firegrid.dispatch",
        default_file=DEFAULT_FILE,
        label="merge rules",
        setting="FIREGRID_MERGE_RULES",
        shape=_SHAPE,
    )


@lru_cache(maxsize=4)
def _cached(path: Path | None) -> MergeRules:
    return load_merge_rules(path)


def active_merge_rules() -> MergeRules:
    """The process's rules (``FIREGRID_MERGE_RULES`` or the defaults), read once."""
    from firegrid.core.settings import get_settings

    return _cached(get_settings().merge_rules)
