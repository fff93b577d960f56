"""The HTML report: written, self-contained, with SVG charts and the synthetic banner."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

from firegrid.risk import run_assessment, write_report
from firegrid.risk.synthetic import facts_for, incident_history, make_venues

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_report_written_self_contained(tmp_path: Path) -> None:
    v = make_venues(6_000, seed=41)
    h = incident_history(v, facts_for(v, seed=41), periods=3, seed=41)
    assert h.snapshots is not None
    run = run_assessment(v, h.snapshots[3], snapshot_at=AT, history=h, top_n=30)
    town = run.aggregates["town"]["town_code"][0]
    boundary = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"town_code": town},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[113.7, 22.8], [113.9, 22.8], [113.9, 23.0], [113.7, 22.8]]],
                },
            }
        ],
    }
    path = write_report(run, tmp_path / "out", boundaries=boundary)
    assert path == tmp_path / "out" / "index.html"
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") >= 3  # calibration, towns, map
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL):
        ElementTree.fromstring(svg)  # each chart is well-formed XML
    assert "<polygon" in html
    assert "SYNTHETIC" in html
    assert "generating process" in html
    assert "ROC AUC" in html
    assert "calibration" in html.lower()
    assert town in html
    assert str(run.top["venue_id"][0]) in html
    # no external assets: no scripts, stylesheets or URLs other than the SVG namespace
    assert "<script" not in html
    assert "<link" not in html
    urls = set(re.findall(r"https?://[^\"' )]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}
    json.dumps(run.to_summary_dict())


def test_report_without_history_has_no_banner(tmp_path: Path) -> None:
    v = make_venues(2_000, seed=42)
    run = run_assessment(v, facts_for(v, seed=42), snapshot_at=AT)
    html = write_report(run, tmp_path).read_text(encoding="utf-8")
    assert "<svg" in html
    assert "SYNTHETIC DATA" not in html
    assert "no incident history" in html
    flagged = run_assessment(v, facts_for(v, seed=42), snapshot_at=AT, synthetic=True)
    assert "SYNTHETIC DATA" in write_report(flagged, tmp_path / "s").read_text(encoding="utf-8")
