"""Request body size limits (#24, finding 1: six anonymous 100 MiB sign-ins grew the API
from 435 to 1,678 MiB RSS).

A JSON route refuses a body over ``max_body_bytes`` with 413 and the error envelope: at
once when ``Content-Length`` says so, and while counting when the body is chunked, so the
app never reads much past the limit. Upload routes take more, by design and by setting.
"""

# ruff: noqa: F811 - the fixtures imported from tests.hostile.api_world are test arguments

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from tests.accounts.city import City
from tests.alarms.live import live_server
from tests.hostile.api_world import (  # noqa: F401 - fixtures
    _cheap_password_hashing,
    admin,
    app,
    city,
    client,
    envelope_of,
)

LOGIN = "/api/v1/auth/login"
MIB = 1024 * 1024


def _login_body(size: int) -> bytes:
    """A well-formed sign-in of about ``size`` bytes (the password is the padding)."""
    return json.dumps({"username": "dispatcher", "password": "x" * size}).encode()


def test_declared_oversize_json_body_is_413_with_envelope(client: TestClient, settings: Settings):
    body = _login_body(2 * MIB)
    response = client.post(LOGIN, content=body, headers={"content-type": "application/json"})
    error = envelope_of(response, 413, "too_large")
    assert error["details"] == {"max_bytes": settings.max_body_bytes}
    assert settings.max_body_bytes == MIB


def test_chunked_oversize_json_body_is_413(client: TestClient):
    sent = 0

    def chunks() -> Iterator[bytes]:  # no Content-Length: httpx sends it chunked
        nonlocal sent
        for _ in range(40):
            sent += 64 * 1024
            yield b" " * (64 * 1024)

    response = client.post(LOGIN, content=chunks(), headers={"content-type": "application/json"})
    envelope_of(response, 413, "too_large")


def test_body_under_the_limit_still_reaches_the_route(client: TestClient):
    response = client.post(
        LOGIN, content=_login_body(1000), headers={"content-type": "application/json"}
    )
    assert response.status_code == 401  # wrong password: the route ran


def test_limits_are_settings_per_route(
    settings: Settings, db: Database, city: City, admin: dict[str, str]
):
    tight = settings.model_copy(update={"max_body_bytes": 2048, "max_upload_body_bytes": 4096})
    with TestClient(create_app(tight, db)) as small:
        envelope_of(
            small.post(
                LOGIN, content=_login_body(3000), headers={"content-type": "application/json"}
            ),
            413,
            "too_large",
        )
        # An import is an upload route: a 3 KB file passes its larger limit (and fails on
        # its content instead), a 5 KB one does not.
        csv_3k = b"code,name\n" + b"X-1," + b"n" * 3000 + b"\n"
        passed = small.post(
            "/api/v1/imports/venues", files={"file": ("v.csv", csv_3k)}, headers=admin
        )
        assert passed.status_code == 422, passed.text
        assert passed.json()["error"]["code"] == "import_failed"
        csv_5k = b"code,name\n" + b"X-1," + b"n" * 5000 + b"\n"
        envelope_of(
            small.post("/api/v1/imports/venues", files={"file": ("v.csv", csv_5k)}, headers=admin),
            413,
            "too_large",
        )


def test_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FIREGRID_MAX_BODY_BYTES", "12345")
    monkeypatch.setenv("FIREGRID_MAX_UPLOAD_BODY_BYTES", "67890")
    loaded = Settings()
    assert (loaded.max_body_bytes, loaded.max_upload_body_bytes) == (12345, 67890)


class CountingApp:
    """Counts the request body bytes the wrapped app pulled (what it could hold in memory)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.received = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counting_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
            return message

        await self.app(scope, counting_receive, send)


def _raw_post(base: str, head: bytes, chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """Send ``head`` and then ``chunks`` over TCP until the server answers; returns the
    answer's first bytes and how many body bytes were sent."""
    parts = urlsplit(base)
    sent = 0
    answer = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head)
        for chunk in chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.settimeout(10)
        try:
            answer = sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            answer = b""
    return answer, sent


def test_real_server_stops_reading_a_huge_chunked_sign_in(app: FastAPI):
    """Over real TCP (uvicorn): a 100 MiB chunked sign-in is cut off near the 1 MiB limit."""
    counting = CountingApp(app)
    chunk = b"x" * (64 * 1024)
    total_chunks = 1600  # 100 MiB if the server kept reading
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    with live_server(counting) as base:  # type: ignore[arg-type]
        answer, sent = _raw_post(base, head, (framed for _ in range(total_chunks)))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"too_large"' in answer
    # The limit plus what one read of the server may hold (uvicorn hands over what TCP had).
    assert counting.received <= 2 * MIB
    assert sent < total_chunks * len(chunk)


def test_real_server_refuses_a_declared_100_mib_body_unread(app: FastAPI):
    counting = CountingApp(app)
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
    )
    with live_server(counting) as base:  # type: ignore[arg-type]
        answer, _sent = _raw_post(base, head, iter([b"{" + b" " * 65535] * 4))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert counting.received == 0
