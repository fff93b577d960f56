"""The console names every area indicator and countermeasure in both languages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firegrid.risk.area_method import default_area_method
from firegrid.risk.scheduler import load_schedule

LOCALES = Path(__file__).resolve().parents[2] / "web" / "src" / "locales"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_indicator_action_and_schedule_has_a_label(locale: str) -> None:
    texts = json.loads((LOCALES / f"{locale}.json").read_text(encoding="utf-8"))
    method = default_area_method()
    assert set(method.keys) <= set(texts["riskIndicator"])
    assert {i.action for i in method.indicators} <= set(texts["riskAction"])
    assert set(load_schedule().schedules) <= set(texts["riskSchedule"])
    assert set(texts["grade"]) == {"red", "orange", "yellow", "blue"}
    assert {"city", "town", "village", "grid", "industry", "category"} <= set(texts["level"])
