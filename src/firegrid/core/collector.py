"""The cycle collector's settings for the long-running services.

CPython runs a young-generation pass of its cycle collector every 700 net allocations of
container objects (tuples, dicts, lists, class instances). A service handling thousands of
events a second reaches 700 within a fraction of a millisecond of work, so it ran those
passes thousands of times a second, each walking every young object still alive (the
frames of a batch, the ORM rows of a transaction), and every tenth pass the middle
generation too.

:func:`settle_for_service` is called once a service has started (its modules, settings and
start-up caches loaded): everything alive then moves to the permanent generation, which no
pass walks again (``gc.freeze``), and the young generation is collected every
``SERVICE_GEN0_THRESHOLD`` net allocations instead of 700. Reference counting still frees
everything that is not in a cycle at once; only garbage in cycles waits longer, at most
about that many objects' worth. Measured in ``bench/RESULTS.md`` ("The cycle collector").
"""

from __future__ import annotations

import gc

#: net allocations of container objects between two young-generation passes in a service
SERVICE_GEN0_THRESHOLD = 20_000


def settle_for_service() -> dict[str, int]:
    """Freeze what is alive now and make young-generation passes rarer; returns the new
    thresholds and the number of frozen objects (for a service's start-up report)."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(SERVICE_GEN0_THRESHOLD, middle, old)
    return {"gen0_threshold": SERVICE_GEN0_THRESHOLD, "frozen_objects": gc.get_freeze_count()}
