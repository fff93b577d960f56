"""Device message → the operator's screen, during a storm (issue 19: p99 ≤ 1 s at 400 msg/s).

The real path, as ``bench/bench_e2e.py`` runs it (its devices, processes and city are
imported from there): simulated GB/T 26875.3 transmitters on TCP → ``firegrid ingest run`` →
event log (database, or NATS JetStream) → ``firegrid alarms run`` → ``firegrid serve`` →
the monitoring-centre operator's console, open on the monitor view in Debian's headless
Chromium (Playwright), signed in with a session cookie like a person.

The load: ``--rate`` frames/s in total for ``--duration`` s, fault-heavy background from
``--panels`` transmitters (heartbeats, analog values, points going into fault and being
restored) plus **probes**: one fire alarm each at ``--probe-rate``/s, every probe from its
own transmitter at its own venue, so each opens its own alarm and its own row.

Measured for every probe, from *device send time* (stamped just before the frame is written
to the socket, ``time.time()``):

- ``screen``: the probe's alarm row (``[data-testid=alarm-list] button.alarm-item``) inserted
  into the page's DOM, stamped in the page by a MutationObserver as
  ``performance.timeOrigin + performance.now()`` (epoch ms, the same machine's clock; the
  offset between the two clocks is measured before and after the run and printed);
  ``screen_frame`` is the next animation frame after that insertion (an upper bound of the
  paint);
- ``sse``: the probe's ``alarm.new`` on a plain SSE client of the same live channel
  (``GET /api/v1/live``) in the same run: the floor, so ``browser_adds`` is what the browser
  adds on top of the feed (per probe, screen − sse).

Also: long main-thread tasks (PerformanceObserver ``longtask``) during the storm, their count
and the longest; CPU seconds per process over the storm (the browser as the sum of its
process tree, by Chromium process type), with the share of one core; the correlator's lag
behind the log; the load average. A probe never seen on the screen is a failure: it is
listed and the exit status is 1.

Everything is throw-away (a SQLite file in a temp dir, or with ``--db`` a database created on
that PostgreSQL server and dropped); every process started is stopped; the run is bounded.

Usage::

    python bench/bench_console_storm.py                    # SQLite + database log, 400/s, 60 s
    python bench/bench_console_storm.py --db postgresql://postgres@127.0.0.1:5432/postgres \\
        --event-log jetstream --nats nats://127.0.0.1:4222 --json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import bench_e2e as e2e  # noqa: E402
from bench_e2e import ProbeBook, quantile  # noqa: E402

CHROMIUM = os.environ.get("FIREGRID_CHROMIUM", "/usr/bin/chromium")
TARGET_P99_MS = 1000.0
#: what ``--trace`` records: the main thread's tasks, JS calls and the renderer's IPC (mojom:
#: a synchronous call shows which interface it waited on)
TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "v8.execute",
    "toplevel",
    "mojom",
]

# ---------------------------------------------------------------------------------------------
# In the page: rows as they enter the DOM, long tasks, the page's clock

PAGE_PROBE = """() => {
  const now = () => performance.timeOrigin + performance.now();
  const rows = new Map();
  const tasks = [];
  window.__storm = { rows, tasks };
  const note = (el) => {
    const id = el.dataset.alarmId;
    if (!id || rows.has(id)) return;
    const fire = el.classList.contains("kind-fire");
    const rec = { id: Number(id), fire, dom: now(), frame: null };
    rows.set(id, rec);
    requestAnimationFrame(() => { rec.frame = now(); });
  };
  const list = document.querySelector("[data-testid=alarm-list]");
  for (const el of list.querySelectorAll("button.alarm-item")) note(el);
  new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) continue;
        if (n.matches("button.alarm-item")) note(n);
        for (const el of n.querySelectorAll("button.alarm-item")) note(el);
      }
    }
  }).observe(list, { childList: true, subtree: true });
  new PerformanceObserver((entries) => {
    for (const e of entries.getEntries()) {
      tasks.push([performance.timeOrigin + e.startTime, e.duration]);
    }
  }).observe({ type: "longtask", buffered: false });
}"""

PAGE_FIRE_ROWS = "() => [...window.__storm.rows.values()].filter((r) => r.fire).length"
PAGE_RESULTS = "() => ({ rows: [...window.__storm.rows.values()], tasks: window.__storm.tasks })"
PAGE_CLOCK = "() => performance.timeOrigin + performance.now()"


# ---------------------------------------------------------------------------------------------
# Pure helpers (tested in tests/bench/test_bench_console_storm.py)


@dataclass(frozen=True)
class ClockCheck:
    """The page clock minus this process's clock, from one reading of the page clock taken
    between two readings of ``time.time()``: ``offset_ms`` ± ``uncertainty_ms``."""

    offset_ms: float
    uncertainty_ms: float

    @classmethod
    def of(cls, before_s: float, page_ms: float, after_s: float) -> ClockCheck:
        middle_ms = (before_s + after_s) / 2 * 1000
        return cls(round(page_ms - middle_ms, 2), round((after_s - before_s) / 2 * 1000, 2))


def screen_arrivals(
    rows: Iterable[dict[str, Any]], venue_of_fire: dict[int, int]
) -> list[tuple[int, float, float | None]]:
    """``(venue id, DOM time s, next frame time s)`` of each fire alarm's row, from the
    page's records (times in epoch ms); rows of alarms that are not fires are left out."""
    out: list[tuple[int, float, float | None]] = []
    for row in rows:
        venue = venue_of_fire.get(int(row["id"]))
        if venue is None:
            continue
        frame = row.get("frame")
        out.append((venue, float(row["dom"]) / 1000, None if frame is None else frame / 1000))
    return out


