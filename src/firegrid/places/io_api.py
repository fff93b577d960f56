"""Import (multipart upload) and export routes for city data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from firegrid.accounts.public import Principal
from firegrid.api.deps import DbDep, SessionDep, require
from firegrid.api.schemas import ImportFailedEnvelope
from firegrid.core.texts import TextCode
from firegrid.places.importexport import (
    SUFFIXES,
    check_kind,
    export_records,
    import_bytes,
    is_bulk_kind,
    render,
    resource_for,
)

router = APIRouter(tags=["import-export"])

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
_MEDIA = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
KindPath = Annotated[
    str,
    Path(
        description="jurisdictions, venues, stations, hydrants, devices, addresses, population, "
        "buildings, inspections, hazards …"
    ),
]


class ImportReport(BaseModel):
    """What an import wrote (all rows or none)."""

    kind: str
    rows: int
    created: int
    updated: int | None = Field(None, description="upsert/replace: stored rows changed")
    unchanged: int | None = Field(None, description="upsert/replace: stored rows already equal")
    deleted: int | None = Field(None, description="replace: stored rows the file no longer lists")
    mode: str | None = None
    encoding: str | None = Field(None, description="CSV: the encoding it was read with")


@router.post(
    "/imports/{kind}",
    status_code=201,
    summary="Import a file, all or nothing",
    response_model=ImportReport,
    responses={422: {"model": ImportFailedEnvelope, "description": "Bad rows; nothing written."}},
)
async def import_upload(
    kind: KindPath,
    principal: Annotated[Principal, Depends(require("places:import"))],
    db: DbDep,
    file: Annotated[UploadFile, File(description="GeoJSON, CSV or xlsx")],
    crs: Annotated[str, Query(description="CRS of the file's coordinates.")] = "wgs84",
    mode: Annotated[
        str,
        Query(
            pattern="^(insert|upsert|replace)$",
            description="insert (all new), upsert (same code updates), replace (upsert, then "
            "delete the rows in your jurisdiction the file does not list)",
        ),
    ] = "insert",
    encoding: Annotated[
        str,
        Query(pattern="^(auto|utf-8|gb18030)$", description="CSV encoding (auto: UTF-8, else GBK)"),
    ] = "auto",
) -> dict[str, Any]:
    from firegrid.core.errors import ValidationFailed
    from firegrid.places.importexport import file_format

    check_kind(kind)
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            "the file is larger than 50 MiB",
            text=TextCode.VALIDATION_TOO_LARGE,
            params={"field": "file", "max_mb": 50},
        )
    from pathlib import Path as FilePath

    fmt = file_format(FilePath(file.filename or "upload.csv"))
    return import_bytes(
        db, kind, data, fmt, crs=crs, principal=principal, mode=mode, encoding=encoding
    )


@router.get(
    "/exports/{kind}",
    summary="Export records in your jurisdiction",
    response_class=Response,
    responses={
        200: {
            "content": {media.split(";")[0]: {} for media in _MEDIA.values()},
            "description": "The file, as an attachment.",
        }
    },
)
def export_download(
    kind: KindPath,
    principal: Annotated[Principal, Depends(require("places:export"))],
    session: SessionDep,
    db: DbDep,
    format: Annotated[str, Query(pattern="^(geojson|csv|xlsx)$")] = "geojson",
    crs: Annotated[str, Query(description="CRS of the written coordinates.")] = "wgs84",
) -> Response:
    suffix = next(s for s, f in SUFFIXES.items() if f == format)
    headers = {"Content-Disposition": f'attachment; filename="{kind}{suffix}"'}
    if is_bulk_kind(kind) and format == "csv":  # streamed: the register is millions of rows
        from firegrid.places.bulk_import import iter_csv

        pieces = iter_csv(db, kind, crs=crs, principal=principal)
        return StreamingResponse(pieces, media_type=_MEDIA[format], headers=headers)
    if is_bulk_kind(kind):
        import io

        from firegrid.places.bulk_import import export_bulk

        buffer = io.BytesIO()
        export_bulk(db, kind, buffer, format, crs=crs, principal=principal)
        content = buffer.getvalue()
    else:
        resource = resource_for(kind)
        principal.check(resource.read_permission)
        content = render(export_records(session, kind, crs=crs, principal=principal), format)
    return Response(content, media_type=_MEDIA[format], headers=headers)
