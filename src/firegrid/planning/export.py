"""A plan exported: GeoJSON (sites, districts, existing stations), xlsx (tables) and a
self-contained HTML report with a map drawn as SVG (no script, no external file)."""

from __future__ import annotations

import html
import io
import json
from typing import Any

FORMATS = {
    "geojson": ("application/geo+json", ".geojson"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "html": ("text/html; charset=utf-8", ".html"),
}


def _point(lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


def to_geojson(plan_id: int, result: dict[str, Any]) -> dict[str, Any]:
    features = []
    for site in result.get("sites") or []:
        district = site.get("district") or {}
        props = {k: v for k, v in site.items() if k not in ("lon", "lat", "district")}
        props.update({f"district_{k}": v for k, v in district.items() if k != "points"})
        features.append(_point(site["lon"], site["lat"], role="new_site", **props))
        points = district.get("points") or []
        if points:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "MultiPoint", "coordinates": points},
                    "properties": {"role": "district", "site": site.get("code")},
                }
            )
    for st in result.get("stations") or []:
        features.append(_point(st["lon"], st["lat"], role="existing", code=st.get("code")))
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "plan_id": plan_id,
            "kind": result.get("kind"),
            "model": result.get("model"),
            "objective": result.get("objective"),
            "optimal": result.get("optimal"),
            "coverage": result.get("coverage"),
        },
    }


def _rows(result: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["code", "lon", "lat", "node", "source", "district_weight", "newly_covered_weight"]
    ]
    for site in result.get("sites") or []:
        district = site.get("district") or {}
        rows.append(
            [
                site.get("code"),
                site.get("lon"),
                site.get("lat"),
                site.get("node"),
                site.get("source"),
                district.get("weight"),
                district.get("newly_covered_weight"),
            ]
        )
    return rows


def _comparison(result: dict[str, Any], simulation: dict[str, Any] | None) -> list[list[Any]]:
    rows: list[list[Any]] = [["figure", "before", "after"]]
    coverage = result.get("coverage") or {}
    for key in ("covered_share", "mean_time_s", "worst_time_s"):
        rows.append(
            [
                f"coverage.{key}",
                (coverage.get("before") or {}).get(key),
                (coverage.get("after") or {}).get(key),
            ]
        )
    for key, row in ((simulation or {}).get("comparison") or {}).items():
        rows.append([f"simulation.{key}", row.get("before"), row.get("after")])
    return rows


def to_xlsx(result: dict[str, Any], simulation: dict[str, Any] | None) -> bytes:
    from openpyxl import Workbook

    from firegrid.core.text import neutralise_formula

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "sites"
    for row in _rows(result):
        sheet.append([neutralise_formula(v) if isinstance(v, str) else v for v in row])
    compare = book.create_sheet("before_after")
    for row in _comparison(result, simulation):
        compare.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _svg_map(result: dict[str, Any], width: int = 640, height: int = 480) -> str:
    sites = result.get("sites") or []
    stations = result.get("stations") or []
    points = [(s["lon"], s["lat"]) for s in [*sites, *stations]]
    for site in sites:
        points += [tuple(p) for p in (site.get("district") or {}).get("points") or []]
    if not points:
        return ""
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    x0, x1 = min(lons), max(lons)
    y0, y1 = min(lats), max(lats)
    sx = (width - 20) / max(x1 - x0, 1e-9)
    sy = (height - 20) / max(y1 - y0, 1e-9)
    scale = min(sx, sy)

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return 10 + (lon - x0) * scale, height - 10 - (lat - y0) * scale

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    for site in sites:
        for lon, lat in (site.get("district") or {}).get("points") or []:
            x, y = xy(lon, lat)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="#f4a261"/>')
    for st in stations:
        x, y = xy(st["lon"], st["lat"])
        parts.append(f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="#264653"/>')
    for site in sites:
        x, y = xy(site["lon"], site["lat"])
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#e63946"/>')
    parts.append("</svg>")
    return "".join(parts)


def to_html(plan_id: int, result: dict[str, Any], simulation: dict[str, Any] | None) -> str:
    def table(rows: list[list[Any]]) -> str:
        head, *body = rows
        cells = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
        lines = [
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
            for row in body
        ]
        return f"<table><tr>{cells}</tr>{''.join(lines)}</table>"

    demand = html.escape(json.dumps(result.get("demand"), ensure_ascii=False, indent=1))
    quality = {
        k: result.get(k) for k in ("model", "objective", "bound", "gap", "optimal", "method")
    }
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>firegrid plan {plan_id}</title></head><body>"
        f"<h1>firegrid plan {plan_id} ({html.escape(str(result.get('kind')))})</h1>"
        f"<pre>{html.escape(json.dumps(quality, ensure_ascii=False, indent=1))}</pre>"
        "<h2>map</h2><p>red: new sites; dark squares: existing stations; orange: the new "
        f"sites' districts</p>{_svg_map(result)}"
        f"<h2>sites</h2>{table(_rows(result))}"
        f"<h2>before / after</h2>{table(_comparison(result, simulation))}"
        f"<h2>demand</h2><pre>{demand}</pre>"
        "</body></html>"
    )


def render_plan(
    plan_id: int, result: dict[str, Any], simulation: dict[str, Any] | None, fmt: str
) -> bytes:
    if fmt == "geojson":
        return json.dumps(to_geojson(plan_id, result), ensure_ascii=False).encode()
    if fmt == "xlsx":
        return to_xlsx(result, simulation)
    return to_html(plan_id, result, simulation).encode()
