"""The fault suite's small variant (one fault, ~15 s of load): a 3-node JetStream cluster of
its own, the stream leader killed -9 mid-run, and every frame confirmed to a device is in the
log exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from firegrid.ops.localcluster import nats_server_binary
from tests.conftest import service_missing
from tests.ingest.conftest import reachable

pytestmark = pytest.mark.nats

SUITE = Path(__file__).resolve().parents[2] / "bench" / "faults.py"


def test_killing_the_stream_leader_loses_and_duplicates_nothing() -> None:
    try:
        nats_server_binary()
    except FileNotFoundError:
        service_missing("nats-server binary for the fault suite's cluster")
    if not reachable("127.0.0.1", 5432):
        service_missing("PostgreSQL at 127.0.0.1:5432 (the fault suite's database)")
    done = subprocess.run(
        [
            sys.executable,
            str(SUITE),
            *("--fault", "nats-node", "--rate", "200", "--duration", "15", "--devices", "20"),
            *("--timeout", "150", "--json"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["killed"]["node"] == result["killed"]["stream_leader"]
    assert result["acknowledged"] > 1000
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["stored"] == result["acknowledged"]
