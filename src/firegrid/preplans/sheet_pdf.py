"""The first-due sheet as a one-page A4 PDF (ReportLab), the CJK font embedded (subset)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepInFrame

from firegrid.preplans.sheet import MAP_H, MAP_W

_registered: dict[Path, str] = {}


def _font(path: Path) -> str:
    name = _registered.get(path)
    if name is None:
        name = f"FiregridCJK{len(_registered)}"
        kwargs: dict[str, Any] = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
        pdfmetrics.registerFont(TTFont(name, str(path), **kwargs))
        _registered[path] = name
    return name


def _esc(value: Any) -> str:
    return (
        str(value if value is not None else "")
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _map(ctx: dict[str, Any], font: str, width: float) -> Drawing:
    k = width / MAP_W
    height = MAP_H * k
    d = Drawing(width, height)
    d.add(Rect(0, 0, width, height, fillColor=colors.HexColor("#f7f7f2"), strokeColor=colors.grey))

    def pt(x: float, y: float) -> tuple[float, float]:  # SVG y runs down, PDF up
        return x * k, height - y * k

    def inside(x: float, y: float) -> bool:
        return 0 <= x <= MAP_W and 0 <= y <= MAP_H

    shapes = ctx["map"]
    route = [pt(x, y) for x, y in shapes["route"] if inside(x, y)]
    if len(route) >= 2:
        d.add(
            PolyLine(
                [c for p in route for c in p], strokeColor=colors.HexColor("#1565c0"), strokeWidth=2
            )
        )
    for f in shapes["features"]:
        points = [pt(x, y) for x, y in f["xy"] if inside(x, y)]
        if not points:
            continue
        colour = colors.HexColor("#2e7d32" if f["kind"] == "staging_area" else "#ef6c00")
        if f["type"] == "Point":
            x, y = points[0]
            d.add(Rect(x - 4, y - 4, 8, 8, fillColor=colour, strokeColor=None))
            d.add(String(x + 6, y - 3, f["label"] or f["kind"], fontName=font, fontSize=7))
        elif len(points) >= 2:
            d.add(PolyLine([c for p in points for c in p], strokeColor=colour, strokeWidth=1.5))
    for x, y, code, dist in shapes["hydrants"]:
        if not inside(x, y):
            continue
        px, py = pt(x, y)
        d.add(Circle(px, py, 3, fillColor=colors.HexColor("#d32f2f"), strokeColor=None))
        d.add(String(px + 4, py + 2, f"{code} {dist:.0f}m", fontName=font, fontSize=6))
    vx, vy = pt(*shapes["venue"])
    d.add(Circle(vx, vy, 5, fillColor=colors.black, strokeColor=None))
    bar = shapes["scale_bar_units"] * k
    d.add(Line(8, 8, 8 + bar, 8, strokeWidth=1.5))
    d.add(String(8, 11, "100 m", fontName=font, fontSize=6))
    return d


def _table(rows: list[list[Any]], style: ParagraphStyle, widths: list[float]) -> Table:
    if not rows:
        rows = [["—"] + [""] * (len(widths) - 1)]
    data = [[Paragraph(_esc(c), style) for c in row] for row in rows]
    table = Table(data, colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def build_pdf(ctx: dict[str, Any], font_path: Path) -> bytes:
    font = _font(font_path)
    body = ParagraphStyle("body", fontName=font, fontSize=7.5, leading=9.5)
    head = ParagraphStyle("head", fontName=font, fontSize=9, leading=11, spaceBefore=3)
    title = ParagraphStyle("title", fontName=font, fontSize=14, leading=17)
    warn = ParagraphStyle("warn", parent=body, textColor=colors.HexColor("#b00000"))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=8 * mm,
        bottomMargin=8 * mm,
        title=f"首车出动单 {ctx['venue']['name']}",
    )
    width = doc.width
    venue, version = ctx["venue"], ctx["version"] or {}
    story: list[Any] = [
        Paragraph(_esc(f"首车出动单 First-due sheet — {venue['name']}"), title),
        Paragraph(
            _esc(
                f"{venue['code']} · {venue['address']} · 预案 v{version.get('version', '—')} · "
                f"打印时间 {ctx['as_of']}"
            ),
            body,
        ),
    ]
    if not ctx["published"]:
        story.append(Paragraph("未发布 NOT PUBLISHED", warn))
    if ctx["plan"]["review_overdue"]:
        story.append(Paragraph("复核逾期 review overdue", warn))
    story.append(_map(ctx, font, width))
    route = ctx["route"] or {}
    if route.get("travel_time_s"):
        text = (
            f"路线 Route: {route['label']} → {route['distance_m'] / 1000:.1f} km, "
            f"{ctx['route_min']} min"
        )
    else:
        text = f"路线 Route: {route.get('error', '—')}"
    story.append(Paragraph(_esc(text), body))
    half = width / 2 - 3
    room = ctx["control_room"] or {}
    left: list[Any] = [
        Paragraph("消防控制室 Fire control room", head),
        Paragraph(_esc(f"{room.get('location', '—')} ☎ {room.get('phone', '')}"), body),
        Paragraph("水泵接合器 Standpipes and inlets", head),
        _table(
            [
                [s["name"], s["location"], f"接合器 {s['inlet_location']}"]
                for s in ctx["standpipes"]
            ],
            body,
            [half * 0.3, half * 0.35, half * 0.35],
        ),
        Paragraph(f"消火栓（道路 150 m 内）Hydrants by road: {ctx['hydrant_count']}", head),
        _table(
            [
                [h["code"], f"{h['road_distance_m']:.0f} m", h["status"], f"{h['flow_lps']} L/s"]
                for h in ctx["hydrants"]
            ],
            body,
            [half * 0.3, half * 0.2, half * 0.3, half * 0.2],
        ),
        Paragraph("联系人 Contacts", head),
        *[
            Paragraph(_esc(f"{c['name']} {c['role']} ☎ {c['phone']}"), body)
            for c in ctx["contacts"]
        ],
    ]
    counts = " · ".join(f"{k} {n}" for k, n in ctx["device_counts"].items()) or "无登记设备"
    right: list[Any] = [
        Paragraph("危险品 Hazardous materials", head),
        _table(
            [
                [
                    m["name"],
                    f"UN{m['un_number']}",
                    m["hazard_class"],
                    f"{m['quantity']} {m['unit']}",
                ]
                for m in ctx["hazmats"]
            ],
            body,
            [half * 0.35, half * 0.2, half * 0.15, half * 0.3],
        ),
        Paragraph("特殊危险 Special hazards", head),
        *[Paragraph(_esc(f"· {h}"), body) for h in ctx["special_hazards"]],
        Paragraph("设备与警情（打印时）Devices and open alarms", head),
        Paragraph(_esc(counts), body),
        _table(
            [[a["kind"], a["status"], a["device_kind"], a["opened_at"]] for a in ctx["alarms"]]
            or [["无未结警情 no open alarm", "", "", ""]],
            body,
            [half * 0.2, half * 0.2, half * 0.25, half * 0.35],
        ),
        Paragraph("战术要点 Tactics", head),
        Paragraph(_esc(ctx["tactics"] or "—"), body),
    ]
    columns = Table(
        [
            [
                KeepInFrame(half, 400, left, mode="shrink"),
                KeepInFrame(half, 400, right, mode="shrink"),
            ]
        ],
        colWidths=[half + 3, half + 3],
    )
    columns.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [Spacer(1, 3), columns]
    doc.build([KeepInFrame(width, doc.height, story, mode="shrink")])
    return buffer.getvalue()
