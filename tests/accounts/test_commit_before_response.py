"""A write is durable before its response leaves the app ("nothing acknowledged is lost").

Drives the ASGI app directly: at the moment the app sends the last body chunk of a sign-in,
a second connection must already see the new session. With the request session's commit
after the response (FastAPI's default scope for ``yield`` dependencies) the browser could
present its new cookie before the session exists, and a failed commit would follow a 200.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from firegrid.accounts.models import AuthSession
from firegrid.core.db import Database
from tests.accounts.city import PASSWORD, City, make_user


def _sessions_of(db: Database, username: str) -> int:
    from firegrid.accounts.models import User

    with db.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AuthSession)
                .join(User, User.id == AuthSession.user_id)
                .where(User.username == username)
            )
            or 0
        )


def test_sign_in_is_committed_before_the_response_is_sent(
    app: FastAPI, db: Database, city: City
) -> None:
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    body = json.dumps({"username": "alice", "password": PASSWORD, "mode": "cookie"}).encode()
    seen: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            seen["sessions_when_sent"] = _sessions_of(db, "alice")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/auth/login",
        "raw_path": b"/api/v1/auth/login",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "app": app,
    }
    asyncio.run(app(scope, receive, send))
    assert seen["status"] == 200
    assert seen["sessions_when_sent"] == 1, "the response left before the sign-in was committed"
