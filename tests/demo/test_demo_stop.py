"""``firegrid demo`` stopped with SIGTERM stops the simulators it started.

uvicorn ends its graceful shutdown by raising the signal again under the previous handler;
with Python's default one the process died there and the demo's simulated 110 centre and
grid platform were left running, holding their ports. ``firegrid.api.shutdown.run`` now turns
SIGTERM into ``SystemExit(143)``. The real server runs here (a tiny app on it) with a
stand-in simulator, and gets a real SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import psutil

# the shape of ``firegrid demo``: simulators started, the server run, the simulators
# stopped in a ``finally``
SERVER = """
import subprocess, sys
from fastapi import FastAPI
from firegrid.api import shutdown
from firegrid.demo.centre110 import stop_centre

simulator = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(simulator.pid, flush=True)
try:
    app = FastAPI()
    shutdown.install(app)
    shutdown.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None)
finally:
    stop_centre(simulator)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_sigterm_stops_the_simulators_and_exits_as_terminated() -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    simulator_pid = 0
    try:
        assert server.stdout is not None
        simulator_pid = int(server.stdout.readline())
        deadline = time.monotonic() + 30
        while not _accepts(port):
            assert server.poll() is None, "the server exited before listening"
            assert time.monotonic() < deadline, "the server did not listen within 30 s"
            time.sleep(0.05)
        assert _running(simulator_pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 128 + signal.SIGTERM
        assert not _running(simulator_pid), "the simulator outlived the demo"
    finally:
        if server.poll() is None:
            server.kill()
        if simulator_pid and psutil.pid_exists(simulator_pid):
            os.kill(simulator_pid, signal.SIGKILL)
