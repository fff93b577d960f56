"""How an import meets the rows already stored: ``insert`` (every row is new — the default),
``upsert`` (a row whose ``code`` matches a stored one updates it; the others are created) and
``replace`` (upsert, then the stored rows of that kind in the caller's scope that the file
does not list are deleted — soft, audited, with the same checks as the API's delete).

The key is the kind's ``code``: the stable external key every importable kind carries, and
what an export writes, so an export edited and imported again updates instead of failing.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.api.crud import Resource, _audit, row_snapshot, scoped_select
from firegrid.core.clock import utcnow
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.core.writes import WriteContext

ImportMode = Literal["insert", "upsert", "replace"]
MODES: tuple[str, ...] = ("insert", "upsert", "replace")


def check_mode(mode: str) -> ImportMode:
    if mode not in MODES:
        raise ValidationFailed(
            f"unknown import mode {mode!r}: insert, upsert or replace",
            {"mode": mode},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "mode", "value": mode, "allowed": "insert, upsert, replace"},
        )
    return mode  # type: ignore[return-value]


class KeyedRows:
    """The stored rows of one kind in the caller's scope, by code, for one import."""

    def __init__(self, session: Session, resource: Resource, principal: Principal) -> None:
        if not hasattr(resource.model, "code"):
            raise ValidationFailed(
                f"{resource.name} have no stable key (code): import them with --mode insert",
                text=TextCode.IMPORT_NO_STABLE_KEY,
                params={"kind": resource.name},
            )
        rows = session.scalars(scoped_select(resource, principal)).all()
        self.by_code: dict[str, Any] = {row.code: row for row in rows}
        self.seen: set[str] = set()

    def existing(self, values: dict[str, Any]) -> Any | None:
        """The stored row this file row updates, if any; a code twice in a file is an error."""
        code = values.get("code")
        if code is None:
            return None
        if code in self.seen:
            raise ValidationFailed(
                f"code {code!r} appears more than once in the file",
                text=TextCode.IMPORT_DUPLICATE_CODE,
                params={"code": code},
            )
        self.seen.add(code)
        return self.by_code.get(code)

    def update(
        self, ctx: WriteContext, resource: Resource, row: Any, values: dict[str, Any]
    ) -> bool:
        """Apply ``values`` to ``row``; False when nothing differs (no write, no audit)."""
        changed = {k: v for k, v in values.items() if getattr(row, k, None) != v}
        if not changed:
            return False
        before = row_snapshot(row)
        for key, value in changed.items():
            setattr(row, key, value)
        ctx.session.flush()
        _audit(ctx, "update", resource, row, before)
        return True

    def delete_missing(self, ctx: WriteContext, resource: Resource) -> int:
        """Soft-delete the stored rows the file did not list (``replace``)."""
        deleted = 0
        for code, row in sorted(self.by_code.items()):
            if code in self.seen:
                continue
            if resource.check_delete is not None:
                resource.check_delete(ctx, row)
            before = row_snapshot(row)
            row.deleted_at = utcnow()
            ctx.session.flush()
            _audit(ctx, "delete", resource, row, before)
            deleted += 1
        return deleted
