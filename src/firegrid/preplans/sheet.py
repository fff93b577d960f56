"""The first-due sheet (首车出动单): one page per plan, as HTML and as PDF.

Both are drawn from one :func:`sheet_data` (the live plan with the route from the first-due
station), so they say the same thing: the map (venue, route, hydrants by road, drawn staging
and aerial positions), the control room, hazards, and the devices and open alarms at print
time. The HTML is self-contained (inline SVG map, no script). The PDF embeds a CJK
TrueType font (see :func:`cjk_font`); without one it refuses with a hint, never printing
boxes instead of Chinese.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from firegrid.core.errors import DomainError
from firegrid.core.texts import TextCode

MAP_W, MAP_H = 520.0, 300.0
MIN_EXTENT_M = 400.0
MAX_ROWS = 8
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
SHEET_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


class FontMissing(DomainError):
    status = 503
    code = "cjk_font_missing"


# ---- the map -----------------------------------------------------------------------------
@dataclass(frozen=True)
class MapFrame:
    """A local flat projection fitted around the venue (metres → sheet units)."""

    lon0: float
    lat0: float
    scale: float  # sheet units per metre

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        x_m = (lon - self.lon0) * 111_320.0 * math.cos(math.radians(self.lat0))
        y_m = (lat - self.lat0) * 110_574.0
        return MAP_W / 2 + x_m * self.scale, MAP_H / 2 - y_m * self.scale


def map_frame(data: dict[str, Any]) -> MapFrame:
    venue = data["venue"]
    lon0, lat0 = venue["lon"], venue["lat"]
    cos = math.cos(math.radians(lat0))
    extent = MIN_EXTENT_M
    points = [(h["lon"], h["lat"]) for h in data["hydrants"]]
    points += [p for f in _features(data) for p in f["points"]]
    for lon, lat in points:
        dx = abs(lon - lon0) * 111_320.0 * cos
        dy = abs(lat - lat0) * 110_574.0
        extent = max(extent, 2.4 * dx * MAP_H / MAP_W, 2.4 * dy)
    return MapFrame(lon0, lat0, MAP_H / extent)


def _features(data: dict[str, Any]) -> list[dict[str, Any]]:
    version = data.get("version") or {}
    out = []
    for f in (version.get("document") or {}).get("map_features", []):
        geometry = f["geometry"]
        coords = geometry["coordinates"]
        if geometry["type"] == "Point":
            points = [coords]
        elif geometry["type"] == "LineString":
            points = coords
        else:
            points = coords[0]
        out.append(
            {
                "type": geometry["type"],
                "kind": f["properties"]["kind"],
                "label": f["properties"].get("label", ""),
                "points": [(float(p[0]), float(p[1])) for p in points],
            }
        )
    return out


def map_shapes(data: dict[str, Any]) -> dict[str, Any]:
    """The sheet's map as shapes in sheet units (used by the SVG and the PDF alike)."""
    frame = map_frame(data)
    route = data.get("route") or {}
    line = (route.get("geometry") or {}).get("coordinates") or []
    venue = data["venue"]
    return {
        "route": [frame.xy(lon, lat) for lon, lat in line],
        "venue": frame.xy(venue["lon"], venue["lat"]),
        "hydrants": [
            (*frame.xy(h["lon"], h["lat"]), h["code"], h["road_distance_m"])
            for h in data["hydrants"]
        ],
        "features": [
            {**f, "xy": [frame.xy(lon, lat) for lon, lat in f["points"]]} for f in _features(data)
        ],
        "scale_bar_m": 100.0,
        "scale_bar_units": 100.0 * frame.scale,
    }


# ---- the content -------------------------------------------------------------------------
def _rows(items: Iterable[Any]) -> list[Any]:
    return list(items)[:MAX_ROWS]


def sheet_context(data: dict[str, Any]) -> dict[str, Any]:
    version = data.get("version") or {}
    document = version.get("document") or {}
    protection = document.get("fire_protection") or {}
    route = data.get("route") or {}
    return {
        "venue": data["venue"],
        "plan": data["plan"],
        "version": version,
        "published": bool(version) and version.get("status") == "published",
        "summary": document.get("summary", ""),
        "control_room": protection.get("control_room"),
        "standpipes": _rows(protection.get("standpipes", [])),
        "sprinklers": _rows(protection.get("sprinkler_zones", [])),
        "pumps": _rows(protection.get("fire_pumps", [])),
        "hazmats": _rows(document.get("hazmats", [])),
        "special_hazards": _rows(document.get("special_hazards", [])),
        "utilities": _rows(document.get("utilities", [])),
        "contacts": _rows(document.get("contacts", [])),
        "buildings": _rows(document.get("buildings", [])),
        "tactics": document.get("tactics", ""),
        "hydrants": _rows(data["hydrants"]),
        "hydrant_count": len(data["hydrants"]),
        "devices": data["devices"],
        "device_counts": _count_by(data["devices"], "health"),
        "alarms": _rows(data["open_alarms"]),
        "route": route,
        "route_min": (
            round(route["travel_time_s"] / 60.0, 1) if route.get("travel_time_s") else None
        ),
        "as_of": data["as_of"],
        "map": map_shapes(data),
        "map_w": MAP_W,
        "map_h": MAP_H,
    }


def _count_by(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row[key])] = counts.get(str(row[key]), 0) + 1
    return counts


_env = Environment(
    loader=PackageLoader("firegrid.preplans", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(data: dict[str, Any]) -> str:
    return _env.get_template("sheet.html.j2").render(**sheet_context(data))


# ---- the PDF -----------------------------------------------------------------------------
def cjk_font(configured: Path | None = None) -> Path:
    """The CJK TrueType font the PDF embeds: ``FIREGRID_CJK_FONT``, else Debian's WenQuanYi."""
    if configured is not None:
        if not configured.is_file():
            raise FontMissing(
                f"FIREGRID_CJK_FONT {configured} does not exist",
                {"hint": "point FIREGRID_CJK_FONT at a .ttf/.ttc font with Chinese glyphs"},
                text=TextCode.PREPLAN_FONT_MISSING,
                params={},
            )
        return configured
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise FontMissing(
        "no CJK font for the PDF sheet",
        {
            "hint": "install Debian's fonts-wqy-microhei (apt-get install fonts-wqy-microhei, "
            "or make browser) or set FIREGRID_CJK_FONT to a .ttf/.ttc with Chinese glyphs",
            "looked_for": [str(p) for p in FONT_CANDIDATES],
        },
        text=TextCode.PREPLAN_FONT_MISSING,
        params={},
    )


def render_pdf(data: dict[str, Any], font_path: Path) -> bytes:
    from firegrid.preplans.sheet_pdf import build_pdf

    return build_pdf(sheet_context(data), font_path)
