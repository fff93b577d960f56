"""Validation of travel-time bands."""

from __future__ import annotations

import math
from collections.abc import Sequence

from firegrid.geo.errors import InvalidTimeBand


def time_bands(value: float | Sequence[float], what: str = "time band") -> list[float]:
    """Validate one band or a list of bands (seconds): positive, finite; sorted, unique."""
    items = [value] if isinstance(value, int | float) else list(value)
    if not items:
        raise InvalidTimeBand(f"no {what} given")
    bad = [v for v in items if not (isinstance(v, int | float) and math.isfinite(v) and v > 0)]
    if bad:
        raise InvalidTimeBand(
            f"{what} must be positive finite seconds, got {', '.join(repr(v) for v in bad)}"
        )
    return sorted({float(v) for v in items})
