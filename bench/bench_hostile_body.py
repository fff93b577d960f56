"""Memory of the API under oversized anonymous sign-ins (issue #24, finding 1).

    python bench/bench_hostile_body.py                     # 6 x 100 MiB, both peers
    python bench/bench_hostile_body.py --requests 3 --size-mib 50

Starts ``firegrid serve --api-only`` twice on 127.0.0.1 (a fresh SQLite file each time):

* ``limited``: the default settings (``FIREGRID_MAX_BODY_BYTES`` = 1 MiB);
* ``unlimited`` (the peer, the behaviour before the fix): the JSON limit raised to twice the
  request size, so the route reads every body in full.

Each server gets ``--requests`` concurrent anonymous sign-ins whose JSON body (a valid
sign-in with a ``--size-mib`` password) is sent with a Content-Length, then as many sent
chunked. Prints the server's resident memory (VmRSS) before and after, its peak (VmHWM),
the answers, and how many bytes the client managed to send before the server answered.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mib(pid: int) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            values[name] = int(rest.split()[0]) / 1024
    return values


def start_server(database: str, port: int, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **extra_env,
        "PYTHONPATH": str(ROOT / "src"),
        "FIREGRID_LOG_LEVEL": "ERROR",
    }
    command = [sys.executable, "-m", "firegrid.cli", "serve", "--api-only", "--db", database]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):  # bounded: 60 s
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def sign_in(port: int, size: int, chunked: bool) -> tuple[str, int]:
    """One anonymous sign-in with a ``size``-byte body; returns (status line, bytes sent)."""
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    )
    prefix, suffix = b'{"username": "dispatcher", "password": "', b'"}'
    padding = size - len(prefix) - len(suffix)
    head += (
        b"Transfer-Encoding: chunked\r\n\r\n" if chunked else b"Content-Length: %d\r\n\r\n" % size
    )
    block = b"x" * MIB
    parts = [prefix] + [block] * (padding // MIB) + [b"x" * (padding % MIB), suffix]
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(head)
        try:
            for part in parts:
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                sent += len(part)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answer = sock.recv(200).split(b"\r\n", 1)[0].decode()
        except (ConnectionResetError, TimeoutError):
            answer = "(connection closed)"
    return answer, sent


def attack(port: int, requests: int, size: int, chunked: bool) -> tuple[Counter[str], int]:
    results: list[tuple[str, int]] = []
    threads = [
        threading.Thread(target=lambda: results.append(sign_in(port, size, chunked)))
        for _ in range(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return Counter(status for status, _ in results), max((sent for _, sent in results), default=0)


def run(name: str, requests: int, size: int, extra_env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{Path(tmp) / 'bench.db'}"
        port = free_port()
        server = start_server(database, port, extra_env)
        try:
            time.sleep(1.0)
            before = memory_mib(server.pid)
            print(f"{name}: RSS before {before['VmRSS']:.0f} MiB")
            for chunked in (False, True):
                answers, most_sent = attack(port, requests, size, chunked)
                after = memory_mib(server.pid)
                how = "chunked" if chunked else "Content-Length"
                print(
                    f"{name}: {requests} x {size / MIB:.0f} MiB sign-ins ({how}): answers "
                    f"{dict(answers)}; most bytes one client sent {most_sent / MIB:.1f} MiB; "
                    f"RSS after {after['VmRSS']:.0f} MiB, peak {after['VmHWM']:.0f} MiB"
                )
        finally:
            server.terminate()
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=6)
    parser.add_argument("--size-mib", type=int, default=100)
    args = parser.parse_args()
    size = args.size_mib * MIB
    load = os.getloadavg()[0]
    print(
        f"machine: {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}; load average at start {load:.1f} (shared machine)"
    )
    run("limited (default 1 MiB)", args.requests, size, {})
    run(
        "unlimited (peer: before #24)",
        args.requests,
        size,
        {"FIREGRID_MAX_BODY_BYTES": str(2 * size)},
    )


if __name__ == "__main__":
    main()
