"""Count what the monitor view's first load costs in Chromium: bytes over the wire, requests.

Shared by the budget test (tests/web/test_console_map_e2e.py) and the benchmark
(bench/bench_console_load.py). Bytes are the compressed bytes Chromium received, as the
DevTools protocol reports them (``Network.loadingFinished.encodedDataLength``, headers
included; for a stream still open at the end, the sum of its ``Network.dataReceived``).
The session cookie is set by an API sign-in first, so the count is the monitor page itself
on a cold browser cache: the HTML, the console's code, and the map's first layers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class FirstLoad:
    bytes_total: int
    requests: int
    map_ready_s: float
    by_path: dict[str, int] = field(default_factory=dict)
    fetch_counts: dict[str, int] = field(default_factory=dict)
    #: seconds from the start of the load until each request finished (the last one)
    finished_s: dict[str, float] = field(default_factory=dict)
    #: full URLs (path and query) asked more than once, with their counts
    repeated: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "bytes_total": self.bytes_total,
            "requests": self.requests,
            "map_ready_s": round(self.map_ready_s, 3),
            "by_path": dict(sorted(self.by_path.items(), key=lambda kv: -kv[1])),
            "fetch_counts": self.fetch_counts,
            "repeated": self.repeated,
            "finished_s": dict(sorted(self.finished_s.items(), key=lambda kv: kv[1])),
        }


def sign_in(context: Any, base: str, username: str, password: str) -> None:
    """Sign in through the API with a session cookie (the login page is not counted)."""
    response = context.request.post(
        base + "/api/v1/auth/login",
        data={"username": username, "password": password, "mode": "cookie"},
    )
    assert response.ok, response.text()


def measure_first_load(
    context: Any,
    base: str,
    *,
    view: str = "monitor",
    throttle_kbps: float | None = None,
    settle_ms: int = 1500,
    timeout_ms: int = 120_000,
) -> FirstLoad:
    """Open ``view`` in a fresh page of ``context`` (already signed in) and count its load."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttle_kbps is not None:
        bytes_per_s = throttle_kbps * 1000 / 8
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 150,
                "downloadThroughput": bytes_per_s,
                "uploadThroughput": bytes_per_s,
            },
        )
    urls: dict[str, str] = {}
    finished: dict[str, int] = {}
    streamed: dict[str, int] = {}
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
    )
    cdp.on(
        "Network.dataReceived",
        lambda e: streamed.__setitem__(
            e["requestId"], streamed.get(e["requestId"], 0) + int(e.get("encodedDataLength", 0))
        ),
    )
    done_at: dict[str, float] = {}

    def on_finished(event: dict[str, Any]) -> None:
        finished[event["requestId"]] = int(event["encodedDataLength"])
        done_at[event["requestId"]] = time.perf_counter()

    cdp.on("Network.loadingFinished", on_finished)
    started = time.perf_counter()
    page.goto(f"{base}/#/{view}")
    page.wait_for_selector("[data-testid=map][data-ready=true]", timeout=timeout_ms)
    ready_s = time.perf_counter() - started
    page.wait_for_timeout(settle_ms)
    by_path: dict[str, int] = {}
    counts: dict[str, int] = {}
    finished_s: dict[str, float] = {}
    asked: dict[str, int] = {}
    total = 0
    for request_id, url in urls.items():
        if url.startswith("data:"):
            continue
        size = finished.get(request_id, streamed.get(request_id, 0))
        total += size
        path = urlsplit(url).path
        by_path[path] = by_path.get(path, 0) + size
        counts[path] = counts.get(path, 0) + 1
        asked[url] = asked.get(url, 0) + 1
        if request_id in done_at:
            finished_s[path] = max(finished_s.get(path, 0.0), done_at[request_id] - started)
    page.close()
    repeated = {url: n for url, n in asked.items() if n > 1}
    return FirstLoad(total, len(urls), ready_s, by_path, counts, finished_s, repeated)
