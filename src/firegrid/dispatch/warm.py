"""Warm start of the recommendation path: what the first recommendation after a restart
would otherwise pay for (mapper configuration, the first compilation of its queries, the
response plans and the available units read into their caches, numpy's first calls).

Run by the API's engine warm-up (:class:`firegrid.geo.service.EngineWarmup`) once the
engine is loaded, before the process reports ready.
"""

from __future__ import annotations

from sqlalchemy.orm import configure_mappers

from firegrid.core.db import Database
from firegrid.dispatch import plans
from firegrid.dispatch.recommend import available_units, recommend_units
from firegrid.geo.service import GeoContext


def prime_recommendation(database: Database, context: GeoContext) -> None:
    """One recommendation at the first station (its answer is thrown away)."""
    configure_mappers()
    if not context.stations:
        return
    station = context.stations[0]
    with database.session() as session:
        plan = plans.plan_for(session, "building_fire", "", 1)
        units = available_units(session, "/")
        recommend_units(context.engine, plan, units, station.lon, station.lat)
        session.rollback()  # reading only
