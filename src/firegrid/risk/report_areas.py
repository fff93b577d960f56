"""The report's area sections: area grades per level (the area method) and, per level, the
problems (what drives the grade) and countermeasures (which actions lower it most, with the
venues or grids they concern)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any

import polars as pl

from firegrid.risk.aggregate import LEVELS
from firegrid.risk.countermeasures import countermeasures

if TYPE_CHECKING:
    from firegrid.risk.run import AssessmentRun

#: Action codes as the report says them (zh / en); the console has its own locale files.
ACTION_TEXT: dict[str, str] = {
    "rectify_overdue": "督促整改逾期隐患 (rectify the overdue hazards)",
    "connect_key_units": "重点单位接入远程监控 (connect the key units to remote monitoring)",
    "rectify_severe_venues": "重大/较大风险场所挂牌督办 (supervise the red and orange venues)",
    "inspect_uninspected": "补齐年度检查 (inspect the venues not inspected for a year)",
    "inspect_crowded_mixed": "宿舍、分租厂房、下商上住专项检查 (inspect the dormitories, "
    "subdivided factories and shop-houses)",
    "add_hydrants": "增设市政消火栓 (add hydrants in these grids)",
    "repair_offline_devices": "修复离线设备 (repair the offline devices)",
    "add_station": "规划新建消防站/小型站 (site a new station: grids beyond 5 minutes)",
}
LEVEL_TITLE = {
    "city": "全市 (City)",
    "town": "镇街 (Towns)",
    "village": "村社区 (Villages)",
    "grid": "网格 (Grids)",
    "industry": "行业 (Industries)",
    "category": "场所类别 (Categories)",
}
#: Areas given problems and countermeasures per level (highest area score first).
DETAILED = {"city": 1, "town": 40, "village": 5, "grid": 5, "industry": 5, "category": 5}


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:,.0f}"
    return escape(str(v))


def _label(code: Any, names: Mapping[str, str] | None) -> str:
    name = (names or {}).get(str(code))
    return escape(f"{name} ({code})" if name else str(code))


def area_section(run: AssessmentRun, names: Mapping[str, str] | None = None) -> str:
    """Area grades per level with problems and countermeasures (HTML)."""
    method = run.area_method
    if method is None or run.basis is None or run.area_context is None:
        return ""
    thresholds = method.scheme.thresholds
    parts = [
        "<h2>区域风险等级 (Area grades — the area method)</h2>",
        "<p class='muted'>区域按自身指标评估（五类指标＋火灾历史，AHP 权重），场所等级分布只是其中"
        "一项；阈值 (area thresholds) "
        f"red ≥ {thresholds['red']:g}, orange ≥ {thresholds['orange']:g}, "
        f"yellow ≥ {thresholds['yellow']:g}. (method {escape(method.version)})</p>",
    ]
    for level in ("city", "town", "village", "grid", "industry", "category"):
        df = run.aggregates.get(level)
        if df is None or "area_score" not in df.columns:
            continue
        key = LEVELS[level][0] or "city"
        ranked = df.filter(pl.col(key).is_not_null() & pl.col("area_score").is_not_null()).sort(
            "area_score", descending=True
        )
        counts = ranked["grade"].cast(pl.String).value_counts()
        count_text = ", ".join(f"{g} {n}" for g, n in counts.sort("grade").iter_rows())
        parts.append(f"<h3>{LEVEL_TITLE[level]} — {ranked.height} areas: {escape(count_text)}</h3>")
        for row in ranked.head(DETAILED[level]).iter_rows(named=True):
            parts.append(_area_block(run, level, key, row, names))
    return "".join(parts)


def _area_block(
    run: AssessmentRun,
    level: str,
    key: str,
    row: Mapping[str, Any],
    names: Mapping[str, str] | None,
) -> str:
    method = run.area_method
    assert method is not None
    assert run.basis is not None
    assert run.area_context is not None
    code = row[key]
    drivers = list(row.get("drivers") or [])
    head = (
        f"<p><b>{_label(code, names if level == 'town' else None)}</b> — "
        f"{escape(str(row['grade']))}, area score {row['area_score']:.1f}, "
        f"{row['n_venues']:,} venues</p>"
    )
    if not drivers:
        return head + "<p class='muted'>无突出问题 (no indicator at risk ≥ 0.5)</p>"
    synthetic = " <b>[合成 SYNTHETIC]</b>"
    problems = "".join(
        f"<li>{escape(method.by_key[k].name_zh)} ({escape(method.by_key[k].name_en)})"
        f"{synthetic if run.synthetic and method.by_key[k].group == 'history' else ''}: "
        f"{_fmt(row.get(f'value_{k}'))} {escape(method.by_key[k].unit)} "
        f"(good {_fmt(method.by_key[k].anchors.good)}, bad {_fmt(method.by_key[k].anchors.bad)}; "
        f"{_fmt(row.get(f'contrib_{k}'), 3)} points)</li>"
        for k in drivers
    )
    actions = countermeasures(
        run.basis, run.scores, level, str(code), method, run.area_context, drivers
    )
    items = []
    for c in actions:
        if c.score_after is not None:
            effect = f" → 区域评分 (area score) {c.score_after:.1f}"
        elif c.action == "add_station":
            effect = " (效果需选址分析 effect: needs siting, geo)"
        else:
            effect = " (效果未量化 effect not computed: the share of such venues stays)"
        targets = (
            f"{c.n_targets} venues, e.g. {', '.join(str(v) for v in c.venue_ids[:10])}"
            if c.n_targets
            else "—"
        )
        grids = f"; grids {', '.join(c.grids)}" if c.grids else ""
        items.append(
            f"<li>{escape(ACTION_TEXT.get(c.action, c.action))}{effect}: "
            f"{escape(targets)}{escape(grids)}</li>"
        )
    return (
        head
        + f"<p>问题 (problems)</p><ul>{problems}</ul>"
        + (f"<p>对策 (countermeasures)</p><ol>{''.join(items)}</ol>" if items else "")
    )
