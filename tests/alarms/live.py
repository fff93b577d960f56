"""A real HTTP server on 127.0.0.1 in a thread, and a small SSE client."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class SseReader:
    """Reads SSE events from a streaming httpx response (in a thread)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.events: list[dict[str, Any]] = []
        self.comments: list[str] = []
        self.received_at: list[float] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        current: dict[str, Any] = {}
        try:
            for line in self.response.iter_lines():
                if line.startswith(":"):
                    with self._lock:
                        self.comments.append(line[1:].strip())
                elif line.startswith("data: "):
                    current["data"] = json.loads(line[6:])
                elif line.startswith("id: "):
                    value = line[4:]  # the alarm feed's ids are numbers, the channel's not
                    current["id"] = int(value) if value.isdigit() else value
                elif line.startswith("event: "):
                    current["event"] = line[7:]
                elif line == "" and "data" not in current:
                    current = {}  # an id-only message sets the position, no event (SSE)
                elif line == "":
                    with self._lock:
                        self.events.append(current)
                        self.received_at.append(time.time())
                    current = {}
        except (httpx.HTTPError, RuntimeError):
            return

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for item in self.events:
                    if predicate(item):
                        return item
            time.sleep(0.005)
        raise AssertionError(f"no matching SSE event within {timeout} s; got {self.events[-5:]}")

    def wait_comment(self, text: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if any(text in c for c in self.comments):
                    return
            time.sleep(0.01)
        raise AssertionError(f"no comment {text!r}")


@contextmanager
def sse(url: str, headers: dict[str, str], **params: Any) -> Iterator[SseReader]:
    with (
        httpx.Client(timeout=httpx.Timeout(30.0, read=60.0)) as client,
        client.stream(
            "GET", url, headers={**headers, "Accept": "text/event-stream"}, params=params
        ) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield SseReader(response)
