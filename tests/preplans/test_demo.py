"""The demo city's key units get published, synthetic plans built from their buildings and
devices; some reviews are overdue, so the overdue list is not empty."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.demo import DemoSpec, build_demo_city
from firegrid.devices.models import Device
from firegrid.places.models import Venue
from firegrid.preplans import service
from firegrid.preplans.demo import SYNTHETIC, generate_preplans
from firegrid.preplans.models import Preplan, PreplanVersion

pytestmark = pytest.mark.postgres


def test_demo_plans_for_key_units(db: Database):
    build_demo_city(db, DemoSpec.tiny(), seed=7)
    counts = generate_preplans(db, seed=7)
    with db.session() as session:
        key_units = session.scalar(
            select(func.count()).select_from(Venue).where(Venue.is_key_unit.is_(True))
        )
        assert counts["plans"] == key_units > 0
        assert 0 < counts["review_overdue"] < counts["plans"]
        for plan in session.scalars(select(Preplan)):
            row = service.get_version(session, plan, 1)
            assert row.status == "published"
            assert SYNTHETIC in row.document["summary"]
            venue = session.get(Venue, plan.venue_id)
            assert venue is not None
            document = service.parse_document(row.document)
            service.check_links(session, venue, document)  # devices and buildings are its own
            linked = document.device_ids()
            if linked:
                kinds = set(session.scalars(select(Device.kind).where(Device.id.in_(linked))))
                assert kinds == {"transmitter"}
        # ids continue after the bulk insert
        officer_path = session.scalars(select(Venue.jurisdiction_path)).first()
        assert officer_path
        assert session.scalar(select(func.max(PreplanVersion.id))) == counts["plans"]
