"""The fault suite: drive device events through the production path while one fault strikes,
then count what the devices were told was stored against what is stored.

What runs (each a separate process, as deployed): a 3-node NATS JetStream cluster of its own
on spare ports (stream replicas 3; ``firegrid.ops.localcluster``), ``firegrid ingest run``
(two workers sharing the GB port with SO_REUSEPORT for ``rolling``), ``firegrid alarms run``,
and simulated GB/T 26875.3 transmitters in this process, each frame waiting for its CONFIRM
(a frame left unconfirmed when a connection drops is sent again after reconnecting, as a
transmitter does). Every frame carries a unique token in its component description, so each
acknowledged frame can be looked for in the log afterwards.

Faults (``--fault``), struck at one third of ``--duration``:

- ``nats-node``: ``kill -9`` the NATS server ingest is connected to; restarted at two thirds;
- ``postgres``: a private PostgreSQL server (initdb on a spare port, as user ``postgres``)
  stopped for 10 s and started again; ingest keeps appending to JetStream meanwhile;
- ``rolling``: the two ingest workers replaced one after the other (SIGTERM, new process);
- ``alarms``: fire alarms raised first (each arms an acknowledgement-escalation timer), then
  ``kill -9`` of the alarms process for 10 s; ``timers_late`` counts timers fired more than
  ``--late-s`` after they were due;
- ``disk``: the database event log on SQLite in a small tmpfs (root only) that is filled to
  its limit for 10 s; appends fail, so frames are not confirmed, and nothing confirmed may be
  missing afterwards.

Printed (``--json``: one line): ``{"fault", "acknowledged", "stored", "lost", "duplicates",
"recovery_s", "timers_late", ...}``: ``acknowledged`` frames confirmed to the devices,
``stored`` acknowledged tokens found in the log, ``lost`` = acknowledged − stored (must be 0),
``duplicates`` log entries of one event id beyond the first (must be 0), ``recovery_s`` from
the fault until confirmations run at ≥ 80 % of the offered rate for a whole second again.

Usage::

    python bench/faults.py --fault nats-node --rate 2000 --duration 60 --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_e2e import (
    FIRE,
    RESTORED,
    Child,
    Counters,
    TagClock,
    Transmitter,
    build_city,
    status_frame,
    within_time_limit,
)
from firegrid.ops.localcluster import LocalCluster, free_ports

FAULTS = ("nats-node", "postgres", "rolling", "alarms", "disk")
TOKEN = re.compile(rb"FGT(\d{9})")
OUTAGE_S = 10.0
ALARM_TIMER_S = 60.0  # the shipped policy's acknowledge_timeout_s
RETRANSMIT_S = 5.0  # a transmitter sends a frame again when no CONFIRM came in this time
STREAM = "FG_FAULTS"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


class TokenTransmitter(Transmitter):
    """A transmitter whose every frame carries a unique token; it keeps the frames in flight
    to send them again after a reconnect, and the tokens of the confirmed ones."""

    def __init__(self, address: int, counters: Counters, book: TokenBook) -> None:
        super().__init__(address, counters, window=8)
        self.book = book
        self.frames: dict[int, tuple[int, bytes]] = {}
        self.sent_at: dict[int, float] = {}

    def send_token(self, tag: bytes, *, fire: bool = False) -> None:
        token = self.book.next_token()
        serial = self.next_serial()
        text = b"FGT%09d" % token
        status = FIRE if fire else RESTORED
        frame = status_frame(serial, self.address, tag, token % 60000, status, text)
        self.frames[serial] = (token, frame)
        self.sent_at[serial] = time.monotonic()
        self.write(serial, frame)

    def retransmit_overdue(self, now: float) -> int:
        """Send again each frame unconfirmed for ``RETRANSMIT_S`` (a transmitter's timeout)."""
        if self.transport is None:
            return 0
        overdue = [s for s, at in self.sent_at.items() if now - at > RETRANSMIT_S]
        for serial in overdue:
            self.sent_at[serial] = now
            self.in_flight.add(serial)
            self.transport.write(self.frames[serial][1])
        return len(overdue)

    def data_received(self, data: bytes) -> None:
        before = set(self.in_flight)
        super().data_received(data)
        for serial in before - self.in_flight:
            self.sent_at.pop(serial, None)
            token, _ = self.frames.pop(serial, (None, b""))
            if token is not None:
                self.book.confirmed.add(token)

    def resend_in_flight(self) -> None:
        assert self.transport is not None
        for _serial, (_token, frame) in sorted(self.frames.items()):
            self.transport.write(frame)


@dataclass
class TokenBook:
    issued: int = 0
    retransmitted: int = 0
    confirmed: set[int] = field(default_factory=set)
    samples: list[tuple[float, int]] = field(default_factory=list)

    def next_token(self) -> int:
        self.issued += 1
        return self.issued


async def keep_connected(
    port: int, devices: list[tuple[int, int]], counters: Counters, book: TokenBook
) -> list[TokenTransmitter]:
    loop = asyncio.get_running_loop()
    conns = [TokenTransmitter(address, counters, book) for address, _ in devices]
    for conn in conns:
        await loop.create_connection(lambda c=conn: c, "127.0.0.1", port)  # type: ignore[misc]
    return conns


async def reconnect(port: int, conns: list[TokenTransmitter]) -> None:
    loop = asyncio.get_running_loop()
    for conn in conns:
        if conn.transport is None:
            with contextlib.suppress(OSError):
                await loop.create_connection(lambda c=conn: c, "127.0.0.1", port)  # type: ignore[misc]
                conn.buffer.clear()
                conn.in_flight = set(conn.frames)
                conn.resend_in_flight()


async def drive(
    port: int,
    conns: list[TokenTransmitter],
    book: TokenBook,
    rate: float,
    duration_s: float,
    fires_first: int,
) -> None:
    tags = TagClock()
    start = time.perf_counter()
    offered = 0
    index = 0
    last_reconnect = 0.0
    last_retransmit = 0.0
    for conn in conns[:fires_first]:
        conn.send_token(tags.now(), fire=True)
    while (elapsed := time.perf_counter() - start) < duration_s:
        tag = tags.now()
        due = int(elapsed * rate) - offered
        tries = 0
        while due > 0 and tries < len(conns):
            conn = conns[index % len(conns)]
            index += 1
            if conn.can_send():
                conn.send_token(tag)
                due -= 1
                offered += 1
                tries = 0
            else:
                tries += 1
        offered += max(due, 0)  # frames a full window could not take are not owed later
        if elapsed - last_retransmit > 1.0:
            last_retransmit = elapsed
            now = time.monotonic()
            book.retransmitted += sum(c.retransmit_overdue(now) for c in conns)
        if elapsed - last_reconnect > 0.2 and any(c.transport is None for c in conns):
            last_reconnect = elapsed
            await reconnect(port, conns)
        book.samples.append((time.perf_counter(), len(book.confirmed)))
        await asyncio.sleep(0.005)
    deadline = time.monotonic() + 30
    while any(c.frames for c in conns) and time.monotonic() < deadline:
        if any(c.transport is None for c in conns):
            await reconnect(port, conns)
        now = time.monotonic()
        book.retransmitted += sum(c.retransmit_overdue(now) for c in conns)
        await asyncio.sleep(0.1)


def recovery_seconds(
    samples: list[tuple[float, int]], fault_at: float, rate: float
) -> float | None:
    """From the fault until a whole second in which confirmations reached 80 % of ``rate``."""
    after = [(t, n) for t, n in samples if t >= fault_at]
    j = 0
    for i, (t, n) in enumerate(after):
        while j < len(after) and after[j][0] < t + 1.0:
            j += 1
        if j >= len(after):
            return None
        if after[j][1] - n >= 0.8 * rate * (after[j][0] - t):
            return round(t - fault_at, 2)
        del i
    return None


def stream_leader(url: str) -> str | None:
    """The server leading the stream's replicas (the one whose loss hurts most)."""
    import nats

    async def ask() -> str | None:
        nc = await nats.connect(servers=url.split(","))
        try:
            info = await nc.jetstream().stream_info(STREAM)
            return info.cluster.leader if info.cluster else None
        finally:
            await nc.close()

    return asyncio.run(ask())


def stored_tokens_jetstream(url: str) -> tuple[set[int], int]:
    """Tokens in the stream's events and the count of messages repeating an event id."""
    import nats

    async def read() -> tuple[set[int], int]:
        nc = await nats.connect(servers=url.split(","))
        js = nc.jetstream()
        info = await js.stream_info(STREAM)
        tokens: set[int] = set()
        seen: set[str] = set()
        duplicates = 0
        sub = await js.pull_subscribe(f"{STREAM.lower()}.events.>", durable=None, stream=STREAM)
        remaining = info.state.messages
        while remaining > 0:
            batch = await sub.fetch(min(remaining, 1000), timeout=10)
            for msg in batch:
                event_id = (msg.headers or {}).get("Nats-Msg-Id", "")
                if event_id in seen:
                    duplicates += 1
                seen.add(event_id)
                tokens.update(int(m) for m in TOKEN.findall(msg.data))
                await msg.ack()
            remaining -= len(batch)
        await nc.close()
        return tokens, duplicates

    return asyncio.run(read())


def stored_tokens_database(url: str) -> tuple[set[int], int]:
    """Tokens in the database log's events (``event_id`` is unique there, so a repeat is
    impossible by construction; counted all the same)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text('SELECT event_id, "values", component FROM device_events')
        ).all()
    engine.dispose()
    tokens: set[int] = set()
    for _, values, component in rows:
        blob = json.dumps([values, component], ensure_ascii=False).encode()
        tokens.update(int(m) for m in TOKEN.findall(blob))
    ids = [r[0] for r in rows]
    return tokens, len(ids) - len(set(ids))


def timers_late(url: str, late_s: float) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT due_at, fired_at FROM alarm_timers WHERE fired_at IS NOT NULL")
        ).all()
        pending = connection.execute(
            text("SELECT count(*) FROM alarm_timers WHERE fired_at IS NULL")
        ).scalar_one()
    engine.dispose()
    delays = [(fired - due).total_seconds() for due, fired in rows]
    return {
        "fired": len(delays),
        "late": sum(1 for d in delays if d > late_s),
        "max_delay_s": round(max(delays), 2) if delays else None,
        "pending": int(pending),
    }


@contextmanager
def private_postgres(workdir: Path) -> Iterator[tuple[str, Any, Any]]:
    """A PostgreSQL server of its own (initdb as user postgres) on a spare port; yields its
    admin URL and stop/start functions."""
    data = workdir / "pg"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    port = free_ports(1)[0]

    def as_postgres(*argv: str) -> None:
        # no pipes: the server started by pg_ctl would hold them open (its log goes to -l)
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    log = workdir / "pg.log"
    log.touch()
    shutil.chown(log, "postgres", "postgres")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=on"

    def start() -> None:
        as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"
        )

    def stop() -> None:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")

    start()
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop, start
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            stop()


@contextmanager
def small_disk(path: Path, size_mb: int) -> Iterator[Path]:
    path.mkdir(parents=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)], check=True
    )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> Path:
    """Fill the filesystem of ``path`` to its limit with one file; returns it."""
    filler = path / "filler.bin"
    with filler.open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * (1 << 20))
            out.flush()
    return filler


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.fault == "alarms" and args.duration < ALARM_TIMER_S + OUTAGE_S + 5:
        raise SystemExit(
            f"--fault alarms needs --duration >= {ALARM_TIMER_S + OUTAGE_S + 5:.0f}: the fires' "
            f"timers come due {ALARM_TIMER_S:.0f} s after they are raised"
        )
    workdir = Path(tempfile.mkdtemp(prefix=f"firegrid-fault-{args.fault}-"))
    workdir.chmod(0o755)  # the private PostgreSQL server runs as user postgres
    children: list[Child] = []
    result: dict[str, Any] = {"fault": args.fault, "rate": args.rate, "duration_s": args.duration}
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: [c.stop() for c in reversed(children)])
        database_log = args.fault == "disk"
        if args.fault == "postgres":
            server, pg_stop, pg_start = stack.enter_context(private_postgres(workdir))
        else:
            server, pg_stop, pg_start = args.db, None, None
        if database_log:
            disk = stack.enter_context(small_disk(workdir / "disk", args.disk_mb))
            url = f"sqlite:///{disk / 'faults.db'}"
            from firegrid.core.migrate import upgrade

            upgrade(url)
        else:
            url = stack.enter_context(_database(server))
        cluster = None
        if not database_log:
            cluster = stack.enter_context(LocalCluster(workdir / "nats"))
        panels, _ = build_city(url, args.devices, 0)
        env = {
            **os.environ,
            "FIREGRID_ENV": "test",
            "FIREGRID_DATABASE_URL": url,
            "FIREGRID_DATA_DIR": str(workdir / "data"),
            "FIREGRID_LOG_LEVEL": "WARNING",
            "FIREGRID_EVENT_LOG": "database" if database_log else "jetstream",
            "FIREGRID_NATS_URL": cluster.url if cluster else "",
            "FIREGRID_EVENT_REPLICAS": "1" if database_log else "3",
            "FIREGRID_EVENT_STREAM": STREAM,
            "FIREGRID_ALARMS_FILE_CHANNELS": "",
        }
        cli = [sys.executable, "-m", "firegrid.cli"]
        gb_port = free_ports(1)[0]
        workers = ["a", "b"] if args.fault == "rolling" else ["a"]

        def start_ingest(worker: str, generation: int) -> Child:
            child = Child(
                f"ingest-{worker}{generation}",
                [
                    *cli,
                    *("ingest", "run", "--gb26875", f"127.0.0.1:{gb_port}", "--no-downlink"),
                    *("--reuse-port", "--worker-id", worker, "--idle-timeout", "3600"),
                ],
                env,
                workdir,
            )
            children.append(child)
            child.wait_for('{"ready"', 120)
            return child

        ingest = {w: start_ingest(w, 0) for w in workers}
        alarms = Child("alarms-0", [*cli, "alarms", "run", "--timer-interval", "0.5"], env, workdir)
        children.append(alarms)
        book = TokenBook()
        counters = Counters()
        # the alarms are killed just before the fires' acknowledgement timers come due
        strike_after_s = ALARM_TIMER_S - 5 if args.fault == "alarms" else args.duration / 3
        fault_at: list[float] = []

        async def scenario() -> None:
            conns = await keep_connected(gb_port, panels, counters, book)
            loop = asyncio.get_running_loop()
            driver = asyncio.create_task(
                drive(
                    gb_port,
                    conns,
                    book,
                    args.rate,
                    args.duration,
                    fires_first=min(20, len(conns)) if args.fault == "alarms" else 0,
                )
            )
            await asyncio.sleep(strike_after_s)
            fault_at.append(time.perf_counter())
            await loop.run_in_executor(None, strike)
            await driver

        def strike() -> None:
            nonlocal alarms
            if args.fault == "nats-node":
                assert cluster is not None
                leader = stream_leader(cluster.url)
                victim = next((n for n in cluster.nodes if n.name == leader), cluster.nodes[0])
                result["killed"] = {"node": victim.name, "stream_leader": leader}
                cluster.kill(victim)
                time.sleep(args.duration / 3)
                cluster.start_node(victim)
            elif args.fault == "postgres":
                pg_stop()
                time.sleep(OUTAGE_S)
                pg_start()
            elif args.fault == "rolling":
                for n, worker in enumerate(workers, start=1):
                    ingest[worker].stop()  # SIGTERM: drain, close; devices reconnect
                    ingest[worker] = start_ingest(worker, n)
            elif args.fault == "alarms":
                alarms.process.send_signal(signal.SIGKILL)
                alarms.process.wait(10)
                time.sleep(OUTAGE_S)
                alarms = Child(
                    "alarms-1", [*cli, "alarms", "run", "--timer-interval", "0.5"], env, workdir
                )
                children.append(alarms)
            elif args.fault == "disk":
                filler = fill(disk)
                time.sleep(OUTAGE_S)
                filler.unlink()

        started = time.perf_counter()
        asyncio.run(scenario())
        result["elapsed_s"] = round(time.perf_counter() - started, 1)
        time.sleep(3)  # the alarm consumer folds what is left; timers fire
        for child in list(children):
            child.stop()
        if database_log:
            stored, duplicates = stored_tokens_database(url)
        else:
            assert cluster is not None
            stored, duplicates = stored_tokens_jetstream(cluster.url)
        acknowledged = book.confirmed
        result.update(
            {
                "acknowledged": len(acknowledged),
                "stored": len(acknowledged & stored),
                "lost": len(acknowledged - stored),
                "duplicates": duplicates,
                "offered": book.issued,
                "not_acknowledged": book.issued - len(acknowledged),
                "retransmitted": book.retransmitted,
                "recovery_s": recovery_seconds(book.samples, fault_at[0], args.rate)
                if fault_at
                else None,
                "timers_late": timers_late(url, args.late_s)["late"]
                if args.fault == "alarms"
                else 0,
            }
        )
        if args.fault == "alarms":
            result["timers"] = timers_late(url, args.late_s)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        result["workdir"] = str(workdir)
    return result


@contextmanager
def _database(server: str) -> Iterator[str]:
    from sqlalchemy import create_engine, make_url, text

    from firegrid.core.migrate import upgrade
    from firegrid.core.settings import normalise_database_url

    admin_url = make_url(normalise_database_url(server))
    name = f"firegrid_faults_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with contextlib.suppress(Exception), admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--fault", choices=FAULTS, required=True)
    parser.add_argument("--rate", type=float, default=2000, help="frames/s offered")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--devices", type=int, default=200, help="transmitters")
    parser.add_argument(
        "--db",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (a throw-away database is made there; not for --fault postgres)",
    )
    parser.add_argument("--late-s", type=float, default=2.0, help="a timer later is 'late'")
    parser.add_argument("--disk-mb", type=int, default=64, help="tmpfs size for --fault disk")
    parser.add_argument("--timeout", type=float, default=None, help="whole run (s)")
    parser.add_argument("--json", action="store_true", help="one line of JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs)")
    args = parser.parse_args()
    limit = args.timeout or args.duration + 300

    result = within_time_limit("faults", limit, lambda: run(args))
    print(json.dumps(result, indent=None if args.json else 2, ensure_ascii=False))


if __name__ == "__main__":
    main()
