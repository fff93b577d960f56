"""What other contexts may ask of preplans (the crew page of dispatch, the demo)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.geo.service import GeoContext
from firegrid.places.public import Venue
from firegrid.preplans import live
from firegrid.preplans.models import Preplan

__all__ = ["crew_plan", "dispatched_plan", "published_plan_of_venue"]


def published_plan_of_venue(session: Session, venue_id: int) -> Preplan | None:
    """The venue's plan if a version of it is published (crews see published plans only)."""
    return session.scalars(
        select(Preplan).where(Preplan.venue_id == venue_id, Preplan.published_version.is_not(None))
    ).first()


def dispatched_plan(session: Session, principal: Principal, vehicle_id: int) -> Preplan | None:
    """The published plan of the venue the caller's unit is dispatched to, if any."""
    from firegrid.dispatch.incidents import vehicle_in_scope
    from firegrid.dispatch.public import Incident

    vehicle = vehicle_in_scope(session, principal, vehicle_id)
    if vehicle.incident_id is None:
        return None
    incident = session.get(Incident, vehicle.incident_id)
    if incident is None or incident.venue_id is None:
        return None
    return published_plan_of_venue(session, incident.venue_id)


def crew_plan(
    session: Session,
    venue_id: int,
    context: GeoContext | None,
    principal: Principal | None = None,
) -> dict[str, Any] | None:
    """The live plan for a dispatched crew (the crew page draws the route from the unit's
    position itself, so the plan leaves it out rather than search it twice)."""
    plan = published_plan_of_venue(session, venue_id)
    venue = session.get(Venue, venue_id)
    if plan is None or venue is None:
        return None
    return live.live_plan(session, plan, venue, context, principal=principal, with_route=False)
