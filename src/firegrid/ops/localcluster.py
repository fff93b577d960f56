"""A throw-away NATS JetStream cluster on spare 127.0.0.1 ports, for the cluster tests and the
fault suite (``bench/faults.py``): three ``nats-server`` processes with their own store
directories, routes between them, killed (``-9``) and restarted one by one.

It runs the Debian ``nats-server`` binary (``/usr/sbin/nats-server``); production clusters are
set up by their operators (docs/production.md shows the same settings).
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import nats

START_TIMEOUT_S = 30.0


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            sockets.append(probe)
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def nats_server_binary() -> str:
    found = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not Path(found).exists():
        raise FileNotFoundError(
            "nats-server is not installed (Debian: apt-get install nats-server)"
        )
    return found


@dataclass
class Node:
    name: str
    client_port: int
    route_port: int
    store_dir: Path
    config: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"


@dataclass
class LocalCluster:
    """Three (or ``size``) JetStream servers in one cluster under ``directory``."""

    directory: Path
    size: int = 3
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        ports = free_ports(2 * self.size)
        for i in range(self.size):
            name = f"n{i + 1}"
            self.nodes.append(
                Node(
                    name=name,
                    client_port=ports[2 * i],
                    route_port=ports[2 * i + 1],
                    store_dir=self.directory / name,
                    config=self.directory / f"{name}.conf",
                )
            )
        for node in self.nodes:
            routes = ", ".join(
                f"nats-route://127.0.0.1:{other.route_port}"
                for other in self.nodes
                if other is not node
            )
            node.store_dir.mkdir(parents=True, exist_ok=True)
            node.config.write_text(
                f"server_name: {node.name}\n"
                f"listen: 127.0.0.1:{node.client_port}\n"
                f'jetstream {{ store_dir: "{node.store_dir}", max_memory_store: 64MB, '
                "max_file_store: 2GB }\n"
                f"cluster {{ name: firegrid-test, listen: 127.0.0.1:{node.route_port}, "
                f"routes: [{routes}] }}\n",
                encoding="utf-8",
            )

    @property
    def url(self) -> str:
        """Every server, comma-separated (``FIREGRID_NATS_URL``)."""
        return ",".join(node.url for node in self.nodes)

    def start_node(self, node: Node) -> None:
        log = (self.directory / f"{node.name}.log").open("ab")
        node.process = subprocess.Popen(  # noqa: S603 - fixed binary and our own config
            [nats_server_binary(), "-c", str(node.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start(self) -> None:
        for node in self.nodes:
            self.start_node(node)
        asyncio.run(self.wait_ready())

    def kill(self, node: Node) -> None:
        """``kill -9`` one server (its store directory is kept)."""
        if node.process is not None:
            node.process.send_signal(signal.SIGKILL)
            node.process.wait(timeout=10)
            node.process = None

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None:
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                node.process = None

    async def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Until JetStream answers through every running server (a meta leader exists)."""
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        for node in self.nodes:
            if node.process is None:
                continue
            while True:
                try:
                    nc = await nats.connect(node.url, connect_timeout=1, allow_reconnect=False)
                    try:
                        await nc.jetstream().account_info()
                    finally:
                        await nc.close()
                    break
                except Exception as exc:
                    last = exc
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"NATS cluster not ready: {last}") from exc
                    await asyncio.sleep(0.25)

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
