"""The screen storm bench's own pieces: clock offset, row arrivals, paired gaps, long tasks.

No wall time is asserted: these check the bench computes what it says it does.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _load() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "bench_console_storm.py"
    spec = importlib.util.spec_from_file_location("bench_console_storm", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_console_storm"] = module
    spec.loader.exec_module(module)
    return module


bench = _load()


def test_clock_check_is_the_page_clock_minus_the_midpoint() -> None:
    check = bench.ClockCheck.of(1000.000, 1_000_000.0 + 3.5, 1000.002)
    assert check.offset_ms == pytest.approx(2.5)
    assert check.uncertainty_ms == pytest.approx(1.0)


def test_screen_arrivals_keep_fire_rows_only_in_seconds() -> None:
    rows = [
        {"id": 7, "fire": True, "dom": 1_700_000_000_250.0, "frame": 1_700_000_000_266.0},
        {"id": 8, "fire": False, "dom": 1_700_000_000_300.0, "frame": None},  # a fault alarm
        {"id": 9, "fire": True, "dom": 1_700_000_001_000.0, "frame": None},
    ]
    arrivals = bench.screen_arrivals(rows, {7: 101, 9: 102})
    assert [a[0] for a in arrivals] == [101, 102]
    assert arrivals[0][1] == pytest.approx(1_700_000_000.25)
    assert arrivals[0][2] == pytest.approx(1_700_000_000.266)
    assert arrivals[1][2] is None


def test_paired_gaps_are_per_probe_seen_by_both() -> None:
    sse, screen = bench.ProbeBook(), bench.ProbeBook()
    for venue, sent in ((1, 10.0), (2, 11.0), (3, 12.0)):
        sse.sent(venue, sent)
        screen.sent(venue, sent)
    sse.seen(1, 10.100)
    sse.seen(2, 11.200)
    sse.seen(3, 12.050)
    screen.seen(1, 10.150)
    screen.seen(3, 12.450)  # probe 2 never reached the screen: no gap for it
    assert sorted(bench.paired_gaps_ms(sse, screen)) == pytest.approx([50.0, 400.0])


def test_long_tasks_are_counted_inside_the_window_only() -> None:
    tasks = [[999_000.0, 300.0], [1_000_500.0, 80.0], [1_001_900.0, 120.0], [1_002_500.0, 900.0]]
    summary = bench.long_tasks_within(tasks, 1000.0, 1002.0)
    assert summary == {
        "count": 2,
        "longest_ms": 120.0,
        "total_ms": 200.0,
        "longest_5": [{"at_s": 1.9, "ms": 120.0}, {"at_s": 0.5, "ms": 80.0}],
    }
    assert bench.long_tasks_within([], 0.0, 1.0)["count"] == 0


def test_distribution_of_nothing_is_empty() -> None:
    assert bench.distribution_ms([]) == {
        "p50_ms": None,
        "p90_ms": None,
        "p99_ms": None,
        "max_ms": None,
    }
    assert bench.distribution_ms([10.0, 20.0])["p50_ms"] == pytest.approx(15.0)


def test_never_seen_lists_probes_sent_but_not_seen() -> None:
    book = bench.ProbeBook()
    for venue in (5, 3, 4):
        book.sent(venue, 1.0)
    book.seen(4, 1.2)
    assert bench.never_seen(book) == [3, 5]


def test_slowest_probes_come_first_and_unseen_ones_lead() -> None:
    sse, screen = bench.ProbeBook(), bench.ProbeBook()
    for venue, sent in ((1, 100.0), (2, 101.0), (3, 102.0)):
        sse.sent(venue, sent)
        screen.sent(venue, sent)
        sse.seen(venue, sent + 0.1)
    screen.seen(1, 100.3)
    screen.seen(3, 102.9)  # probe 2 never reached the screen
    slowest = bench.slowest_probes(sse, screen, 99.0, count=2)
    assert slowest == [
        {"sent_at_s": 2.0, "sse_ms": pytest.approx(100.0), "screen_ms": None},
        {"sent_at_s": 3.0, "sse_ms": pytest.approx(100.0), "screen_ms": pytest.approx(900.0)},
    ]
