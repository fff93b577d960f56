"""Idempotent creation: the same ``Idempotency-Key`` gives the first result, never a second row.

A grid worker's phone keeps a submission made offline and sends it when the network is
back, retrying until it hears an answer — so the server may see it more than once. The
client makes one key per submission; :func:`claim` stores it (unique per caller) in the
creating transaction:

- a first submission claims the key and goes on (:class:`Claim` with ``replay_id`` None);
  :func:`settle` records the id it created;
- a repeat with the same request finds the stored id (``replay_id``) and the route
  answers with that resource as it is now;
- the key reused for a different request (another body, another kind) is a 409 naming
  the key.

Two copies racing: the key row is inserted first, in a savepoint; on PostgreSQL the second
insert waits for the first transaction and then fails the unique constraint, so the
second copy reads the first one's id (SQLite serialises writers anyway).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.core.clock import utcnow
from firegrid.core.errors import Conflict, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.inspections.models import SubmissionKey

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{8,80}$")
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Claim:
    row: SubmissionKey | None  # None: no key was sent
    replay_id: int | None  # the first submission's resource, for a repeat

    @property
    def is_replay(self) -> bool:
        return self.replay_id is not None


NO_KEY = Claim(None, None)


def request_digest(*parts: Any) -> str:
    """SHA-256 of the request's parts (JSON-able values or bytes), order significant."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            digest.update(hashlib.sha256(part).digest())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"\x1f")
    return digest.hexdigest()


def check_key(key: str) -> str:
    if not KEY_PATTERN.match(key):
        raise ValidationFailed(
            f"{HEADER} must be 8 to 80 characters of letters, digits and _.:-",
            {"header": HEADER, "length": len(key)},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": HEADER, "value": key[:80], "expected": "8-80 A-Z a-z 0-9 _.:-"},
        )
    return key


def claim(session: Session, principal: Principal, key: str | None, kind: str, digest: str) -> Claim:
    """Claim ``key`` for this request, or find the first submission made with it."""
    if key is None:
        return NO_KEY
    check_key(key)
    subject = principal.subject[:80]
    row = SubmissionKey(
        subject=subject, key=key, kind=kind, request_sha256=digest, created_at=utcnow()
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
        return Claim(row, None)
    except IntegrityError:
        pass
    first = session.scalars(
        select(SubmissionKey).where(SubmissionKey.subject == subject, SubmissionKey.key == key)
    ).one()
    if first.kind != kind or first.request_sha256 != digest:
        raise Conflict(
            f"{HEADER} {key!r} was already used for a different request; "
            "send a new key for a new submission",
            {"header": HEADER, "key": key, "kind": first.kind},
            text=TextCode.IDEMPOTENCY_KEY_REUSED,
            params={"key": key},
        )
    if first.resource_id is None:  # pragma: no cover - settled in the same transaction
        raise Conflict(
            f"the submission with {HEADER} {key!r} is still in progress",
            {"key": key},
            text=TextCode.SUBMISSION_IN_PROGRESS,
            params={"key": key},
        )
    return Claim(first, first.resource_id)


def settle(session: Session, claimed: Claim, resource_id: int) -> None:
    """Record what the first submission created."""
    if claimed.row is not None and not claimed.is_replay:
        claimed.row.resource_id = resource_id
        session.flush()
