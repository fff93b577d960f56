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
    MONITOR_SUPERVISOR = "monitor_supervisor"  # 监控中心主管: edits the centre's policy
    GRID_WORKER = "grid_worker"
    VENUE_MANAGER = "venue_manager"
    ANALYST = "analyst"
    POLICE_LIAISON = "police_liaison"
    INTEGRATION = "integration"
    PLANNER = "planner"  # 规划: sites stations, hydrants and logistics points


_READ_CITY = {"places:read", "resources:read", "devices:read"}
#: command and dispatch: take calls, open and command incidents, send units, move unit status
_DISPATCH = {"incidents:read", "incidents:write", "incidents:dispatch", "units:status"}
#: monitoring centre (alarms): handle alarms, see grid-worker tasks, work orders
_ALARMS = {"alarms:read", "alarms:act", "tasks:own", "workorders:own"}
#: monitoring centre (downlink): check posts (查岗) and polls of the transmitters
_COMMAND_DEVICES = {"devices:command"}
#: inspections and hazards: read them, record inspections, rectify hazards with evidence
_INSPECT = {"inspections:read", "inspections:write", "hazards:rectify"}
#: pre-incident plans: write any plan in scope, review and publish (the fire officer)
_PREPLANS_OFFICER = {"preplans:read", "preplans:propose", "preplans:write", "preplans:publish"}
#: fire records (火灾统计) and response analytics: read, fill in after an incident, review/lock
_RECORDS_READ = {"records:read", "analytics:read"}
_RECORDS = _RECORDS_READ | {"records:write"}
#: the 110 link: its health (per peer) and, for admins, its dead letters
_LINKS = {"links:read"}
#: installation programmes (smoke alarms, simple sprinklers): read the figures, record
#: installations, create programmes
_INSTALL_READ = {"installations:read"}
_INSTALL = _INSTALL_READ | {"installations:write"}
#: the change feed other departments follow (venues, hazards, inspections, incidents)
_CHANGES = {"changes:read"}
#: the grid platform's events (入格事项) posted to firegrid over the signed grid link
_GRIDLINK = {"gridlink:events"}

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
            "incidents:read",
            "incidents:write",
            "incidents:dispatch",
            "incidents:110",
            "units:status",
            "plans:admin",
            "alarms:admin",
            "alarms:policy",
            "ops:metrics",
            "planning:read",
            "planning:write",
            "links:admin",
            "telephony:events",
            "webhooks:admin",
        }
        | _ALARMS
        | _COMMAND_DEVICES
        | _INSPECT
        | _PREPLANS_OFFICER
        | _RECORDS
        | {"records:review"}
        | _LINKS
        | _CHANGES
        | _INSTALL
        | {"installations:manage"}
        | _GRIDLINK
    ),
    # the commander is the fire officer who writes, reviews and publishes pre-plans
    Role.COMMANDER: frozenset(
        _READ_CITY
        | {
            "places:export",
            "geo:read",
            "risk:read",
            "alarms:read",
            "inspections:read",
            "planning:read",
        }
        | _DISPATCH
        | _RECORDS
        | {"records:review"}
        | _PREPLANS_OFFICER
        | _LINKS
        | _INSTALL_READ
    ),
    Role.DISPATCHER: frozenset(
        _READ_CITY
        | {"geo:read", "alarms:read", "inspections:read", "preplans:read"}
        | _DISPATCH
        | _RECORDS
        | _LINKS
    ),
    Role.MONITOR_OPERATOR: frozenset(
        _READ_CITY
        | {"incidents:read", "inspections:read", "preplans:read"}
        | _ALARMS
        | _COMMAND_DEVICES
        | _LINKS
    ),
    # the monitoring-centre supervisor: an operator who also edits the centre's policy
    # (timers, rules, forwarding map; city-wide, so only with a city scope) and stored rules
    Role.MONITOR_SUPERVISOR: frozenset(
        _READ_CITY
        | {"incidents:read", "inspections:read", "alarms:policy", "alarms:admin", "preplans:read"}
        | _ALARMS
        | _COMMAND_DEVICES
        | _LINKS
    ),
    Role.GRID_WORKER: frozenset(
        {"places:read", "devices:read", "alarms:read", "tasks:own", "workorders:own"}
        | _INSPECT
        | _INSTALL
    ),
    # a venue manager sees its own venues' inspections and hazards and rectifies them
    Role.VENUE_MANAGER: frozenset(
        {
            "places:read",
            "devices:read",
            "alarms:read",
            "workorders:own",
            "inspections:read",
            "hazards:rectify",
            # its own venues' plans: read them, propose changes (a fire officer publishes)
            "preplans:read",
            "preplans:propose",
        }
    ),
    Role.ANALYST: frozenset(
        _READ_CITY
        | {
            "places:export",
            "geo:read",
            "risk:read",
            "risk:run",
            "alarms:read",
            "inspections:read",
            "planning:read",
        }
        | _RECORDS_READ
        | _CHANGES
        | _INSTALL_READ
    ),
    Role.POLICE_LIAISON: frozenset({"incidents:read", "incidents:110"} | _LINKS),
    # the machine account: device registry reads, 110 transfers, unit status from vehicles,
    # switch call events, and the Prometheus scrape of GET /metrics
    Role.INTEGRATION: frozenset(
        {"devices:read", "incidents:110", "units:status", "telephony:events", "ops:metrics"}
        | _CHANGES
        | _GRIDLINK
    ),
    # the planner (规划): where new stations, hydrants and logistics points go; reads the
    # city, its risk and its incidents to weigh demand, makes and compares plans
    Role.PLANNER: frozenset(
        _READ_CITY
        | {
            "places:export",
            "geo:read",
            "risk:read",
            "incidents:read",
            "planning:read",
            "planning:write",
        }
    ),
}


def permissions_of(role: str) -> frozenset[str]:
    """The permissions of ``role`` (none for an unknown role)."""
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
