"""The installation figures as CSV (UTF-8 with BOM, formula-like cells quoted)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from firegrid.core.text import neutralise_formula

COLUMNS = (
    "period",
    "level",
    "unit",
    "unit_name_zh",
    "unit_name_en",
    "smoke_alarms",
    "simple_sprinklers",
    "connected",
    "households",
    "venues",
    "total",
)


def report_csv(rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([neutralise_formula(str(row[c])) for c in COLUMNS])
    return "\ufeff" + buffer.getvalue()
