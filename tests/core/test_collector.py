"""The cycle collector's settings for services (core.collector)."""

from __future__ import annotations

import gc

from firegrid.core.collector import SERVICE_GEN0_THRESHOLD, settle_for_service


def test_a_settled_service_freezes_what_is_alive_and_collects_the_young_less_often() -> None:
    threshold = gc.get_threshold()
    kept = [{"row": n} for n in range(1000)]  # alive when the service settles
    try:
        report = settle_for_service()
        assert gc.get_threshold() == (SERVICE_GEN0_THRESHOLD, *threshold[1:])
        assert report == {
            "gen0_threshold": SERVICE_GEN0_THRESHOLD,
            "frozen_objects": gc.get_freeze_count(),
        }
        assert gc.get_freeze_count() >= len(kept)
        assert not any(kept[0] is item for item in gc.get_objects(generation=2))  # frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