def paired_gaps_ms(first: ProbeBook, then: ProbeBook) -> list[float]:
    """Per probe seen by both: ``then``'s arrival minus ``first``'s (ms)."""
    return [
        (then.seen_at[key] - at) * 1000 for key, at in first.seen_at.items() if key in then.seen_at
    ]


def never_seen(book: ProbeBook) -> list[int]:
    """The probes (venue ids) sent but never seen."""
    return sorted(set(book.sent_at) - set(book.seen_at))


def slowest_probes(
    sse: ProbeBook, screen: ProbeBook, start_s: float, count: int = 5
) -> list[dict[str, float | None]]:
    """The ``count`` probes slowest to the screen: when each was sent (s after ``start_s``),
    its times to the SSE client and to the screen (ms)."""

    def ms(book: ProbeBook, key: int) -> float | None:
        at = book.seen_at.get(key)
        return None if at is None else round((at - screen.sent_at[key]) * 1000, 1)

    keys = sorted(screen.sent_at, key=lambda k: -(ms(screen, k) or float("inf")))
    return [
        {
            "sent_at_s": round(screen.sent_at[k] - start_s, 2),
            "sse_ms": ms(sse, k),
            "screen_ms": ms(screen, k),
        }
        for k in keys[:count]
    ]


def long_tasks_within(
    tasks: Iterable[Sequence[float]], start_s: float, end_s: float
) -> dict[str, Any]:
    """Count and longest of the long tasks (``[start epoch ms, duration ms]``) that began in
    the window ``[start_s, end_s]``; their total time, and the five longest with their start
    in seconds after ``start_s``."""
    inside = [
        (at / 1000 - start_s, float(d)) for at, d in tasks if start_s * 1000 <= at <= end_s * 1000
    ]
    durations = [d for _, d in inside]
    return {
        "count": len(inside),
        "longest_ms": round(max(durations), 1) if inside else 0.0,
        "total_ms": round(sum(durations), 1),
        "longest_5": [
            {"at_s": round(at, 2), "ms": round(d, 1)}
            for at, d in sorted(inside, key=lambda item: -item[1])[:5]
        ],
    }


def distribution_ms(values: Sequence[float]) -> dict[str, float | None]:
    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "p50_ms": r(quantile(values, 0.5)),
        "p90_ms": r(quantile(values, 0.9)),
        "p99_ms": r(quantile(values, 0.99)),
        "max_ms": r(max(values)) if values else None,
    }


# ---------------------------------------------------------------------------------------------
# CPU of the browser: the sum over its process tree


