"""The grid link's JSON messages (``firegrid.gridlink/1``, docs/gridlink.md): checked
against ``messages.schema.json`` both ways — a grid event before anything is applied, and
every message we build before it is queued.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import first_of, jsonschema_problem
from firegrid.core.texts import TextCode

SCHEMA_NAME = "firegrid.gridlink/1"
SCHEMA_PATH = Path(__file__).with_name("messages.schema.json")
MAX_PROBLEMS = 20


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(document)
    return document


@lru_cache(maxsize=8)
def validator(definition: str | None = None) -> Draft202012Validator:
    """The whole schema's validator, or one ``$defs`` entry's."""
    whole = schema()
    if definition is None:
        return Draft202012Validator(whole)
    return Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": whole["$defs"]})


def _sorted_errors(document: Any, definition: str | None) -> list[Any]:
    errors = validator(definition).iter_errors(document)
    return sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])[:MAX_PROBLEMS]


def problems_of(document: Any, definition: str | None = None) -> list[str]:
    """What is wrong with ``document`` (against one ``$defs`` entry, or the whole schema)."""
    found = []
    for error in _sorted_errors(document, definition):
        where = "/".join(str(p) for p in error.absolute_path) or "(message)"
        found.append(f"{where}: {error.message}"[:300])
    return found


def check(document: Any, definition: str) -> None:
    errors = _sorted_errors(document, definition)
    if errors:
        found = [jsonschema_problem(e) for e in errors]
        lines = problems_of(document, definition)
        raise ValidationFailed(
            f"not a valid {SCHEMA_NAME} {definition}: {lines[0]}",
            {"problems": lines, "codes": [f.as_dict() for f in found]},
            text=TextCode.DOCUMENT_INVALID,
            params={
                "kind": "grid_message",
                **first_of(found),
                "field": f"{definition}{found[0].field.rstrip('/')}",
            },
        )


@dataclass(frozen=True)
class GridEvent:
    """A grid event as firegrid applies it."""

    event_id: str
    category: str  # hazard | report
    status: str  # open | rectified | closed
    updated_at: datetime
    department: str = ""
    reporter: str = ""
    venue_code: str | None = None
    venue_id: int | None = None
    grid_code: str | None = None
    hazard_category: str = ""
    severity: str = "general"
    title: str = ""
    description: str = ""
    found_at: datetime | None = None
    deadline: datetime | None = None
    note: str = ""


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def parse_event(document: Any) -> GridEvent:
    """A checked grid event (a 422 naming every problem otherwise)."""
    check(document, "grid_event")
    updated = _time(document["updated_at"])
    assert updated is not None
    return GridEvent(
        event_id=document["event_id"],
        category=document["category"],
        status=document["status"],
        updated_at=updated,
        department=document.get("department", ""),
        reporter=document.get("reporter", ""),
        venue_code=document.get("venue_code"),
        venue_id=document.get("venue_id"),
        grid_code=document.get("grid_code"),
        hazard_category=document.get("hazard_category", ""),
        severity=document.get("severity", "general"),
        title=document.get("title", ""),
        description=document.get("description", ""),
        found_at=_time(document.get("found_at")),
        deadline=_time(document.get("deadline")),
        note=document.get("note", ""),
    )


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def grid_code_of(path: str) -> str:
    """The last code of a jurisdiction path (``/city/town/village/grid/`` → grid)."""
    parts = [p for p in path.split("/") if p]
    return parts[-1] if parts else ""


def envelope(
    *,
    kind: str,
    message_id: str,
    cursor: int,
    action: str,
    local_id: int,
    event_id: str | None,
    updated_at: datetime,
    status: str,
    jurisdiction_path: str,
    venue: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA_NAME,
        "type": kind,
        "message_id": message_id,
        "cursor": str(cursor),
        "action": action,
        "id": local_id,
        "event_id": event_id,
        "updated_at": updated_at.isoformat(),
        "status": status,
        "jurisdiction_path": jurisdiction_path,
        "grid_code": grid_code_of(jurisdiction_path),
        "venue": venue,
    }
