"""Any EIDO we emit validates against our schema and parses back to the same incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from firegrid.dispatch.models import VehicleType
from firegrid.dispatch.plans import INCIDENT_TYPES
from firegrid.dispatch.states import IncidentStatus, VehicleStatus
from firegrid.interop.eido import Agency, build_eido, parse_eido, snapshot_from, validate
from firegrid.interop.snapshot import CallSnap, IncidentSnapshot, NoteSnap, UnitSnap

OWNER = Agency("fire119.441900.firegrid", ("CallReceiving", "Dispatching"), ("fire",), True)
PEER = Agency("dg110.police110", ("Informational",), ("police",))
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)

times = st.integers(min_value=0, max_value=10**9).map(
    lambda us: EPOCH + timedelta(microseconds=us * 1000)
)
text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")), max_size=60
)  # any printable text: HTML-escaped in notes, kept as is elsewhere
codes = st.from_regex(r"[A-Z]{1,3}-[0-9]{1,4}", fullmatch=True)
ids = st.integers(min_value=1, max_value=2**31)


@st.composite
def snapshots(draw: st.DrawFn) -> IncidentSnapshot:
    calls = draw(
        st.lists(
            st.builds(
                CallSnap,
                call_id=ids,
                source=st.sampled_from(["call_119", "transfer_110", "alarm"]),
                caller_number=st.from_regex(r"[0-9]{0,15}", fullmatch=True),
                received_at=times,
                external_ref=st.one_of(st.just(""), codes),
            ),
            min_size=1,
            max_size=4,
            unique_by=lambda c: c.call_id,
        )
    )
    units = draw(
        st.lists(
            st.builds(
                UnitSnap,
                vehicle_id=ids,
                code=codes,
                call_sign=text,
                vehicle_type=st.sampled_from([v.value for v in VehicleType]),
                status=st.sampled_from([*(v.value for v in VehicleStatus), "released"]),
                changed_at=times,
            ),
            max_size=5,
            unique_by=lambda u: u.vehicle_id,
        )
    )
    notes = draw(
        st.lists(
            st.builds(NoteSnap, entry_id=ids, at=times, text=text),
            max_size=5,
            unique_by=lambda n: n.entry_id,
        )
    )
    return IncidentSnapshot(
        incident_id=draw(ids),
        incident_type=draw(st.sampled_from(INCIDENT_TYPES)),
        level=draw(st.integers(min_value=1, max_value=5)),
        status=draw(st.sampled_from([s.value for s in IncidentStatus])),
        lon=draw(st.floats(min_value=-180, max_value=180, allow_nan=False)),
        lat=draw(st.floats(min_value=-90, max_value=90, allow_nan=False)),
        address=draw(text),
        description=draw(text),
        jurisdiction_path=draw(st.from_regex(r"/([0-9]{2,9}/){1,4}", fullmatch=True)),
        call_received_at=min(c.received_at for c in calls),
        updated_at=draw(times),
        calls=tuple(calls),
        units=tuple(units),
        notes=tuple(notes),
    )


@settings(max_examples=300, deadline=None)
@given(snapshots(), st.booleans())
def test_any_eido_we_emit_validates_and_parses_back_to_the_same_incident(
    snap: IncidentSnapshot, with_peer: bool
):
    document = build_eido(snap, OWNER, (PEER,) if with_peer else (), issuing="firegrid.441900")
    validate(document)
    assert snapshot_from(parse_eido(document)) == snap