@dataclass
class TreeCpu:
    """CPU seconds of a process tree between two marks (processes born in between count
    whole; those gone by the second mark are counted as lost), grouped by Chromium's
    ``--type=`` (``browser`` for the main process)."""

    name: str
    root_pid: int
    marks: list[dict[int, tuple[str, float]]] = field(default_factory=list)

    def _sample(self) -> dict[int, tuple[str, float]]:
        import psutil  # type: ignore[import-untyped, unused-ignore]

        out: dict[int, tuple[str, float]] = {}
        try:
            root = psutil.Process(self.root_pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return out
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                kind = "browser"
                for arg in proc.cmdline():
                    if arg.startswith("--type="):
                        kind = arg[7:]
                times = proc.cpu_times()
                out[proc.pid] = (kind, times.user + times.system)
        return out

    def mark(self) -> None:
        self.marks.append(self._sample())

    def by_type(self) -> dict[str, float]:
        if len(self.marks) < 2:
            return {}
        first, last = self.marks[0], self.marks[-1]
        out: dict[str, float] = {}
        for pid, (kind, cpu) in last.items():
            out[kind] = out.get(kind, 0.0) + cpu - first.get(pid, (kind, 0.0))[1]
        lost = [pid for pid in first if pid not in last]
        if lost:
            out["processes_gone"] = float(len(lost))
        return {k: round(v, 3) for k, v in out.items()}

    def cpu_s(self) -> float | None:
        groups = self.by_type()
        if not groups:
            return None
        return round(sum(v for k, v in groups.items() if k != "processes_gone"), 3)


def chromium_pid() -> int:
    """The browser process Playwright started (a descendant of this process)."""
    import psutil  # type: ignore[import-untyped, unused-ignore]

    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            cmd = proc.cmdline()
            if (
                cmd
                and Path(cmd[0]).name.startswith("chromium")
                and not any(a.startswith("--type=") for a in cmd)
            ):
                return int(proc.pid)
    raise RuntimeError("the Chromium browser process was not found")


# ---------------------------------------------------------------------------------------------
# The run


def fire_alarm_venues(url: str) -> dict[int, int]:
    """Alarm id → venue id of every fire alarm."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, venue_id FROM alarms WHERE kind = 'fire' AND venue_id IS NOT NULL")
            ).all()
    finally:
        engine.dispose()
    return {int(a): int(v) for a, v in rows}


def clock_check(page: Any) -> ClockCheck:
    best: ClockCheck | None = None
    for _ in range(5):
        before = time.time()
        page_ms = float(page.evaluate(PAGE_CLOCK))
        check = ClockCheck.of(before, page_ms, time.time())
        if best is None or check.uncertainty_ms < best.uncertainty_ms:
            best = check
    assert best is not None
    return best


def open_console(browser: Any, base: str) -> Any:
    from tests.web.console_load import sign_in

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    sign_in(context, base, *e2e.OPERATOR)
    page = context.new_page()
    page.goto(f"{base}/#/monitor")
    page.wait_for_selector("[data-testid=feed-status][data-state=open]", timeout=60_000)
    page.wait_for_selector("[data-testid=alarm-list]", state="attached", timeout=60_000)
    page.wait_for_timeout(1500)  # the first list load and the map settle
    page.evaluate(PAGE_PROBE)
    return page


@dataclass
class Storm:
    """What the device thread hands back."""

    result: e2e.DriveResult | None = None
    settled: bool = False
    unconfirmed: int = 0
    started_at: float = 0.0
    ended_at: float = 0.0
    error: BaseException | None = None


def storm_thread(
    args: argparse.Namespace,
    gb_port: int,
    panels: e2e.Devices,
    probes: e2e.Devices,
    sse_book: ProbeBook,
    on_start: Callable[[], None],
    on_end: Callable[[], None],
    before_drive: Callable[[], None],
) -> tuple[threading.Thread, Storm]:
    """The devices on their own uvloop in a thread (Playwright's sync API owns the main
    thread's event loop)."""
    out = Storm()

    async def go() -> None:
        counters = e2e.Counters()
        panel_conns = await e2e.connect(gb_port, panels, counters)
        probe_conns = await e2e.connect(gb_port, probes, counters)
        everyone = [*panel_conns, *probe_conns]
        tags = e2e.TagClock()
        for conn in everyone:  # every transmitter says hello (online)
            conn.send_heartbeat(tags.now())
        await e2e.settle(everyone, 60)
        before_drive()

        def started() -> None:
            out.started_at = time.time()
            on_start()

        def ended() -> None:
            out.ended_at = time.time()
            on_end()

        out.result = await e2e.drive(
            panel_conns,
            probe_conns,
            rate=args.rate,
            duration_s=args.duration,
            probe_rate=args.probe_rate,
            book=sse_book,
            on_start=started,
            on_end=ended,
        )
        out.settled = await e2e.settle(everyone, 30)
        out.unconfirmed = sum(len(c.in_flight) for c in everyone)
        for conn in everyone:
            if conn.transport is not None:
                conn.transport.close()

    def target() -> None:
        try:
            e2e.run_uv(go())
        except BaseException as err:  # noqa: BLE001 - handed to the main thread, raised there
            out.error = err

    return threading.Thread(target=target, name="devices", daemon=True), out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="bench-screen-"))
    probes_wanted = max(1, int(args.duration * args.probe_rate))
    children: list[e2e.Child] = []
    closers: list[Callable[[], None]] = []
    sse_book, screen_book, frame_book = ProbeBook(), ProbeBook(), ProbeBook()
    try:
        with e2e.throwaway_database(args.db, workdir) as url, sync_playwright() as pw:
            panels, probes = e2e.build_city(url, args.panels, probes_wanted)
            stream = f"FG_SCREEN_{uuid.uuid4().hex[:8].upper()}"
            ports = e2e.Ports(e2e.parse_ports(args.ports))
            base, gb_port = e2e.start_services(args, url, stream, ports, workdir, children)
            if args.event_log == "jetstream":
                last_offset, close_log = e2e.jetstream_last_offset(args.nats, stream)
            else:
                last_offset, close_log = e2e.database_last_offset(url)
            closers.append(close_log)
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
            )
            closers.append(browser.close)
            page = open_console(browser, base)
            feed_out = e2e.start_sse(
                base, "/api/v1/live", workdir / "live.jsonl", workdir, children
            )
            clock_before = clock_check(page)
            sampler = e2e.LagSampler(url, args.event_log, last_offset)
            closers.append(sampler.stop)
            browser_cpu = TreeCpu("browser", chromium_pid())
            marks: list[Any] = [e2e.SelfCpu(), browser_cpu]
            nats_pid = e2e.nats_server_pid(args.nats) if args.event_log == "jetstream" else None
            if nats_pid is not None:
                with contextlib.suppress(Exception):
                    marks.append(e2e.ExternalCpu("nats_server (shared)", nats_pid))

            def mark_all() -> None:
                for item in [*children, *marks]:
                    item.mark()

            def before_drive() -> None:
                e2e.wait_caught_up(sampler, 60)
                sampler.start()

            thread, storm = storm_thread(
                args, gb_port, panels, probes, sse_book, mark_all, mark_all, before_drive
            )
            load_before = os.getloadavg()
            if args.trace is not None:
                browser.start_tracing(
                    page=page, path=str(args.trace), screenshots=False, categories=TRACE_CATEGORIES
                )
            thread.start()
            deadline = time.monotonic() + args.duration + 200
            while thread.is_alive() and time.monotonic() < deadline:
                thread.join(0.5)
            if storm.error is not None:
                raise storm.error
            if storm.result is None:
                raise RuntimeError("the devices did not finish")
            load_during = os.getloadavg()
            if args.trace is not None:
                browser.stop_tracing()
            caught_up_s = e2e.wait_caught_up(sampler, args.drain_timeout)
            sent = len(sse_book.sent_at)
            drain_deadline = time.monotonic() + args.drain_timeout
            while time.monotonic() < drain_deadline:
                e2e.read_feed(feed_out, sse_book)
                if len(sse_book.seen_at) >= sent and page.evaluate(PAGE_FIRE_ROWS) >= sent:
                    break
                page.wait_for_timeout(250)
            sampler.stop()
            feed_counts = e2e.read_feed(feed_out, sse_book)
            recorded = page.evaluate(PAGE_RESULTS)
            if args.screenshot is not None:
                page.screenshot(path=str(args.screenshot))
            clock_after = clock_check(page)
            venue_of_fire = fire_alarm_venues(url)
            screen_book.sent_at = frame_book.sent_at = sse_book.sent_at
            for venue, dom_s, frame_s in screen_arrivals(recorded["rows"], venue_of_fire):
                screen_book.seen(venue, dom_s)
                if frame_s is not None:
                    frame_book.seen(venue, frame_s)
            tasks = long_tasks_within(recorded["tasks"], storm.started_at, storm.ended_at)
            for child in reversed(children):
                child.stop()
    finally:
        e2e.tear_down(children, closers, workdir, keep=args.keep)
    result = storm.result
    window_s = storm.ended_at - storm.started_at
    frames = result.frames_confirmed
    screen = screen_book.summary()
    lags = e2e.lag_seconds(sampler.samples)
    cpu_items: list[Any] = [*children, *marks]
    return {
        "screen": {**screen, "missing_venue_ids": never_seen(screen_book)},
        "screen_frame": frame_book.summary(),
        "sse": {**sse_book.summary(), "missing_venue_ids": never_seen(sse_book)},
        "browser_adds": distribution_ms(paired_gaps_ms(sse_book, screen_book)),
        "slowest_probes": slowest_probes(sse_book, screen_book, storm.started_at),
        "target": {
            "p99_ms_at_most": TARGET_P99_MS,
            "met": screen["p99_ms"] is not None
            and screen["p99_ms"] <= TARGET_P99_MS
            and screen["seen"] == screen["sent"],
        },
        "long_tasks": tasks,
        "clock_page_minus_bench_ms": {
            "before": clock_before.offset_ms,
            "after": clock_after.offset_ms,
            "uncertainty": max(clock_before.uncertainty_ms, clock_after.uncertainty_ms),
        },
        "cpu_s": {item.name: item.cpu_s() for item in cpu_items},
        "cpu_share_of_one_core": {
            item.name: None if item.cpu_s() is None else round(item.cpu_s() / window_s, 3)
            for item in cpu_items
        },
        "browser_cpu_s_by_type": browser_cpu.by_type(),
        "correlator": {
            "peak_lag_s": round(max(lags), 2) if lags else None,
            "caught_up_after_end_s": caught_up_s,
        },
        "load": {
            "rate_target_per_s": args.rate,
            "duration_s": args.duration,
            "frames_offered": result.offered,
            "frames_confirmed": frames,
            "frames_per_s": round(frames / result.elapsed_s, 1),
            "backlog_not_offered": result.backlog,
            "unconfirmed_at_end": storm.unconfirmed,
            "all_confirmed": storm.settled,
            "panels": args.panels,
            "probe_rate_per_s": args.probe_rate,
            "live_entries": feed_counts,
        },
        "setup": {
            "database": "postgresql" if args.db else "sqlite",
            "event_log": args.event_log,
            "command": " ".join(["python", "bench/bench_console_storm.py", *sys.argv[1:]]),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_at_end": [round(x, 2) for x in load_during],
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "chromium": CHROMIUM,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    }


def report(result: dict[str, Any]) -> str:
    """The human summary printed before the JSON."""

    def line(name: str, s: dict[str, Any]) -> str:
        seen = f"{s.get('seen', '-')}/{s.get('sent', '-')}" if "sent" in s else ""
        return (
            f"{name:<22} p50 {s['p50_ms']} ms  p90 {s['p90_ms']} ms  p99 {s['p99_ms']} ms  "
            f"max {s['max_ms']} ms  {('seen ' + seen) if seen else ''}"
        )

    load, setup = result["load"], result["setup"]
    out = [
        f"{setup['database']} + {setup['event_log']} log, {load['frames_per_s']} frames/s "
        f"confirmed for {load['duration_s']} s, load average {setup['load_average_at_end']}",
        line("device → screen (DOM)", result["screen"]),
        line("device → next frame", result["screen_frame"]),
        line("device → SSE client", result["sse"]),
        line("browser adds", result["browser_adds"]),
        f"long tasks {result['long_tasks']['count']}, longest "
        f"{result['long_tasks']['longest_ms']} ms; browser CPU {result['cpu_s'].get('browser')} s",
        f"target p99 ≤ {TARGET_P99_MS:.0f} ms: {'met' if result['target']['met'] else 'NOT met'}",
    ]
    if result["screen"]["missing_venue_ids"]:
        out.append(f"FAILURE: probes never on screen: {result['screen']['missing_venue_ids']}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rate", type=float, default=400, help="frames/s offered in total")
    parser.add_argument("--duration", type=float, default=60, help="seconds of storm")
    parser.add_argument("--probe-rate", type=float, default=1.0, help="probe fire alarms/s")
    parser.add_argument("--panels", type=int, default=200, help="background transmitters")
    parser.add_argument(
        "--db", default=None, help="PostgreSQL server URL (a database is made and dropped)"
    )
    parser.add_argument("--event-log", choices=["database", "jetstream"], default="database")
    parser.add_argument("--nats", default=e2e.DEFAULT_NATS_URL, help="NATS URL (jetstream)")
    parser.add_argument("--ports", default=None, help="port range A-B for the listeners")
    parser.add_argument("--drain-timeout", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="one line of JSON only")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, feed)")
    parser.add_argument("--screenshot", type=Path, default=None, help="PNG of the page at the end")
    parser.add_argument(
        "--trace", type=Path, default=None, help="Chromium trace of the storm (adds overhead)"
    )
    args = parser.parse_args()
    limit = args.duration + 2 * args.drain_timeout + 300

    result = e2e.within_time_limit("bench_console_storm", limit, lambda: run(args))
    if not args.json:
        print(report(result))
    print(json.dumps(result, indent=None if args.json else 2, ensure_ascii=False))
    if result["screen"]["missing_venue_ids"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
