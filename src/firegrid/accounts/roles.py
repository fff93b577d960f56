"""Roles and their permissions, declared as data.

A permission is ``<context>:<action>``. Routes declare the permission they need with
``require("places:read")``; this table is the single place that says who may do what.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COMMANDER = "commander"
    DISPATCHER = "dispatcher"
    MONITOR_OPERATOR = "monitor_operator"
    GRID_WORKER = "grid_worker"
    VENUE_MANAGER = "venue_manager"
    ANALYST = "analyst"
    POLICE_LIAISON = "police_liaison"
    INTEGRATION = "integration"


_READ_CITY = {"places:read", "resources:read", "devices:read"}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(
        _READ_CITY
        | {
            "places:write",
            "places:import",
            "places:export",
            "resources:write",
            "devices:write",
            "geo:read",
            "geo:write",
            "risk:read",
            "risk:run",
            "accounts:admin",
            "audit:read",
        }
    ),
    Role.COMMANDER: frozenset(_READ_CITY | {"places:export", "geo:read", "risk:read"}),
    Role.DISPATCHER: frozenset(_READ_CITY | {"geo:read"}),
    Role.MONITOR_OPERATOR: frozenset(_READ_CITY),
    Role.GRID_WORKER: frozenset({"places:read", "devices:read"}),
    Role.VENUE_MANAGER: frozenset({"places:read", "devices:read"}),
    Role.ANALYST: frozenset(_READ_CITY | {"places:export", "geo:read", "risk:read"}),
    Role.POLICE_LIAISON: frozenset(),
    Role.INTEGRATION: frozenset({"devices:read"}),
}


def permissions_of(role: str) -> frozenset[str]:
    """The permissions of ``role`` (none for an unknown role)."""
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
