"""First load of the monitor view in Chromium: bytes over the wire, requests, map ready.

    python bench/bench_console_load.py --build /tmp/console-bench          # builds the demo city
    python bench/bench_console_load.py --db sqlite:////tmp/x/demo.db --data-dir /tmp/x/data
    python bench/bench_console_load.py ... --throttle-kbps 400             # a slow phone link

Starts ``firegrid serve`` on a free 127.0.0.1 port against the demo city (synthetic,
Dongguan-shaped, seed 7: 50,000 venues, 25,000 hydrants, a 253,824-node road network),
signs the monitoring-centre operator in through the API, then opens ``/#/monitor`` in
Debian's headless Chromium on a cold cache (Playwright + the DevTools protocol) and prints
the compressed bytes received, the number of requests, the time until the map is drawn
(``[data-ready=true]``), and the bytes and request count per path. Targets (issue 19):
≤ 500 KB, map ready ≤ 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.console_load import measure_first_load, sign_in  # noqa: E402

CHROMIUM = os.environ.get("FIREGRID_CHROMIUM", "/usr/bin/chromium")
FIREGRID = Path(sys.executable).with_name("firegrid")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build(directory: Path) -> tuple[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{directory / 'demo.db'}"
    env = {**os.environ, "FIREGRID_DATA_DIR": str(directory / "data")}
    subprocess.run(
        [str(FIREGRID), "demo", "--no-serve", "--db", url, "--json", "-q"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return url, directory / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database of a built demo city")
    parser.add_argument("--data-dir", type=Path, help="its FIREGRID_DATA_DIR")
    parser.add_argument("--build", type=Path, help="build the demo city in this directory")
    parser.add_argument("--user", default="monitor")
    parser.add_argument("--password", default="firegrid-alarms-2026")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--throttle-kbps", type=float, default=None)
    args = parser.parse_args()
    if args.build:
        url, data_dir = build(args.build)
    elif args.db and args.data_dir:
        url, data_dir = args.db, args.data_dir
    else:
        parser.error("give --build DIR or --db URL --data-dir DIR")
    port = free_port()
    env = {**os.environ, "FIREGRID_DATA_DIR": str(data_dir), "FIREGRID_ENV": "development"}
    server = subprocess.Popen(
        [str(FIREGRID), "serve", "--db", url, "--port", str(port), "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.3)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            results = []
            for run in range(args.runs):
                context = browser.new_context(viewport={"width": 1920, "height": 1080})
                sign_in(context, base, args.user, args.password)
                load = measure_first_load(context, base, throttle_kbps=args.throttle_kbps)
                context.close()
                results.append(load)
                print(
                    f"run {run + 1}: {load.bytes_total / 1000:.1f} KB in {load.requests} "
                    f"requests, map ready {load.map_ready_s:.2f} s"
                )
            browser.close()
        last = results[-1].as_dict()
        print(
            json.dumps(
                {
                    "per_path_bytes": last["by_path"],
                    "fetches": last["fetch_counts"],
                    "finished_s": last["finished_s"],
                },
                indent=1,
            )
        )
        ready = sorted(r.map_ready_s for r in results)
        print(
            f"summary: bytes {min(r.bytes_total for r in results) / 1000:.1f}–"
            f"{max(r.bytes_total for r in results) / 1000:.1f} KB (target ≤ 500 KB), "
            f"requests {results[-1].requests}, map ready median {ready[len(ready) // 2]:.2f} s "
            f"(target ≤ 3 s), throttle {args.throttle_kbps or 'none'} kbit/s"
        )
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
