"""Import and export of plans: a zip with one JSON document per venue (every version), the
attachments, and an xlsx of the tabular parts of each published (else latest) version.

Layout::

    manifest.json                      {"format": "firegrid-preplans", "format_version": 1, ...}
    plans/<venue code>.json            {"venue_code", "versions": [...], "attachments": [...]}
    attachments/<venue code>/<n>.<ext> the files the plan lists
    tables.xlsx                        hazmats, contacts, utilities, standpipes (read-only view)

The import is all or nothing: every problem is listed (file, field, message) and nothing is
written if there is one. It refuses members whose names leave the archive (absolute, ``..``,
backslashes: zip-slip), members or archives larger than the limits, files it does not list,
attachments whose type (by content) or SHA-256 does not match, and venues that already have
a plan (import into a city whose venues have none; edit existing plans in the console).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change, system_principal
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import DomainError, ImportFailed
from firegrid.core.text import find_in
from firegrid.core.texts import TextCode
from firegrid.places.public import Venue
from firegrid.preplans import attachments, service
from firegrid.preplans.cycle import review_due
from firegrid.preplans.models import Preplan, PreplanAttachment, PreplanVersion, VersionStatus

FORMAT = "firegrid-preplans"
FORMAT_VERSION = 1
MAX_MEMBERS = 5000
MAX_MEMBER_BYTES = attachments.MAX_ATTACHMENT_BYTES
MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_ERRORS = 200
STATUSES = {s.value for s in VersionStatus}


# ---- export ------------------------------------------------------------------------------
def _plan_record(session: Session, plan: Preplan, venue: Venue) -> tuple[dict[str, Any], Any]:
    versions = sorted(service.list_versions(session, plan), key=lambda v: v.version)
    files = []
    for n, att in enumerate(service.list_attachments(session, plan), start=1):
        files.append((att, f"attachments/{venue.code}/{n}{attachments.TYPES[att.content_type]}"))
    record = {
        "venue_code": venue.code,
        "venue_name": venue.name,
        "published_version": plan.published_version,
        "versions": [service.version_dict(v) for v in versions],
        "attachments": [
            {"title": a.title, "content_type": a.content_type, "sha256": a.sha256, "file": name}
            for a, name in files
        ],
    }
    return record, files


TABLES: dict[str, tuple[str, ...]] = {
    "hazmats": ("name", "un_number", "hazard_class", "quantity", "unit", "location"),
    "contacts": ("name", "role", "phone"),
    "utilities": ("utility", "location", "note"),
    "standpipes": ("name", "location", "inlet_location"),
}


def _rows_of(document: dict[str, Any], table: str) -> list[dict[str, Any]]:
    if table == "standpipes":
        return list(document.get("fire_protection", {}).get("standpipes", []))
    return list(document.get(table, []))


def tables_xlsx(records: list[dict[str, Any]]) -> bytes:
    """The tabular parts, one sheet per table, of each plan's published (else latest)
    version; cells that look like formulas are quoted."""
    from openpyxl import Workbook

    from firegrid.core.text import neutralise_formula

    workbook = Workbook(write_only=True)
    for table, columns in TABLES.items():
        sheet = workbook.create_sheet(table)
        sheet.append(["venue_code", "version", *columns])
        for record in records:
            versions = record["versions"]
            chosen = next(
                (v for v in versions if v["version"] == record["published_version"]),
                versions[-1] if versions else None,
            )
            if chosen is None:
                continue
            for row in _rows_of(chosen["document"], table):
                cells = [row.get(c, "") for c in columns]
                sheet.append(
                    [
                        neutralise_formula(record["venue_code"]),
                        chosen["version"],
                        *[neutralise_formula(c) if isinstance(c, str) else c for c in cells],
                    ]
                )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_zip(
    database: Database, data_dir: Path, path: Path, principal: Principal | None = None
) -> dict[str, Any]:
    """Write every plan in scope to ``path``; returns counts."""
    principal = principal or system_principal("export")
    records: list[dict[str, Any]] = []
    n_files = 0
    with database.session() as session, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for plan, venue in service.list_plans(session, principal, limit=1_000_000):
            record, files = _plan_record(session, plan, venue)
            for att, name in files:
                zf.writestr(name, attachments.read(data_dir, att.storage_path))
                n_files += 1
            zf.writestr(
                f"plans/{venue.code}.json", json.dumps(record, ensure_ascii=False, indent=1)
            )
            records.append(record)
        zf.writestr("tables.xlsx", tables_xlsx(records))
        zf.writestr(
            "manifest.json",
            json.dumps(
                {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "exported_at": utcnow().isoformat(),
                    "plans": len(records),
                    "attachments": n_files,
                }
            ),
        )
    return {"file": str(path), "plans": len(records), "attachments": n_files}


# ---- import ------------------------------------------------------------------------------
@dataclass
class _Problems:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, where: str, message: str, field_name: str = "") -> None:
        if len(self.rows) < MAX_ERRORS:
            self.rows.append({"file": where, "field": field_name, "message": message})


def safe_member_name(name: str) -> bool:
    """A member name that stays inside the archive's directory (no zip-slip)."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return False
    parts = PurePosixPath(name).parts
    return bool(parts) and ".." not in parts and not parts[0].endswith(":")


