"""Notes and photo attachments on an incident's timeline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, SettingsDep, require
from firegrid.core.texts import ParamValue, TextCode
from firegrid.core.uploads import MAX_PHOTO_BYTES, PHOTO_TYPES
from firegrid.dispatch import incidents, notes, timeline

router = APIRouter(tags=["incidents"])
IncidentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Incident id.")]
Writer = Annotated[Principal, Depends(require("incidents:write"))]
Reader = Annotated[Principal, Depends(require("incidents:read"))]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=notes.MAX_NOTE)


class TimelineEntryOut(BaseModel):
    at: str
    kind: str
    actor: str
    cause: str
    cause_code: TextCode | None = Field(
        None, description="The cause as a text code when the server wrote it (None: typed)."
    )
    cause_params: dict[str, ParamValue] = Field(default_factory=dict)
    details: dict[str, Any] | None


def _out(entry: dict[str, Any]) -> dict[str, Any]:
    out = timeline.entry_out(entry)
    out.pop("vehicle_id")
    return out


@router.post(
    "/incidents/{incident_id}/notes",
    status_code=201,
    response_model=TimelineEntryOut,
    summary="Add a note to the incident's timeline",
)
def add_note(
    incident_id: IncidentId, body: NoteIn, principal: Writer, session: SessionDep
) -> dict[str, Any]:
    incident = incidents.get_incident(session, principal, incident_id)
    return _out(notes.add_note(session, principal, incident, body.text))


@router.post(
    "/incidents/{incident_id}/attachments",
    status_code=201,
    response_model=TimelineEntryOut,
    summary="Attach a photo (JPEG/PNG/WebP, ≤ 10 MB) to the incident's timeline",
)
async def add_attachment(
    incident_id: IncidentId,
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
    photo: Annotated[UploadFile, File()],
    caption: Annotated[str, Form(max_length=300)] = "",
) -> dict[str, Any]:
    incident = incidents.get_incident(session, principal, incident_id)
    content = await photo.read(MAX_PHOTO_BYTES + 1)
    entry = notes.add_attachment(
        session,
        principal,
        incident,
        settings.data_dir,
        content_type=photo.content_type or "",
        content=content,
        caption=caption,
    )
    return _out(entry)


@router.get(
    "/incidents/{incident_id}/attachments/{entry_id}",
    response_class=FileResponse,
    responses={200: {"content": {media: {} for media in PHOTO_TYPES}}},
    summary="The photo of an attachment entry",
)
def get_attachment(
    incident_id: IncidentId,
    entry_id: Annotated[int, Path(ge=1, le=2**62)],
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
) -> FileResponse:
    incident = incidents.get_incident(session, principal, incident_id)
    return FileResponse(notes.attachment_path(session, incident, entry_id, settings.data_dir))
