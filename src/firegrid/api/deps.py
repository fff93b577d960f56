"""Dependencies shared by every router: database session, caller, jurisdiction scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.core.db import Database
from firegrid.core.settings import Settings


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    """One session per request; committed when the handler returns without error."""
    with db.session() as session:
        yield session


# ``scope="function"``: the commit runs when the handler returns, *before* the response is
# sent. With FastAPI's default ("request") it would run after, so a client could be told
# "saved" (and act on it: a sign-in cookie, an id) before the write is durable, or at all.
SESSION = Depends(get_session, scope="function")
SessionDep = Annotated[Session, SESSION]


def get_principal(request: Request, session: SessionDep) -> Principal:
    """Authenticate the caller (bearer token, session cookie or API key)."""
    from firegrid.accounts.auth import authenticate_request

    return authenticate_request(request, session)


def require(permission: str) -> Callable[..., Principal]:
    """A dependency that authenticates the caller and checks one permission of its role."""

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.check(permission)
        return principal

    dependency.__name__ = f"require_{permission.replace(':', '_')}"
    return dependency


async def raw_body(request: Request) -> bytes:
    """The request's body as sent (a signature is checked over these bytes)."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]
DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