def _read_members(data: bytes, problems: _Problems) -> dict[str, bytes]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportFailed(
            "the file is not a zip archive", text=TextCode.IMPORT_NOT_ZIP, params={}
        ) from None
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ImportFailed(
            f"the archive has more than {MAX_MEMBERS} members",
            text=TextCode.IMPORT_ARCHIVE_TOO_BIG,
            params={"members": MAX_MEMBERS, "max_mb": MAX_TOTAL_BYTES // (1024 * 1024)},
        )
    members: dict[str, bytes] = {}
    total = 0
    for info in infos:
        if not safe_member_name(info.filename):
            problems.add(info.filename, "member name leaves the archive (zip-slip)")
            continue
        if info.is_dir():
            continue
        limit = MAX_MEMBER_BYTES if not info.filename.endswith(".json") else 4 * 1024 * 1024
        if info.file_size > limit:
            problems.add(info.filename, f"member larger than {limit} bytes")
            continue
        with zf.open(info) as handle:  # the header may lie: read at most limit + 1
            content = handle.read(limit + 1)
        if len(content) > limit:
            problems.add(info.filename, f"member larger than {limit} bytes")
            continue
        total += len(content)
        if total > MAX_TOTAL_BYTES:
            raise ImportFailed(
                f"the archive unpacks to more than {MAX_TOTAL_BYTES} bytes",
                text=TextCode.IMPORT_ARCHIVE_TOO_BIG,
                params={"members": MAX_MEMBERS, "max_mb": MAX_TOTAL_BYTES // (1024 * 1024)},
            )
        members[info.filename] = content
    return members


@dataclass
class _PlanIn:
    venue: Venue
    record: dict[str, Any]
    files: list[tuple[dict[str, Any], bytes, str]]  # (entry, content, sniffed type)


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    return parsed


def _check_plan(
    session: Session, name: str, raw: bytes, members: dict[str, bytes], problems: _Problems
) -> _PlanIn | None:
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.add(name, f"not UTF-8 JSON: {exc}")
        return None
    if not isinstance(record, dict) or not isinstance(record.get("versions"), list):
        problems.add(name, "a plan needs venue_code and a versions list")
        return None
    bad_path, message = find_in(record)
    if message:  # the API refuses control characters in bodies; the archive likewise
        problems.add(name, message, ".".join(str(p) for p in bad_path))
        return None
    code = str(record.get("venue_code", ""))
    venue = session.scalars(
        select(Venue).where(Venue.code == code, Venue.deleted_at.is_(None))
    ).first()
    if venue is None:
        problems.add(name, f"unknown venue {code!r}", "venue_code")
        return None
    existing = session.scalars(select(Preplan.id).where(Preplan.venue_id == venue.id)).first()
    if existing is not None:
        problems.add(name, f"venue {code} already has a plan", "venue_code")
    published = record.get("published_version")
    numbers = []
    for i, version in enumerate(record["versions"]):
        where = f"versions[{i}]"
        if not isinstance(version, dict):
            problems.add(name, "a version must be an object", where)
            continue
        numbers.append(version.get("version"))
        if version.get("status") not in STATUSES:
            problems.add(name, f"unknown status {version.get('status')!r}", f"{where}.status")
        try:
            document = service.parse_document(version.get("document"))
            service.check_links(session, venue, document)
            for key in ("created_at", "reviewed_at", "published_at"):
                _time(version.get(key))
        except DomainError as err:
            for p in (err.details or {}).get("problems", [{"message": err.message}]):
                problems.add(name, p["message"], f"{where}.document.{p.get('field', '')}")
        except ValueError as err:
            problems.add(name, str(err), where)
    if numbers != list(range(1, len(numbers) + 1)):
        problems.add(name, "versions must be numbered 1, 2, 3, … in order", "versions")
    if published is not None and published not in numbers:
        problems.add(name, f"published_version {published} is not among the versions")
    files = []
    for i, entry in enumerate(record.get("attachments", [])):
        where = f"attachments[{i}]"
        file_name = str(entry.get("file", "")) if isinstance(entry, dict) else ""
        if file_name not in members:
            problems.add(name, f"attachment file {file_name!r} is not in the archive", where)
            continue
        content = members[file_name]
        try:
            kind = attachments.check(content, field=file_name)
        except DomainError as err:
            problems.add(file_name, err.message, where)
            continue
        if hashlib.sha256(content).hexdigest() != entry.get("sha256"):
            problems.add(file_name, "SHA-256 does not match the plan's entry", where)
            continue
        files.append((entry, content, kind))
    return _PlanIn(venue, record, files)


def import_zip(
    database: Database, data_dir: Path, data: bytes, principal: Principal | None = None
) -> dict[str, Any]:
    """Import a plans zip, all or nothing; returns counts, or raises listing every problem."""
    principal = principal or system_principal("import")
    problems = _Problems()
    members = _read_members(data, problems)
    manifest = members.get("manifest.json")
    if manifest is None:
        problems.add("manifest.json", "missing")
    else:
        try:
            meta = json.loads(manifest)
        except json.JSONDecodeError:
            meta = {}
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            problems.add("manifest.json", f"not a {FORMAT} v{FORMAT_VERSION} archive")
    written: list[Path] = []
    try:
        with database.session() as session:
            plans = [
                _check_plan(session, name, raw, members, problems)
                for name, raw in sorted(members.items())
                if name.startswith("plans/") and name.endswith(".json")
            ]
            listed = {e["file"] for p in plans if p for e, _c, _k in p.files}
            for name in members:
                if name.startswith("attachments/") and name not in listed:
                    problems.add(name, "file not listed by any plan")
            if problems.rows:
                raise ImportFailed(
                    f"{len(problems.rows)} problem(s); nothing was imported",
                    {"problems": problems.rows},
                    text=TextCode.IMPORT_ROWS_INVALID,
                    params={"kind": "preplan", "count": len(problems.rows)},
                )
            counts = {"plans": 0, "versions": 0, "attachments": 0}
            for item in plans:
                assert item is not None
                _write_plan(session, principal, data_dir, item, written, counts)
        return counts
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _write_plan(
    session: Session,
    principal: Principal,
    data_dir: Path,
    item: _PlanIn,
    written: list[Path],
    counts: dict[str, int],
) -> None:
    record, venue = item.record, item.venue
    plan = Preplan(venue_id=venue.id, jurisdiction_path=venue.jurisdiction_path)
    plan.latest_version = len(record["versions"])
    session.add(plan)
    session.flush()
    for v in record["versions"]:
        session.add(
            PreplanVersion(
                preplan_id=plan.id,
                version=v["version"],
                status=v["status"],
                document=service.parse_document(v["document"]).model_dump(mode="json"),
                note=str(v.get("note", ""))[:500],
                created_by=str(v.get("created_by") or principal.subject)[:120],
                created_role=str(v.get("created_role") or "")[:40],
                created_at=_time(v.get("created_at")) or utcnow(),
                reviewed_by=str(v.get("reviewed_by") or "")[:120],
                reviewed_at=_time(v.get("reviewed_at")),
                published_by=str(v.get("published_by") or "")[:120],
                published_at=_time(v.get("published_at")),
            )
        )
        counts["versions"] += 1
    published = record.get("published_version")
    if published is not None:
        version = next(v for v in record["versions"] if v["version"] == published)
        plan.published_version = published
        plan.published_at = _time(version.get("published_at")) or utcnow()
        plan.risk_grade = service.risk_grade(session, venue.id)
        plan.review_due_at = review_due(plan.published_at, plan.risk_grade)
    for entry, content, _kind in item.files:
        stored = attachments.store(data_dir, plan.id, content)
        written.append(data_dir / stored.storage_path)
        session.add(
            PreplanAttachment(
                preplan_id=plan.id,
                title=str(entry.get("title", ""))[:200],
                content_type=stored.content_type,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                storage_path=stored.storage_path,
                uploaded_by=principal.subject,
            )
        )
        counts["attachments"] += 1
    session.flush()
    record_change(
        session,
        principal,
        "preplan.import",
        "preplan",
        plan.id,
        None,
        {"venue_id": venue.id, "versions": plan.latest_version, "published": published},
    )
    counts["plans"] += 1
