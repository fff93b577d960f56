"""The coded lists of the fire incident record, loaded from ``codes.yaml`` (data, not code)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from pydantic import BaseModel

from firegrid.core.datafiles import parse_yaml_model
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode

#: the record's coded fields and the list each one takes its value from
CODED_FIELDS: dict[str, str] = {
    "cause_code": "cause",
    "origin_code": "origin",
    "heat_source_code": "heat_source",
    "item_first_ignited_code": "item_first_ignited",
    "detector_presence": "presence",
    "detector_performance": "performance",
    "alarm_system_presence": "presence",
    "alarm_system_performance": "performance",
    "sprinkler_presence": "presence",
    "sprinkler_performance": "performance",
}


class CodeName(BaseModel):
    name_zh: str
    name_en: str


class RecordCodes(BaseModel):
    version: int
    lists: dict[str, dict[str, CodeName]]

    def names(self, list_name: str) -> dict[str, CodeName]:
        return self.lists[list_name]

    def problem(self, list_name: str, code: str) -> str | None:
        """Why ``code`` is not in ``list_name`` (None when it is)."""
        known = self.lists[list_name]
        if code in known:
            return None
        return f"unknown {list_name} code {code!r}; known: {', '.join(known)}"

    def check(self, field: str, list_name: str, code: str) -> None:
        message = self.problem(list_name, code)
        if message is not None:
            raise ValidationFailed(
                message,
                {field: code, "known": sorted(self.lists[list_name])},
                text=TextCode.VALIDATION_UNKNOWN_VALUE,
                params={"field": field, "value": code, "allowed": sorted(self.lists[list_name])},
            )


@lru_cache(maxsize=1)
def load_codes() -> RecordCodes:
    """The packaged coded lists (validated)."""
    text = (files("firegrid.records") / "codes.yaml").read_text(encoding="utf-8")
    return parse_yaml_model(
        RecordCodes, text, label="fire record codes", origin="codes.yaml", shape="a mapping"
    )
