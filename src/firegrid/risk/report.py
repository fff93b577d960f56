"""Self-contained HTML report of an assessment run (inline CSS and SVG, no external assets).

``write_report(run, out_dir)`` writes ``out_dir/index.html``: summary, validation (AUC,
precision at top k %, calibration chart), per-town table and bar chart, per-industry and
per-category tables, a map (venues coloured by grade, towns as circles sized by their
occupancy-weighted score, optional boundary polygons from GeoJSON), the high-risk unit
list and the model's weights. A synthetic run carries a banner and the documented
generating process. Labels are Chinese with English in brackets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from firegrid.risk.grades import GRADE_ZH, GRADES
from firegrid.risk.report_areas import area_section

if TYPE_CHECKING:
    from firegrid.risk.predictive import PredictiveValidation
    from firegrid.risk.run import AssessmentRun

COLOURS = {
    "red": "#d7191c",
    "orange": "#f07f26",
    "yellow": "#e8c02a",
    "blue": "#2c7bb6",
    "green": "#1a9641",
}
CSS = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0;
 color:#222;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:24px;margin:8px 0}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #ddd}
table{border-collapse:collapse;font-size:13px;background:#fff;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}th{background:#eef0f3}
td.l,th.l{text-align:left}.banner{background:#fff3cd;border:2px solid #e0a800;padding:10px 14px;
 font-weight:bold;margin:8px 0}.chip{display:inline-block;padding:3px 10px;border-radius:10px;
 color:#fff;margin-right:6px;font-weight:bold}.grid2{display:flex;flex-wrap:wrap;gap:18px}
svg{background:#fff;border:1px solid #ddd}pre{white-space:pre-wrap;font-size:12px;
 background:#fff;border:1px solid #ddd;padding:8px}.muted{color:#666;font-size:12px}
"""


def _fmt(v: Any, digits: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        return f"{v:.{digits}f}"
    return escape(str(v))


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], left: int = 1, digits: int = 1
) -> str:
    head = "".join(
        f'<th class="l">{escape(h)}</th>' if i < left else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="l">{_cell(v, digits)}</td>' if i < left else f"<td>{_cell(v, digits)}</td>"
            for i, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(v: Any, digits: int) -> str:
    if isinstance(v, str) and v in COLOURS:
        return f'<span style="color:{COLOURS[v]};font-weight:bold">{escape(_grade_label(v))}</span>'
    return _fmt(v, digits)


def _area_name(code: Any, names: Mapping[str, str] | None) -> str:
    """The area's name when known, else its code (short labels on charts)."""
    return (names or {}).get(str(code)) or str(code)


def _area_label(code: Any, names: Mapping[str, str] | None) -> str:
    """``name (code)`` when the name is known, else the code."""
    name = (names or {}).get(str(code))
    return f"{name} ({code})" if name else str(code)


def _grade_label(g: str) -> str:
    return f"{GRADE_ZH[g]} ({g})" if g in GRADE_ZH else g


# ---- SVG charts ----------------------------------------------------------------------
def calibration_svg(validation: PredictiveValidation, width: int = 420, height: int = 360) -> str:
    """Mean predicted vs observed rate per bin, with the diagonal."""
    pad = 48
    bins = validation.calibration
    top = max([b.mean_predicted for b in bins] + [b.observed_rate for b in bins] + [1e-6])
    top = min(1.0, top * 1.1)

    def sx(v: float) -> float:
        return pad + (width - pad - 12) * v / top

    def sy(v: float) -> float:
        return height - pad - (height - pad - 12) * v / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="calibration chart">',
        f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(top)}" y2="{sy(top)}" stroke="#aaa" '
        f'stroke-dasharray="4 3"/>',
        f'<line x1="{pad}" y1="{sy(0)}" x2="{width - 12}" y2="{sy(0)}" stroke="#333"/>',
        f'<line x1="{pad}" y1="{sy(0)}" x2="{pad}" y2="12" stroke="#333"/>',
    ]
    for k in range(5):
        v = top * k / 4
        parts.append(
            f'<text x="{sx(v):.1f}" y="{height - pad + 16}" font-size="10" '
            f'text-anchor="middle">{v:.3f}</text>'
            f'<text x="{pad - 4}" y="{sy(v) + 3:.1f}" font-size="10" '
            f'text-anchor="end">{v:.3f}</text>'
        )
    pts = " ".join(f"{sx(b.mean_predicted):.1f},{sy(b.observed_rate):.1f}" for b in bins)
    parts.append(
        f'<polyline points="{pts}" fill="none" stroke="{COLOURS["blue"]}" stroke-width="2"/>'
    )
    for b in bins:
        parts.append(
            f'<circle cx="{sx(b.mean_predicted):.1f}" cy="{sy(b.observed_rate):.1f}" r="4" '
            f'fill="{COLOURS["blue"]}"><title>bin {b.bin}: n={b.n}, predicted '
            f"{b.mean_predicted:.4f}, observed {b.observed_rate:.4f}</title></circle>"
        )
    parts.append(
        f'<text x="{width / 2}" y="{height - 8}" font-size="12" text-anchor="middle">'
        "平均预测概率 (mean predicted)</text>"
        f'<text x="14" y="{height / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {height / 2})">实际发生率 (observed rate)</text></svg>'
    )
    return "".join(parts)


