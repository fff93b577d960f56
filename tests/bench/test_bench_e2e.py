"""The end-to-end bench's own pieces: percentiles, probe bookkeeping, lag, frames, floor.

No wall time is asserted: these check the bench computes and sends what it says it does.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from firegrid.ingest.adapters.gb26875.codec import (
    AnalogValue,
    ApplicationData,
    Command,
    ComponentStatus,
    ComponentStatusFlag,
    Frame,
    StreamDecoder,
    TransmitterStatus,
    TransmitterStatusFlag,
    TypeFlag,
    decode_time_tag,
    encode_frame,
)


def _load() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "bench_e2e.py"
    spec = importlib.util.spec_from_file_location("bench_e2e", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_e2e"] = module
    spec.loader.exec_module(module)
    return module


bench = _load()


def test_quantile_interpolates_between_ranks() -> None:
    values = [40.0, 10.0, 30.0, 20.0, 50.0]
    assert bench.quantile(values, 0.0) == 10.0
    assert bench.quantile(values, 0.5) == 30.0
    assert bench.quantile(values, 0.9) == pytest.approx(46.0)
    assert bench.quantile(values, 1.0) == 50.0
    assert bench.quantile([], 0.5) is None
    assert bench.quantile([7.0], 0.99) == 7.0


def test_probe_book_counts_first_arrival_of_probe_venues_only() -> None:
    book = bench.ProbeBook()
    book.sent(11, 100.000)
    book.sent(12, 100.500)
    book.sent(13, 101.000)
    book.sent(11, 105.0)  # a second send of the same probe does not move its stamp
    book.seen(11, 100.080)
    book.seen(11, 100.900)  # a later entry of the same alarm: ignored
    book.seen(12, 100.700)
    book.seen(99, 100.100)  # a background venue's alarm: not a probe
    summary = book.summary()
    assert summary["sent"] == 3
    assert summary["seen"] == 2
    assert sorted(book.latencies_ms()) == pytest.approx([80.0, 200.0])
    assert summary["p50_ms"] == pytest.approx(140.0)
    assert summary["max_ms"] == pytest.approx(200.0)


def test_probe_book_with_nothing_seen_reports_no_latency() -> None:
    book = bench.ProbeBook()
    book.sent(1, 1.0)
    assert book.summary() == {
        "sent": 1,
        "seen": 0,
        "p50_ms": None,
        "p90_ms": None,
        "p99_ms": None,
        "max_ms": None,
    }


def test_lag_is_the_age_of_the_oldest_unhandled_event() -> None:
    samples = [
        (0.0, 100, 100),  # caught up
        (0.25, 200, 100),  # event 101 logged by 0.25: lag 0
        (0.50, 300, 150),  # event 151 was logged by 0.25: lag 0.25
        (0.75, 300, 180),  # event 181 was logged by 0.25: lag 0.5
        (1.00, 400, 400),  # caught up
    ]
    assert bench.lag_seconds(samples) == pytest.approx([0.0, 0.0, 0.25, 0.5, 0.0])


def test_ports_parse_a_range() -> None:
    assert bench.parse_ports("20000-20003") == [20000, 20001, 20002, 20003]
    assert bench.parse_ports(None) == []
    with pytest.raises(SystemExit):
        bench.parse_ports("80-90")


NOW = datetime(2026, 12, 1, 12, 30, 15, tzinfo=UTC)


def _codec_frame(serial: int, source: int, obj: Any) -> bytes:
    sent_at = decode_time_tag(bench.time_tag(NOW.timestamp()))
    adu = ApplicationData(obj.TYPE_FLAG, (obj,))
    return encode_frame(Frame(serial, (1, 1), sent_at, source, 0, Command.SEND_DATA, adu))


def test_hand_packed_frames_are_the_codecs_bytes() -> None:
    tag = bench.time_tag(NOW.timestamp())
    at = decode_time_tag(tag)
    source = bench.ADDRESS_BASE + 7
    normal = ComponentStatusFlag.NORMAL
    cases = [
        (
            bench.status_frame(5, source, tag, 3, bench.FAULT),
            ComponentStatus(1, 1, 42, 3, normal | ComponentStatusFlag.FAULT, "e2e", at),
        ),
        (
            bench.status_frame(6, source, tag, 3, bench.RESTORED),
            ComponentStatus(1, 1, 42, 3, normal, "e2e", at),
        ),
        (
            bench.status_frame(7, source, tag, 1, bench.FIRE, b"probe"),
            ComponentStatus(1, 1, 42, 1, normal | ComponentStatusFlag.FIRE_ALARM, "probe", at),
        ),
        (bench.analog_frame(8, source, tag, 9, 6), AnalogValue(1, 1, 91, 9, 4, 6, at)),
        (
            bench.heartbeat_frame(9, source, tag),
            TransmitterStatus(TransmitterStatusFlag.NORMAL, at),
        ),
    ]
    for packed, obj in cases:
        serial = packed[2] | packed[3] << 8
        assert packed == _codec_frame(serial, source, obj), obj


def test_panel_cycle_mixes_heartbeats_analog_values_faults_and_restores() -> None:
    sent: list[bytes] = []

    class Transport:
        def write(self, data: bytes) -> None:
            sent.append(data)

    panel = bench.Transmitter(bench.ADDRESS_BASE, bench.Counters(), window=10_000)
    panel.connection_made(Transport())  # type: ignore[arg-type]
    tag = bench.time_tag(NOW.timestamp())
    frames = 4 * bench.POINTS_PER_PANEL * len(bench.CYCLE) // 4
    for _ in range(frames):
        panel.send_background(tag)
    decoded = [item.frame for item in StreamDecoder().feed(b"".join(sent))]
    assert len(decoded) == frames
    kinds: dict[Any, int] = {}
    faults = restores = 0
    for frame in decoded:
        assert isinstance(frame.adu, ApplicationData)
        kinds[frame.adu.type_flag] = kinds.get(frame.adu.type_flag, 0) + 1
        obj = frame.adu.objects[0]
        if isinstance(obj, ComponentStatus):
            if obj.status & ComponentStatusFlag.FAULT:
                faults += 1
            else:
                restores += 1
    assert kinds[TypeFlag.TRANSMITTER_STATUS] == frames * 3 // 10
    assert kinds[TypeFlag.COMPONENT_ANALOG_VALUE] == frames * 3 // 10
    assert kinds[TypeFlag.COMPONENT_STATUS] == frames * 4 // 10
    assert faults == restores  # every point that went into fault was restored
    assert len({f.serial for f in decoded}) == frames


def test_floor_server_confirms_every_frame_even_split_across_reads() -> None:
    written: list[bytes] = []

    class Transport:
        def write(self, data: bytes) -> None:
            written.append(data)

    floor = bench.FloorProtocol()
    floor.connection_made(Transport())  # type: ignore[arg-type]
    tag = bench.time_tag(NOW.timestamp())
    source = bench.ADDRESS_BASE + 3
    stream = b"".join(
        [
            bench.heartbeat_frame(1, source, tag),
            bench.status_frame(2, source, tag, 4, bench.FAULT),
            bench.analog_frame(3, source, tag, 4, 5),
        ]
    )
    cut = len(stream) - 17
    floor.data_received(stream[:cut])
    floor.data_received(stream[cut:])
    replies = [item.frame for item in StreamDecoder().feed(b"".join(written))]
    assert [r.serial for r in replies] == [1, 2, 3]
    assert all(r.command is Command.CONFIRM for r in replies)
    assert all(r.destination == source and r.source == 0 and r.adu is None for r in replies)


BURNER = """
import threading, time

def burn(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass

worker = threading.Thread(target=burn, args=(0.6,))
worker.start()
worker.join()
burn(0.1)
print("burnt", flush=True)
time.sleep(60)  # killed by the test
"""


def test_child_cpu_is_split_between_the_main_thread_and_the_others(tmp_path: Path) -> None:
    import os
    import time

    child = bench.Child("burner", [sys.executable, "-c", BURNER], dict(os.environ), tmp_path)
    try:
        child.mark()
        child.wait_for("burnt", 30)
        time.sleep(0.05)
        child.mark()
    finally:
        child.process.kill()
        child.process.wait(5)
    split = child.thread_split_s()
    assert split is not None
    total = child.cpu_s()
    assert total is not None
    assert split["main_thread"] + split["other_threads"] == pytest.approx(total, abs=0.002)
    # 0.6 s burnt by a worker thread, 0.1 s by the main thread (plus start-up on the main)
    assert split["other_threads"] >= 0.5
    assert 0.1 <= split["main_thread"] < split["other_threads"]
