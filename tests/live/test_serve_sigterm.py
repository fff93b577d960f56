"""``firegrid serve`` exits promptly on SIGTERM while consoles hold live streams open
(the channel and the alarm feed): the streams end when the shutdown begins."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from firegrid.core.db import Database
from firegrid.core.migrate import upgrade
from tests.accounts.city import PASSWORD, build_city, make_user, use_cheap_hasher
from tests.alarms.live import free_port

ROOT = Path(__file__).resolve().parents[2]


def _hold(url: str, token: str, lines: list[str], ended: threading.Event) -> None:
    try:
        with (
            httpx.Client(timeout=httpx.Timeout(30.0, read=60.0)) as client,
            client.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response,
        ):
            for line in response.iter_lines():
                lines.append(line)
    except httpx.HTTPError:
        pass
    finally:
        ended.set()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_serve_exits_on_sigterm_with_open_streams(tmp_path: Path) -> None:
    use_cheap_hasher()
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade(url)
    db = Database(url)
    city = build_city(db)
    make_user(db, "operator", "monitor_operator", city.code("town", "in"))
    db.dispose()
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "FIREGRID_ENV": "test",
        "FIREGRID_DATA_DIR": str(tmp_path / "data"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firegrid.cli",
            "serve",
            "--db",
            url,
            "--port",
            str(port),
            "--no-migrate",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "firegrid serve did not start"
            time.sleep(0.2)
        login = httpx.post(
            base + "/api/v1/auth/login",
            json={"username": "operator", "password": PASSWORD},
            timeout=15,
        )
        token = login.json()["access_token"]
        streams = []
        for path in ("/api/v1/live", "/api/v1/alarms/feed", "/api/v1/live"):
            lines: list[str] = []
            ended = threading.Event()
            threading.Thread(
                target=_hold, args=(base + path, token, lines, ended), daemon=True
            ).start()
            streams.append((path, lines, ended))
        deadline = time.monotonic() + 15
        while not all(
            any(line.startswith(("event: hello", "retry")) for line in s[1]) for s in streams
        ):
            assert time.monotonic() < deadline, [s[1] for s in streams]
            time.sleep(0.05)
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        # A generous bound: without ending the streams the process never exits at all.
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("firegrid serve did not exit on SIGTERM with open streams")
        print(f"\n[serve] exited {time.monotonic() - sent:.2f} s after SIGTERM with 3 open streams")
        assert all(s[2].wait(5) for s in streams), "a stream stayed open"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
