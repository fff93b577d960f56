"""Demo users: one per role, with published passwords. Never in production."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.errors import DemoRefused
from firegrid.accounts.models import User
from firegrid.accounts.principal import system_principal
from firegrid.accounts.service import create_user
from firegrid.core.settings import Settings, get_settings
from firegrid.core.texts import TextCode

# (username, role, scope level, password, what the account shows). The passwords are
# published: they satisfy the password policy but are only for a demo on a laptop.
DEMO_USERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("admin", "admin", "city", "firegrid-chief-2026", "administers the whole city"),
    ("commander", "commander", "city", "firegrid-incident-2026", "city fire commander"),
    ("commander_town", "commander", "town", "firegrid-town-2026", "commander of one town"),
    ("dispatcher", "dispatcher", "city", "firegrid-119-call-2026", "city 119 dispatcher"),
    ("monitor", "monitor_operator", "city", "firegrid-alarms-2026", "monitoring centre"),
    (
        "supervisor",
        "monitor_supervisor",
        "city",
        "firegrid-policy-2026",
        "monitoring-centre supervisor",
    ),
    ("gridworker", "grid_worker", "grid", "firegrid-patrol-2026", "grid worker of one grid"),
    ("venue", "venue_manager", "village", "firegrid-owner-2026", "manager of its venues"),
    ("analyst", "analyst", "city", "firegrid-risk-2026", "risk analyst"),
    ("police", "police_liaison", "city", "firegrid-110-link-2026", "110 liaison"),
    ("integration", "integration", "city", "firegrid-machine-2026", "machine account"),
    ("planner", "planner", "city", "firegrid-plan-2026", "station planner (siting, what-if)"),
)


def create_demo_users(
    session: Session,
    *,
    city_code: str,
    town_code: str,
    village_code: str,
    grid_code: str,
    venue_ids: Sequence[int] = (),
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Create the demo users (skipping existing names) and return them for printing."""
    settings = settings or get_settings()
    if settings.is_production:
        raise DemoRefused(
            "demo users with published passwords are never created in production "
            "(FIREGRID_ENV=production)",
            text=TextCode.ACCOUNT_DEMO_REFUSED,
            params={},
        )
    codes = {"city": city_code, "town": town_code, "village": village_code, "grid": grid_code}
    actor = system_principal("demo")
    created: list[dict[str, Any]] = []
    for username, role, level, password, note in DEMO_USERS:
        exists = session.scalars(select(User.id).where(User.username == username)).first()
        if exists is None:
            create_user(
                session,
                actor,
                username=username,
                role=role,
                scope_code=codes[level],
                password=password,
                display_name=note,
                venue_ids=list(venue_ids) if role == "venue_manager" else (),
            )
        created.append(
            {
                "username": username,
                "password": password,
                "role": role,
                "scope": codes[level],
                "scope_level": level,
                "note": note,
                "created": exists is None,
            }
        )
    return created
