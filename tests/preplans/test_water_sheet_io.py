"""Hydrants equal geo's by-road answer; the sheet (HTML, PDF with an embedded CJK font);
the zip import/export round trip and its refusals; the CLI."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from firegrid.cli import app as cli_app
from firegrid.core.db import Database
from firegrid.core.errors import ImportFailed
from firegrid.core.settings import Settings
from firegrid.dispatch.models import Hydrant
from firegrid.geo.hydrant_gaps import hydrant_gaps
from firegrid.geo.service import geo_context
from firegrid.places.models import Venue
from firegrid.preplans import io as plan_io
from firegrid.preplans import live, service, sheet
from firegrid.preplans.models import Preplan, PreplanVersion
from firegrid.preplans.water import hydrants_by_road
from tests.preplans.conftest import PNG, PCity, document

pytestmark = pytest.mark.postgres


def test_hydrants_are_geos_by_road_answer(db: Database, settings: Settings, pcity: PCity):
    engine = geo_context(db, settings).engine
    with db.session() as session:
        venue = session.get(Venue, pcity.venues["east"])
        assert venue is not None
        found = hydrants_by_road(session, engine, venue.lon, venue.lat)
        rows = session.scalars(select(Hydrant).order_by(Hydrant.id)).all()
    assert 0 < len(found) < len(rows), "some hydrants in reach by road, some not"
    by_id = {h["id"]: h["road_distance_m"] for h in found}
    for h in rows:  # geo's rule, one hydrant at a time: its reach of this venue
        report = hydrant_gaps(
            engine, np.asarray([[h.lon, h.lat]]), np.asarray([[venue.lon, venue.lat]])
        )
        geo = float(report.venue_distance_m[0])
        if math.isfinite(geo):
            assert by_id[h.id] == pytest.approx(geo, abs=0.1)
        else:
            assert h.id not in by_id
    all_points = np.asarray([[h.lon, h.lat] for h in rows])
    report = hydrant_gaps(engine, all_points, np.asarray([[venue.lon, venue.lat]]))
    assert found[0]["road_distance_m"] == pytest.approx(float(report.venue_distance_m[0]), abs=0.1)


def _published(db: Database, pcity: PCity, settings: Settings) -> int:
    officer = pcity.dcity.principal("commander", "town:east")
    with db.session() as session:
        plan, _ = service.save_draft(session, officer, pcity.venues["east"], document(pcity))
        service.review(session, officer, plan.id, 1)
        service.publish(session, officer, plan.id, 1)
        service.add_attachment(
            session, officer, plan.id, title="平面图", content=PNG, data_dir=settings.data_dir
        )
        return plan.id


def test_pdf_embeds_the_cjk_font(db: Database, settings: Settings, pcity: PCity):
    plan_id = _published(db, pcity, settings)
    try:
        font = sheet.cjk_font(settings.cjk_font)
    except sheet.FontMissing:
        pytest.fail("install fonts-wqy-microhei (make browser) for the PDF sheet")
    context = geo_context(db, settings)
    with db.session() as session:
        plan = session.get(Preplan, plan_id)
        assert plan is not None
        venue = session.get(Venue, plan.venue_id)
        assert venue is not None
        data = live.live_plan(session, plan, venue, context)
    pdf = sheet.render_pdf(data, font)
    assert pdf.startswith(b"%PDF")
    assert b"/FontFile2" in pdf, "the TrueType font is embedded"
    assert b"/ToUnicode" in pdf
    html = sheet.render_html(data)
    assert "柴油" in html
    assert data["hydrants"][0]["code"] in html


def test_missing_font_is_a_clear_error(tmp_path: Path):
    with pytest.raises(sheet.FontMissing) as err:
        sheet.cjk_font(tmp_path / "none.ttc")
    assert "FIREGRID_CJK_FONT" in err.value.details["hint"]


def test_export_import_round_trip(db: Database, settings: Settings, pcity: PCity, tmp_path: Path):
    _published(db, pcity, settings)
    out = tmp_path / "plans.zip"
    report = plan_io.export_zip(db, settings.data_dir, out)
    assert report == {"file": str(out), "plans": 1, "attachments": 1}
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert {"manifest.json", "tables.xlsx", "plans/VEN-east.json"} <= names
        data = out.read_bytes()
    with pytest.raises(ImportFailed) as err:  # the venue has a plan already
        plan_io.import_zip(db, settings.data_dir, data)
    assert "already has a plan" in str(err.value.details)
    with db.session() as session:  # move the plan away: import into a city without one
        session.query(PreplanVersion).delete()
        from firegrid.preplans.models import PreplanAttachment

        session.query(PreplanAttachment).delete()
        session.query(Preplan).delete()
    counts = plan_io.import_zip(db, settings.data_dir, data)
    assert counts == {"plans": 1, "versions": 1, "attachments": 1}
    with db.session() as session:
        plan = session.scalars(select(Preplan)).one()
        assert plan.published_version == 1
        assert plan.review_due_at is not None
        version = service.get_version(session, plan, 1)
        assert version.document["hazmats"][0]["un_number"] == "1202"
        (att,) = service.list_attachments(session, plan)
        assert (settings.data_dir / att.storage_path).read_bytes() == PNG


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def test_import_refuses_zip_slip_oversize_and_bad_rows(
    db: Database, settings: Settings, pcity: PCity
):
    manifest = json.dumps({"format": "firegrid-preplans", "format_version": 1}).encode()
    plan = {
        "venue_code": "VEN-east",
        "published_version": None,
        "versions": [{"version": 1, "status": "draft", "document": {"hazmats": [{"name": ""}]}}],
        "attachments": [{"file": "attachments/VEN-east/1.png", "sha256": "0" * 64}],
    }
    bad = _zip(
        {
            "manifest.json": manifest,
            "../../evil.png": PNG,
            "plans/VEN-east.json": json.dumps(plan).encode(),
            "plans/NOPE.json": json.dumps({**plan, "venue_code": "NOPE"}).encode(),
            "plans/CTRL.json": json.dumps({**plan, "venue_name": "bad\u0000name"}).encode(),
            "attachments/VEN-east/1.png": b"\x00" * (plan_io.MAX_MEMBER_BYTES + 1),
        }
    )
    with pytest.raises(ImportFailed) as err:
        plan_io.import_zip(db, settings.data_dir, bad)
    problems = err.value.details["problems"]
    messages = " | ".join(f"{p['file']}: {p['message']}" for p in problems)
    assert "zip-slip" in messages
    assert "larger than" in messages
    assert "unknown venue 'NOPE'" in messages
    assert "plans/CTRL.json" in messages
    with db.session() as session:
        assert session.scalars(select(Preplan)).first() is None  # all or nothing
    assert not (settings.data_dir / "evil.png").exists()
    assert not plan_io.safe_member_name("C:/x")
    assert not plan_io.safe_member_name("a\\..\\b")


def test_cli_list_and_sheet(
    db: Database, settings: Settings, pcity: PCity, tmp_path: Path, monkeypatch
):
    from firegrid.core.settings import get_settings

    monkeypatch.setenv("FIREGRID_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    _published(db, pcity, settings)
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["preplans", "list", "--db", db.url, "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)["count"] == 1
    due = runner.invoke(cli_app, ["preplans", "list", "--due", "--db", db.url, "--json"])
    assert json.loads(due.output)["count"] == 0
    for suffix in ("html", "pdf"):
        out = tmp_path / f"sheet.{suffix}"
        made = runner.invoke(
            cli_app, ["preplans", "sheet", "VEN-east", "--out", str(out), "--db", db.url, "--json"]
        )
        assert made.exit_code == 0, made.output
        assert out.stat().st_size > 1000
    bad = runner.invoke(cli_app, ["preplans", "sheet", "NOPE", "--out", "x.pdf", "--db", db.url])
    assert bad.exit_code == 2
    exported = runner.invoke(
        cli_app, ["export", "preplans", str(tmp_path / "p.zip"), "--db", db.url, "--json"]
    )
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["plans"] == 1
    get_settings.cache_clear()


def test_bounded_route_is_the_full_searchs_route(db: Database, settings: Settings, pcity: PCity):
    from firegrid.geo.bounded_route import route_within

    context = geo_context(db, settings)
    with db.session() as session:
        venue = session.get(Venue, pcity.venues["east"])
        assert venue is not None
        start = live.first_due(context, venue.lon, venue.lat)
    assert start is not None
    assert start.travel_time_s is not None
    full = context.engine.route((start.lon, start.lat), (venue.lon, venue.lat))
    bounded = route_within(
        context.engine, (start.lon, start.lat), (venue.lon, venue.lat), start.travel_time_s
    )
    assert bounded.node_ids.tolist() == full.node_ids.tolist()
    assert bounded.travel_time_s == pytest.approx(full.travel_time_s)
    assert bounded.travel_time_s == pytest.approx(start.travel_time_s, rel=1e-6, abs=1e-3)
    # too tight a bound falls back to the full search
    tight = route_within(context.engine, (start.lon, start.lat), (venue.lon, venue.lat), 1.0)
    assert tight.node_ids.tolist() == full.node_ids.tolist()
