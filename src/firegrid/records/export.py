"""The analytics table as an xlsx workbook (one row per group, p50/p90 columns)."""

from __future__ import annotations

import io
from typing import Any

from firegrid.core.text import neutralise_formula
from firegrid.records.analytics import INTERVALS

#: column headers in Chinese (the workbook is read by the fire service)
INTERVAL_ZH = {
    "call_processing_s": "接警处理",
    "turnout_s": "出动",
    "travel_s": "行驶",
    "first_arrival_s": "首车到场",
    "effective_response_force_s": "首批力量到齐",
}
_TAIL = (
    ("arrived_calls", "到场警情数"),
    ("within_5min_share", "5分钟到场率"),
    ("own_station_missed", "本站未能出动"),
    ("concurrency_mean", "平均并发"),
    ("concurrency_max", "最大并发"),
    ("units", "车辆数"),
    ("utilisation", "车辆利用率"),
)


def analytics_xlsx(table: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("响应分析")
    header = ["分组", "名称", "警情数"]
    for name in INTERVALS:
        header += [f"{INTERVAL_ZH[name]} P50 (秒)", f"{INTERVAL_ZH[name]} P90 (秒)"]
    header += [title for _key, title in _TAIL]
    sheet.append(header)
    for row in [*table["rows"], {**table["totals"], "key": "合计", "label": "合计"}]:
        cells: list[Any] = [_cell(row["key"]), _cell(row["label"]), row["calls"]]
        for name in INTERVALS:
            cells += [row["intervals"][name]["p50"], row["intervals"][name]["p90"]]
        cells += [row.get(key) for key, _title in _TAIL]
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    return neutralise_formula(value) if isinstance(value, str) else value
