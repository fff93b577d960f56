"""Per-connection limits of the GB/T 26875.3 listener (pure; no sockets).

One peer must not be able to slow down every other device. Two limits apply to each
connection:

- :class:`BadInputBudget`: bytes that did not become frames and bad frames are charged to
  two leaky buckets. A device on a noisy line sends a bad frame now and then and never
  runs out; a peer that sends garbage exhausts a bucket and its connection is closed (the
  server records why, with its address and counts).
- :class:`ReadAllowance`: a token bucket of bytes read. A connection over its rate is paused
  (TCP pushes back on the sender) until the bucket has refilled; nothing is dropped.

The decoder itself holds at most one unfinished frame between reads
(:data:`~.stream.MAX_HELD_BYTES`), so memory per connection is bounded too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectionLimits:
    """Tunables of :class:`BadInputBudget` and :class:`ReadAllowance`."""

    #: bad bytes a connection may send in a burst (bucket size) ...
    max_bad_bytes: int = 64 * 1024
    #: ... and the rate at which that allowance comes back
    bad_bytes_per_s: float = 1024.0
    #: bad frames (error events) in a burst, and their refill rate (one per 10 s)
    max_bad_frames: int = 32
    bad_frames_per_s: float = 0.1
    #: sustained read rate of one connection; above it reading pauses (0 = no limit)
    read_bytes_per_s: float = 256 * 1024
    #: bytes a connection may read at once before the rate applies
    read_burst_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_bad_bytes", "max_bad_frames", "read_burst_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("bad_bytes_per_s", "bad_frames_per_s", "read_bytes_per_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")


class _LeakyBucket:
    def __init__(self, capacity: float, leak_per_s: float, now_s: float) -> None:
        self.capacity = capacity
        self.leak_per_s = leak_per_s
        self.level = 0.0
        self._at = now_s

    def add(self, amount: float, now_s: float) -> bool:
        """Add ``amount``; True when the bucket overflows."""
        self.level = max(0.0, self.level - (now_s - self._at) * self.leak_per_s) + amount
        self._at = now_s
        return self.level > self.capacity


class BadInputBudget:
    """How much bad input a connection may still send before it is closed."""

    def __init__(self, limits: ConnectionLimits, now_s: float) -> None:
        self.limits = limits
        self._bytes = _LeakyBucket(limits.max_bad_bytes, limits.bad_bytes_per_s, now_s)
        self._frames = _LeakyBucket(limits.max_bad_frames, limits.bad_frames_per_s, now_s)
        self.bad_bytes = 0
        self.bad_frames = 0

    def charge(self, bad_bytes: int, bad_frames: int, now_s: float) -> str | None:
        """Charge what one read cost; the reason to close the connection, or None."""
        self.bad_bytes += bad_bytes
        self.bad_frames += bad_frames
        over_bytes = self._bytes.add(bad_bytes, now_s)
        over_frames = self._frames.add(bad_frames, now_s)
        if over_bytes:
            return (
                f"bad input budget exhausted: more than {self.limits.max_bad_bytes} bytes "
                f"outside valid frames ({self.bad_bytes} on this connection)"
            )
        if over_frames:
            return (
                f"bad input budget exhausted: more than {self.limits.max_bad_frames} bad "
                f"frames ({self.bad_frames} on this connection)"
            )
        return None


class ReadAllowance:
    """A token bucket of bytes: :meth:`take` says how long reading must pause."""

    def __init__(self, limits: ConnectionLimits, now_s: float) -> None:
        self.rate = limits.read_bytes_per_s
        self.burst = float(limits.read_burst_bytes)
        self.tokens = self.burst
        self._at = now_s

    def take(self, size: int, now_s: float) -> float:
        """Spend ``size`` bytes; seconds to pause before reading more (0: go on)."""
        if self.rate <= 0:
            return 0.0
        self.tokens = min(self.burst, self.tokens + (now_s - self._at) * self.rate) - size
        self._at = now_s
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class Offenders:
    """Peers (by host) whose connections were closed for bad input, per window.

    A flooding peer reconnects at once, many times a second. The first disconnection of a
    host in a window is recorded on its own; the next ones are counted and recorded as one
    summary when the window ends, and meanwhile the frame errors of that host's
    connections are counted rather than each written (they would otherwise cost a durable
    write per connection and slow the event log down for everybody). Devices are never
    refused for their address: many transmitters share a carrier's NAT address.
    """

    def __init__(self, window_s: float = 60.0) -> None:
        self.window_s = window_s
        self._windows: dict[str, _Window] = {}

    def recent(self, host: str, now_s: float) -> bool:
        """Whether ``host`` had a connection closed in its current window."""
        window = self._windows.get(host)
        return window is not None and now_s - window.started_s < self.window_s

    def closed(self, host: str, now_s: float, bad_bytes: int, bad_frames: int) -> bool:
        """Count a disconnection; True when it opens a window (record it on its own)."""
        window = self._windows.get(host)
        if window is None or now_s - window.started_s >= self.window_s:
            self._windows[host] = _Window(now_s)
            return True
        window.closures += 1
        window.bad_bytes += bad_bytes
        window.bad_frames += bad_frames
        return False

    def suppressed(self, host: str, errors: int) -> None:
        """Count frame errors of ``host`` that were not recorded one by one."""
        window = self._windows.get(host)
        if window is not None:
            window.errors_not_recorded += errors

    def due(self, now_s: float, *, everything: bool = False) -> list[tuple[str, str]]:
        """Summaries ``(host, message)`` of the windows that ended (or all)."""
        out: list[tuple[str, str]] = []
        for host, window in list(self._windows.items()):
            if not everything and now_s - window.started_s < self.window_s:
                continue
            del self._windows[host]
            if window.closures or window.errors_not_recorded:
                out.append(
                    (
                        host,
                        f"{window.closures} more connections from {host} closed for bad input "
                        f"within {self.window_s:.0f} s of the first: {window.bad_bytes} bad "
                        f"bytes, {window.bad_frames} bad frames, "
                        f"{window.errors_not_recorded} frame errors not recorded one by one",
                    )
                )
        return out


class _Window:
    def __init__(self, started_s: float) -> None:
        self.started_s = started_s
        self.closures = 0
        self.bad_bytes = 0
        self.bad_frames = 0
        self.errors_not_recorded = 0
