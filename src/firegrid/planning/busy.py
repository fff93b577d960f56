"""MEXCLP's busy fraction, estimated from the dispatch history.

``q = Σ service time of released unit assignments / (units × span of the history)``: the
share of the time an average unit was out on a call (dispatched → released), over the span
from the first dispatch to the last release. Without a history the documented default
(:data:`DEFAULT_BUSY_FRACTION`) is used and the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from firegrid.planning.inputs import ServiceHistory

#: used without a dispatch history: a unit busy 3 % of the time (about 45 minutes a day)
DEFAULT_BUSY_FRACTION = 0.03
#: never above this, so MEXCLP's ``1 - q^k`` stays meaningful
MAX_BUSY_FRACTION = 0.95


@dataclass(frozen=True)
class BusyFraction:
    value: float
    source: str  # "dispatch_history" | "default" | "given"
    history: ServiceHistory | None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": round(self.value, 6), "source": self.source}
        if self.history is not None:
            h = self.history
            out.update(
                {
                    "assignments": h.assignments,
                    "busy_hours": round(h.busy_s / 3600.0, 1),
                    "units": h.units,
                    "from": h.first.isoformat() if h.first else None,
                    "to": h.last.isoformat() if h.last else None,
                    "formula": "service time of released assignments / (units × span)",
                }
            )
        return out


def estimate_busy_fraction(history: ServiceHistory) -> BusyFraction:
    """``q`` from the history, or the default when it holds no released assignment."""
    if not history.assignments or not history.units or history.first is None:
        return BusyFraction(DEFAULT_BUSY_FRACTION, "default", history)
    assert history.last is not None
    span_s = (history.last - history.first).total_seconds()
    if span_s <= 0:
        return BusyFraction(DEFAULT_BUSY_FRACTION, "default", history)
    q = history.busy_s / (history.units * span_s)
    return BusyFraction(min(max(q, 0.0), MAX_BUSY_FRACTION), "dispatch_history", history)
