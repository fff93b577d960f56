"""The policy in force: versions of the policy document in ``alarm_policy_versions``.

Versions are only added. Version 1 is the shipped ``rules.yaml``, stored the first time a
process asks for the policy of an empty table. An edit validates the whole document
(:func:`firegrid.alarms.policy_doc.validate_document`, incident types asked of dispatch),
stores version ``n + 1`` with author, time, cause and what changed, and is audited.

Every process follows the newest version without restart: :func:`current` costs one
primary-key query (``max(version)``) and parses a document only when the version moved
(cached per database). The correlator calls it once per batch, the timer loop once per
pass and the API once per request that needs the policy.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.alarms.models import AlarmPolicyVersion
from firegrid.alarms.policy_doc import PolicyDocument, changes, validate_document
from firegrid.alarms.rules import default_document
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import Conflict, NotFound, ValidationFailed
from firegrid.core.texts import TextCode

log = logging.getLogger(__name__)

SEED_AUTHOR = "system:seed"
SEED_CAUSE = "shipped default (firegrid/alarms/rules.yaml)"


@dataclass(frozen=True)
class StoredPolicy:
    """A version of the policy: the validated document and who stored it, when and why."""

    version: int
    document: PolicyDocument
    created_at: datetime
    created_by: str
    cause: str
    changes: tuple[dict[str, Any], ...] = ()

    def summary(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "cause": self.cause,
            "changes": list(self.changes),
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), "document": self.document.as_data()}


def incident_types(session: Session) -> frozenset[str]:
    """The incident types dispatch has response plans for (asked of its service)."""
    from firegrid.dispatch.plans import planned_incident_types

    return planned_incident_types(session)


def venue_categories() -> frozenset[str]:
    from firegrid.places.public import load_taxonomy

    return frozenset(load_taxonomy().categories)


def check(session: Session, data: Any) -> PolicyDocument:
    """Validate a document against dispatch's incident types and the venue taxonomy."""
    return validate_document(
        data, incident_types=incident_types(session), categories=venue_categories()
    )


def _seed_document() -> dict[str, Any]:
    policy, rules = default_document()
    return PolicyDocument(policy, rules).as_data()


def _stored(row: AlarmPolicyVersion, document: PolicyDocument) -> StoredPolicy:
    return StoredPolicy(
        version=row.version,
        document=document,
        created_at=row.created_at,
        created_by=row.created_by,
        cause=row.cause,
        changes=tuple(row.changes or ()),
    )


def _load(row: AlarmPolicyVersion) -> StoredPolicy:
    # Stored versions were validated when saved; re-check the structure only (the set of
    # incident types may have changed since, which must not stop the centre).
    return _stored(row, validate_document(row.document, incident_types=None))


def latest_version(session: Session) -> int | None:
    return session.scalar(select(func.max(AlarmPolicyVersion.version)))


def ensure_seeded(session: Session) -> None:
    """Store the shipped document as version 1 if the table is empty (race-safe)."""
    if latest_version(session) is not None:
        return
    data = _seed_document()
    try:
        check(session, data)
    except ValidationFailed as exc:
        # The shipped default is stored all the same (the centre must run): the supervisor
        # sees the problem here and in the refusal of any edit that keeps it.
        log.error("the shipped alarm policy does not fit this database: %s", exc.message)
        validate_document(data, incident_types=None)
    try:
        with session.begin_nested():
            session.add(
                AlarmPolicyVersion(
                    version=1,
                    document=data,
                    changes=[],
                    created_at=utcnow(),
                    created_by=SEED_AUTHOR,
                    cause=SEED_CAUSE,
                )
            )
    except IntegrityError:  # another process seeded it first
        pass


_lock = threading.Lock()
_cache: dict[str, StoredPolicy] = {}


def _cache_key(session: Session) -> str:
    return str(session.get_bind().engine.url)


_VERSIONS: Table = AlarmPolicyVersion.__table__  # type: ignore[assignment]
#: The per-batch check: built once, a Core statement (no ORM machinery per call).
_NEWEST = (
    select(_VERSIONS.c.version, _VERSIONS.c.created_at)
    .order_by(_VERSIONS.c.version.desc())
    .limit(1)
)


def _newest(session: Session) -> tuple[int, datetime] | None:
    found = session.connection().execute(_NEWEST).first()
    return None if found is None else (found[0], found[1])


def current(session: Session) -> StoredPolicy:
    """The policy in force (the newest version): one cheap query, parsed once per version."""
    newest = _newest(session)
    if newest is None:
        ensure_seeded(session)
        newest = _newest(session)
        assert newest is not None
    key = _cache_key(session)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and (cached.version, cached.created_at) == newest:
        return cached
    row = session.get(AlarmPolicyVersion, newest[0])
    assert row is not None
    stored = _load(row)
    with _lock:
        _cache[key] = stored
    return stored


def current_from(db: Database) -> StoredPolicy:
    """:func:`current` in a short transaction of its own (timer loop)."""
    with db.session() as session:
        return current(session)


def get_version(session: Session, version: int) -> StoredPolicy:
    ensure_seeded(session)
    row = session.get(AlarmPolicyVersion, version)
    if row is None:
        raise NotFound(
            f"policy version {version} not found",
            {"version": version},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "policy_version", "id": version},
        )
    return _load(row)


def history(session: Session, *, limit: int = 100) -> list[StoredPolicy]:
    """Versions, newest first (with what each changed)."""
    ensure_seeded(session)
    rows = session.scalars(
        select(AlarmPolicyVersion).order_by(AlarmPolicyVersion.version.desc()).limit(limit)
    ).all()
    return [_load(row) for row in rows]


def save(
    session: Session,
    principal: Principal,
    data: Any,
    *,
    cause: str,
    base_version: int | None = None,
    now: Callable[[], datetime] = utcnow,
) -> StoredPolicy:
    """Validate ``data`` and store it as the next version (audited).

    ``base_version``: the version the editor started from; if another edit was stored
    meanwhile the save is refused with :class:`Conflict` instead of silently overwriting it.
    """
    document = check(session, data)
    ensure_seeded(session)
    latest = latest_version(session) or 0
    if base_version is not None and base_version != latest:
        raise Conflict(
            f"the policy changed meanwhile: you edited version {base_version}, "
            f"version {latest} is in force; reload and edit again",
            {"base_version": base_version, "current_version": latest},
            text=TextCode.POLICY_CHANGED_MEANWHILE,
            params={"base_version": base_version, "current_version": latest},
        )
    previous = session.get(AlarmPolicyVersion, latest)
    before = previous.document if previous is not None else None
    after = document.as_data()
    row = AlarmPolicyVersion(
        version=latest + 1,
        document=after,
        changes=changes(before, after),
        created_at=now(),
        created_by=principal.username[:80],
        cause=cause,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(
            f"another edit stored version {latest + 1} meanwhile; reload and edit again",
            {"current_version": latest + 1},
            text=TextCode.POLICY_CHANGED_MEANWHILE,
            params={"base_version": latest, "current_version": latest + 1},
        ) from None
    record_change(
        session,
        principal,
        "alarm_policy.edit",
        "alarm_policy",
        row.version,
        None if before is None else {"version": latest, "document": before},
        {"version": row.version, "document": after},
        cause=cause,
        changes=row.changes,
    )
    return _stored(row, document)
