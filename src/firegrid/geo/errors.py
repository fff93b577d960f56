"""Errors of the road network and travel-time engine.

Every error is a ``GeoError``, itself a ``ValueError``, and its message names the bad input.
``code`` is a short stable identifier that an API layer can put in its error envelope.
"""

from __future__ import annotations

from typing import ClassVar

from firegrid.core.errors import NotFound


class GeoError(ValueError):
    """Base of all errors raised by ``firegrid.geo``."""

    code: ClassVar[str] = "geo_error"


class InvalidCoordinates(GeoError):
    """A longitude/latitude is not finite or out of range."""

    code = "invalid_coordinates"


class PointOffNetwork(GeoError):
    """A point is farther than the allowed snapping distance from every road node."""

    code = "point_off_network"


class UnknownFacility(GeoError):
    """A facility set or a facility id is not registered."""

    code = "unknown_facility"


class UnknownNode(GeoError):
    """A node index is outside the network."""

    code = "unknown_node"


class InvalidTimeBand(GeoError):
    """A travel-time band is zero, negative or not finite."""

    code = "invalid_time_band"


class NoDrivableRoads(GeoError):
    """An OSM extract contains no road a fire engine can drive on."""

    code = "no_drivable_roads"


class InvalidNetwork(GeoError):
    """Network arrays are inconsistent (lengths, indices, values)."""

    code = "invalid_network"


class NoRoute(GeoError):
    """The destination cannot be reached from the origin."""

    code = "no_route"


class NoReachableFacility(GeoError):
    """No facility of the kind asked for lies on the road network (all were skipped)."""

    code = "no_reachable_facility"


class NoRoadNetwork(NotFound):
    """No road network is stored yet: the API answers 404, the CLI exits 3 (not ready)."""

    code = "no_road_network"
    not_ready: ClassVar[bool] = True
    hint: ClassVar[str] = (
        "import one (`firegrid roads import FILE.osm.pbf`) or build `firegrid demo`"
    )