def town_bar_svg(
    towns: pl.DataFrame, width: int = 560, names: Mapping[str, str] | None = None
) -> str:
    """Occupancy-weighted score per town (bar, coloured by grade) with its p90 (tick)."""
    rows = towns.sort("score_weighted", descending=True).to_dicts()
    bar_h, gap, left, right = 14, 4, (70 if not names else 90), 40
    height = 24 + len(rows) * (bar_h + gap)
    top = max(
        [float(r["score_p90"] or 0) for r in rows]
        + [float(r["score_weighted"]) for r in rows]
        + [1.0]
    )
    scale = (width - left - right) / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        'aria-label="town scores">'
    ]
    for i, r in enumerate(rows):
        y = 12 + i * (bar_h + gap)
        w = float(r["score_weighted"]) * scale
        p90 = float(r["score_p90"] or 0) * scale
        colour = COLOURS[str(r["grade"])]
        parts.append(
            f'<text x="{left - 6}" y="{y + bar_h - 3}" font-size="11" text-anchor="end">'
            f"{escape(_area_name(r['town_code'], names))}</text>"
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
            f"<title>{escape(_area_label(r['town_code'], names))}: "
            f"weighted {r['score_weighted']:.1f}, "
            f"p90 {r['score_p90']:.1f}, n={r['n_venues']}</title></rect>"
            f'<line x1="{left + p90:.1f}" y1="{y - 1}" x2="{left + p90:.1f}" y2="{y + bar_h + 1}" '
            'stroke="#222" stroke-width="2"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 3}" font-size="10">'
            f"{r['score_weighted']:.1f}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _iter_rings(geometry: Mapping[str, Any]) -> Iterable[Sequence[Sequence[float]]]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    if kind == "Polygon":
        yield from coords
    elif kind == "MultiPolygon":
        for poly in coords:
            yield from poly


def map_svg(
    run: AssessmentRun,
    *,
    width: int = 760,
    height: int = 620,
    max_points: int = 20_000,
    boundaries: Mapping[str, Any] | None = None,
    seed: int = 0,
    names: Mapping[str, str] | None = None,
) -> str:
    """Venues as dots coloured by grade (red and orange always drawn, others sampled) and
    towns as circles at their venues' centroid, sized by the occupancy-weighted score."""
    s = run.scores.select("venue_id", "town_code", "lon", "lat", "grade").drop_nulls(["lon", "lat"])
    if s.height == 0:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    lon = s["lon"].to_numpy()
    lat = s["lat"].to_numpy()
    lo0, lo1 = np.quantile(lon, [0.001, 0.999])
    la0, la1 = np.quantile(lat, [0.001, 0.999])
    if boundaries:  # the whole boundaries stay in view
        ring_pts = [
            c
            for feat in boundaries.get("features", [])
            for ring in _iter_rings(feat.get("geometry") or {})
            for c in ring
        ]
        if ring_pts:
            bx = np.asarray([c[0] for c in ring_pts], dtype=np.float64)
            by = np.asarray([c[1] for c in ring_pts], dtype=np.float64)
            lo0, lo1 = min(lo0, bx.min()), max(lo1, bx.max())
            la0, la1 = min(la0, by.min()), max(la1, by.max())
    kx = math.cos(math.radians((la0 + la1) / 2))
    span_x, span_y = max((lo1 - lo0) * kx, 1e-9), max(la1 - la0, 1e-9)
    pad = 16
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    # Centre the drawing in the frame.
    off_x = pad + ((width - 2 * pad) - span_x * scale) / 2
    off_y = pad + ((height - 2 * pad) - span_y * scale) / 2

    def px(x: float) -> float:
        return float(off_x + (x - lo0) * kx * scale)

    def py(y: float) -> float:
        return float(height - off_y - (y - la0) * scale)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        'aria-label="risk map">'
    ]
    if boundaries:
        for feat in boundaries.get("features", []):
            for ring in _iter_rings(feat.get("geometry") or {}):
                d = " ".join(f"{px(c[0]):.1f},{py(c[1]):.1f}" for c in ring)
                parts.append(
                    f'<polygon points="{d}" fill="none" stroke="#999" stroke-width="0.8"/>'
                )
    severe = s.filter(pl.col("grade").is_in(["red", "orange"]))
    rest = s.filter(~pl.col("grade").is_in(["red", "orange"]))
    budget = max(0, max_points - severe.height)
    if rest.height > budget:
        rest = rest.sample(n=budget, seed=seed)
    for grade in ("blue", "yellow", "orange", "red"):
        sub = (rest if grade in ("blue", "yellow") else severe).filter(pl.col("grade") == grade)
        r = 1.2 if grade in ("blue", "yellow") else 2.2
        dots = "".join(
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="{r}"/>'
            for x, y in zip(sub["lon"].to_list(), sub["lat"].to_list(), strict=True)
        )
        opacity = 0.45 if grade in ("blue", "yellow") else 0.9
        parts.append(f'<g fill="{COLOURS[grade]}" fill-opacity="{opacity}">{dots}</g>')
    towns = (
        run.scores.group_by("town_code")
        .agg(pl.col("lon").mean(), pl.col("lat").mean())
        .join(run.aggregates["town"].select("town_code", "score_weighted", "grade"), on="town_code")
    )
    tmax = max(float(towns["score_weighted"].max() or 1.0), 1e-9)  # type: ignore[arg-type]
    for t in towns.iter_rows(named=True):
        rad = 4 + 14 * (float(t["score_weighted"]) / tmax) ** 2
        parts.append(
            f'<circle cx="{px(t["lon"]):.1f}" cy="{py(t["lat"]):.1f}" r="{rad:.1f}" '
            f'fill="{COLOURS[str(t["grade"])]}" fill-opacity="0.25" stroke="#222" stroke-width="1">'
            f"<title>{escape(_area_label(t['town_code'], names))}: "
            f"{t['score_weighted']:.1f}</title></circle>"
            f'<text x="{px(t["lon"]):.1f}" y="{py(t["lat"]) + 3:.1f}" font-size="9" '
            f'text-anchor="middle">'
            f"{escape(_area_name(t['town_code'], names))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# ---- sections --------------------------------------------------------------------------
def _summary(run: AssessmentRun) -> str:
    counts = run.city_grade_counts()
    city = run.aggregates["city"].row(0, named=True)
    chips = "".join(
        f'<span class="chip" style="background:{COLOURS[g]}">{escape(_grade_label(g))}: '
        f"{counts[g]:,}</span>"
        for g in GRADES
    )
    rows = [
        ("模型 (model)", run.model.label),
        ("评估时点 (snapshot)", run.snapshot_at.isoformat()),
        ("场所数 (venues)", f"{run.n_venues:,}"),
        ("全市加权平均分 (city occupancy-weighted score)", _fmt(city["score_weighted"])),
        (
            "中位数 / P90 / 最高 (p50 / p90 / max)",
            " / ".join(_fmt(city[k]) for k in ("score_p50", "score_p90", "score_max")),
        ),
        ("全市等级 (city grade)", _grade_label(str(city["grade"]))),
        ("耗时 (timings, s)", ", ".join(f"{k} {v:.2f}" for k, v in run.timings_s.items())),
    ]
    return (
        "<h2>概要 (Summary)</h2>"
        f"<p>{chips}</p>"
        + _table(["项目 (item)", "值 (value)"], rows, left=2)
        + (
            "<p class='muted'>" + "<br>".join(escape(w) for w in run.warnings) + "</p>"
            if run.warnings
            else ""
        )
    )


def _validation(run: AssessmentRun) -> str:
    v = run.validation
    if v is None:
        return (
            "<h2>预测验证 (Validation)</h2><p>未提供历史火灾数据 "
            "(no incident history given: no validation).</p>"
        )
    labels = (
        "合成标签：衡量的是对合成生成过程的还原程度，而非预测能力 "
        f"(labels: SYNTHETIC — this measures {v.measures}, not predictive skill)"
        if v.labels == "synthetic"
        else f"真实火灾记录 (labels: imported records — {v.measures})"
    )
    head = f"<h2>预测验证 (Validation)</h2><p><b>{escape(labels)}</b></p>"
    if v.status != "ok":
        return head + f"<p>未报告 AUC (no AUC reported): {escape(v.reason)}</p>"
    rows: list[tuple[Any, ...]] = [
        ("ROC AUC", v.auc, v.expert_auc),
        *[
            (
                f"前 {k} 精确率 (precision at top {k})",
                v.precision_at_top[k],
                v.expert_precision_at_top[k],
            )
            for k in v.precision_at_top
        ],
    ]
    extra = ""
    if v.ceiling_auc is not None and v.ablation is not None:
        extra = (
            "<p>合成过程还原 (recovery of the synthetic process): 生成公式自身(无噪声) AUC "
            f"(the generator's noiseless formula, the ceiling) {_fmt(v.ceiling_auc, 3)}; "
            "仅生成特征 (generator features only) "
            f"{_fmt(v.ablation.get('generator_features_auc'), 3)}; "
            "生成过程以外的指标 (indicators outside it) "
            f"{_fmt(v.ablation.get('other_indicators_auc'), 3)}.</p>"
        )
    if v.auc_ci95 is not None:
        ci = v.auc_ci95
        eci = v.expert_auc_ci95 or [float("nan"), float("nan")]
        extra = (
            f"<p>95 % bootstrap CI: model {_fmt(ci[0], 3)}–{_fmt(ci[1], 3)}, expert "
            f"{_fmt(eci[0], 3)}–{_fmt(eci[1], 3)}; events in the held-out period "
            f"{v.n_events_test}.</p>"
        )
    calib = _table(
        ["分箱 (bin)", "数量 (n)", "平均预测 (mean predicted)", "实际发生率 (observed)"],
        [(b.bin, b.n, b.mean_predicted, b.observed_rate) for b in v.calibration],
        digits=4,
    )
    sampled = "（训练集为抽样 sampled）" if v.train_sampled else ""
    return (
        head + f"<p>{escape(v.model_kind)}: 训练期 (train) {v.train_periods} → "
        f"留出检验期 (held-out test) {list(v.test_period)}; "
        f"n_train={v.n_train:,}{sampled}, n_test={v.n_test:,}, "
        f"基准发生率 (base rate) {v.base_rate:.4f}; "
        f"打乱标签对照 AUC (shuffled-label control) {_fmt(v.shuffled_label_auc, 3)}.</p>"
        + extra
        + _table(["指标 (metric)", "预测模型 (model)", "专家评分 (expert score)"], rows, digits=3)
        + '<div class="grid2"><div>'
        + calibration_svg(v)
        + "</div><div>"
        + calib
        + "</div></div>"
    )


def _agg_table(
    df: pl.DataFrame,
    key: str,
    label: str,
    limit: int | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    d = df.sort("score_weighted", descending=True)
    if limit:
        d = d.head(limit)
    cols = [
        key,
        "n_venues",
        "score_weighted",
        "score_mean",
        "score_p50",
        "score_p90",
        "score_max",
        *[f"n_{g}" for g in GRADES],
        "grade",
    ]
    headers = [
        label,
        "场所 (n)",
        "加权均分 (weighted)",
        "均分 (mean)",
        "P50",
        "P90",
        "最高 (max)",
        *[f"{GRADE_ZH[g]} ({g})" for g in GRADES],
        "等级 (grade)",
    ]
    rows = [(_area_label(r[0], names), *r[1:]) for r in d.select(cols).iter_rows()]
    return _table(headers, rows)


def _top_units(run: AssessmentRun, limit: int = 50, names: Mapping[str, str] | None = None) -> str:
    keys = run.model.catalogue.keys
    contrib = [f"contrib_{k}" for k in keys]
    rows = []
    for r in run.top.head(limit).iter_rows(named=True):
        top3 = sorted(((r[c], k) for c, k in zip(contrib, keys, strict=True)), reverse=True)[:3]
        drivers = ", ".join(f"{k} {p:.1f}" for p, k in top3)
        rows.append(
            (
                r["rank"],
                r["venue_id"],
                _area_label(r["town_code"], names),
                r["category"],
                r["score"],
                str(r["grade"]),
                drivers,
            )
        )
    n_red = int((run.scores["grade"] == "red").sum())
    return f"<h2>高风险单位 (High-risk units: top {run.top_n} and all {n_red} red)</h2>" + _table(
        [
            "排名 (rank)",
            "场所 (venue)",
            "镇街 (town)",
            "类别 (category)",
            "得分 (score)",
            "等级 (grade)",
            "主要因素 (main drivers, points)",
        ],
        rows,
        left=0,
    )


def _weights(run: AssessmentRun) -> str:
    cat = run.model.catalogue
    rows = [
        (
            i.key,
            f"{i.name_zh} ({i.name_en})",
            i.group,
            i.normalisation.kind,
            run.model.weights[i.key],
        )
        for i in cat.indicators
    ]
    cons = ", ".join(f"{k}: CR={v['cr']:.3f}" for k, v in run.model.consistency.items())
    return (
        "<h2>指标与权重 (Indicators and weights)</h2>"
        + (f"<p>AHP 一致性 (consistency): {escape(cons)}</p>" if cons else "")
        + _table(
            [
                "指标 (indicator)",
                "名称 (name)",
                "组 (group)",
                "归一化 (normalisation)",
                "权重 (weight)",
            ],
            rows,
            left=4,
            digits=4,
        )
    )


def render_report(
    run: AssessmentRun,
    *,
    title: str = "城市消防安全风险评估报告 (City fire-safety risk assessment)",
    boundaries: Mapping[str, Any] | None = None,
    max_points: int = 20_000,
    area_names: Mapping[str, str] | None = None,
) -> str:
    """The report as one HTML string; ``area_names`` labels towns by name (code → name)."""
    names = area_names
    banner = ""
    synthetic_section = ""
    if run.synthetic:
        banner = (
            '<div class="banner">⚠ 合成数据 (SYNTHETIC DATA) — 本报告使用模拟生成的数据，'
            "不反映任何真实场所 (this report is computed from generated data and describes no "
            "real venue).</div>"
        )
        if run.synthetic_description:
            synthetic_section = (
                "<h2>合成数据生成过程 (SYNTHETIC data: the hidden generating process)</h2>"
                f"<pre>{escape(run.synthetic_description)}</pre>"
            )
    body = [
        f"<h1>{escape(title)}</h1>",
        banner,
        _summary(run),
        area_section(run, names),
        _validation(run),
        "<h2>镇街 (Towns)</h2>",
        '<div class="grid2"><div>',
        town_bar_svg(run.aggregates["town"], names=names),
        "<p class='muted'>条 = 人员加权均分, 竖线 = P90 (bar = occupancy-weighted score, "
        "tick = p90)</p></div></div>",
        _agg_table(run.aggregates["town"], "town_code", "镇街 (town)", names=names),
        "<h2>地图 (Map)</h2>",
        map_svg(run, boundaries=boundaries, max_points=max_points, names=names),
        "<p class='muted'>点 = 场所按等级着色 (红、橙全部绘出, 其余抽样); "
        "圆 = 镇街, 大小随加权均分 "
        "(dots = venues by grade: all red and orange, others sampled; circles = towns sized by "
        "weighted score)</p>",
        "<h2>行业 (Industries)</h2>",
        _agg_table(run.aggregates["industry"], "industry_code", "行业代码 (industry)"),
        "<h2>场所类别 (Categories)</h2>",
        _agg_table(run.aggregates["category"], "category", "类别 (category)"),
        _top_units(run, names=names),
        _weights(run),
        synthetic_section,
    ]
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>"
        + "".join(body)
        + "</main></body></html>"
    )


def write_report(
    run: AssessmentRun,
    out_dir: str | Path,
    *,
    title: str = "城市消防安全风险评估报告 (City fire-safety risk assessment)",
    boundaries: Mapping[str, Any] | None = None,
    max_points: int = 20_000,
    area_names: Mapping[str, str] | None = None,
) -> Path:
    """Write ``out_dir/index.html`` (self-contained) and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(
        render_report(
            run,
            title=title,
            boundaries=boundaries,
            max_points=max_points,
            area_names=area_names,
        ),
        encoding="utf-8",
    )
    return path
