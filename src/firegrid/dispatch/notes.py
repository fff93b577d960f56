"""Notes and attachments on an incident's timeline: what the dispatcher or the crews learn
(a caller's callback, a photo from the scene), each an entry with time, actor and cause."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.core.clock import utcnow
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.text import find_in
from firegrid.core.texts import TextCode
from firegrid.core.uploads import store_photo
from firegrid.dispatch import timeline
from firegrid.dispatch.incident_models import Incident, TimelineEntry

MAX_NOTE = 2000


def add_note(
    session: Session,
    principal: Principal,
    incident: Incident,
    text: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """A free-text note on the timeline (the first 300 characters are its cause)."""
    body = text.strip()
    if not body:
        raise ValidationFailed(
            "the note is empty",
            {"text": text},
            text=TextCode.VALIDATION_EMPTY,
            params={"field": "text"},
        )
    if len(body) > MAX_NOTE:
        raise ValidationFailed(
            f"the note is longer than {MAX_NOTE} characters",
            {"text": "..."},
            text=TextCode.VALIDATION_STRING_TOO_LONG,
            params={"field": "text", "max_length": MAX_NOTE},
        )
    entry = timeline.record(
        incident, "note", at or utcnow(), principal, body[:300], details={"text": body}
    )
    timeline.write(session, entry)
    return entry


def add_attachment(
    session: Session,
    principal: Principal,
    incident: Incident,
    data_dir: Path,
    *,
    content_type: str,
    content: bytes,
    caption: str = "",
) -> dict[str, Any]:
    """A photo from the scene, stored under the data dir and listed on the timeline."""
    _where, message = find_in({"caption": caption})
    if message:
        raise ValidationFailed(
            message,
            {"caption": caption},
            text=TextCode.VALIDATION_CONTROL_CHARACTER,
            params={"field": "caption"},
        )
    relative = store_photo(data_dir, "incidents", f"incident-{incident.id}", content_type, content)
    entry = timeline.record(
        incident,
        "attachment",
        utcnow(),
        principal,
        caption[:300] or "photo",
        details={"path": relative, "content_type": content_type, "caption": caption[:300]},
        cause_text=None if caption else timeline.cause(TextCode.TIMELINE_PHOTO, "photo"),
    )
    timeline.write(session, entry)
    return entry


def attachment_path(session: Session, incident: Incident, entry_id: int, data_dir: Path) -> Path:
    """The stored file of the incident's attachment entry ``entry_id``."""
    entry = session.scalars(
        select(TimelineEntry).where(
            TimelineEntry.id == entry_id,
            TimelineEntry.incident_id == incident.id,
            TimelineEntry.kind == "attachment",
        )
    ).first()
    if entry is None or not entry.details:
        raise NotFound(
            f"attachment {entry_id} not found",
            {"id": entry_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "attachment", "id": entry_id},
        )
    path = (data_dir / str(entry.details["path"])).resolve()
    if not path.is_relative_to(data_dir.resolve()) or not path.is_file():
        raise NotFound(
            f"attachment {entry_id} not found",
            {"id": entry_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "attachment", "id": entry_id},
        )
    return path
