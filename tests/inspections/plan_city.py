"""A hand-built small city for the plan and performance tests: one town, one village, two
grids (G1, G2) with one grid worker each, and venues added by the tests. Times are local
Dongguan times (Asia/Shanghai) unless said otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from firegrid.alarms.models import Alarm, VerificationTask
from firegrid.core.clock import CHINA_TZ
from firegrid.inspections.models import Hazard, Inspection
from firegrid.places.models import GridWorker, Jurisdiction, Venue
from firegrid.risk.models import RiskRescore, RiskRun, RiskScore

CITY, TOWN, VILLAGE = "880000", "880000001", "880000001001"
GRIDS = ("88000000100101", "88000000100102")


def local(text: str) -> datetime:
    """``2026-11-20 12:00`` as an aware Dongguan time."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


@dataclass
class SmallCity:
    paths: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)  # jurisdictions and workers by code
    venues: dict[str, int] = field(default_factory=dict)
    venue_paths: dict[str, str] = field(default_factory=dict)


def _node(session: Session, city: SmallCity, code: str, level: str, parent: str | None) -> None:
    path = (city.paths[parent] if parent else "/") + f"{code}/"
    node = Jurisdiction(
        code=code,
        level=level,
        parent_id=city.ids[parent] if parent else None,
        path=path,
        name_zh=code,
        name_en=code,
        center_lon=113.75,
        center_lat=23.02,
    )
    session.add(node)
    session.flush()
    city.paths[code], city.ids[code] = path, node.id


def build_small_city(session: Session) -> SmallCity:
    city = SmallCity()
    _node(session, city, CITY, "city", None)
    _node(session, city, TOWN, "town", CITY)
    _node(session, city, VILLAGE, "village", TOWN)
    for number, grid in enumerate(GRIDS, start=1):
        _node(session, city, grid, "grid", VILLAGE)
        worker = GridWorker(
            code=f"W{number}",
            name=f"worker {number}",
            phone="13800000000",
            grid_id=city.ids[grid],
            jurisdiction_path=city.paths[grid],
        )
        session.add(worker)
        session.flush()
        city.ids[f"W{number}"] = worker.id
    return city


def add_venue(
    session: Session, city: SmallCity, code: str, category: str, grid: str, *, key: bool = False
) -> int:
    venue = Venue(
        code=code,
        name=f"venue {code}",
        jurisdiction_id=city.ids[grid],
        jurisdiction_path=city.paths[grid],
        category=category,
        is_key_unit=key,
        lon=113.75,
        lat=23.02,
    )
    session.add(venue)
    session.flush()
    city.venues[code], city.venue_paths[code] = venue.id, city.paths[grid]
    return venue.id


def inspect(
    session: Session, city: SmallCity, venue: str, at: datetime, worker: str | None = None
) -> Inspection:
    row = Inspection(
        venue_id=city.venues[venue],
        grid_worker_id=city.ids[worker] if worker else None,
        inspected_at=at,
        result="passed",
        jurisdiction_path=city.venue_paths[venue],
    )
    session.add(row)
    session.flush()
    return row


def hazard(
    session: Session,
    city: SmallCity,
    inspection: Inspection,
    deadline: datetime,
    rectified_at: datetime | None = None,
) -> None:
    venue = next(code for code, vid in city.venues.items() if vid == inspection.venue_id)
    session.add(
        Hazard(
            venue_id=inspection.venue_id,
            inspection_id=inspection.id,
            category="blocked_exit",
            severity="general",
            found_at=inspection.inspected_at,
            deadline=deadline,
            status="rectified" if rectified_at else "open",
            rectified_at=rectified_at,
            jurisdiction_path=city.venue_paths[venue],
        )
    )
    session.flush()


def risk_run(session: Session, city: SmallCity, grades: dict[str, str]) -> int:
    run = RiskRun(
        model_name="test",
        model_version="1",
        catalogue_version="1",
        snapshot_at=local("2026-11-01 00:00"),
        actor="tests",
        status="done",
    )
    session.add(run)
    session.flush()
    for venue, grade in grades.items():
        session.add(
            RiskScore(
                run_id=run.id,
                venue_id=city.venues[venue],
                jurisdiction_path=city.venue_paths[venue],
                score=50.0,
                grade=grade,
                three_colour="yellow",
            )
        )
    session.flush()
    return run.id


def rescore(session: Session, city: SmallCity, run_id: int, venue: str, grade: str) -> None:
    session.add(
        RiskRescore(
            run_id=run_id,
            venue_id=city.venues[venue],
            jurisdiction_path=city.venue_paths[venue],
            score=90.0,
            grade=grade,
            three_colour="red",
            actor="tests",
            cause="test: the grade changed",
        )
    )
    session.flush()


def open_alarm(session: Session, city: SmallCity, venue: str, kind: str, at: datetime) -> None:
    """An open fire alarm (the venue turns red) or an unresolved fault (yellow)."""
    session.add(
        Alarm(
            kind=kind,
            status="new",
            fold_key=f"{kind}:{venue}",
            venue_id=city.venues[venue],
            device_id=1,
            jurisdiction_path=city.venue_paths[venue],
            first_event_kind=kind,
            opened_at=at,
            first_received_at=at,
            last_event_at=at,
        )
    )
    session.flush()


def check_task(
    session: Session,
    city: SmallCity,
    venue: str,
    worker: str,
    created_at: datetime,
    response_s: float,
    allowed_s: float,
) -> None:
    session.add(
        VerificationTask(
            alarm_id=1,
            venue_id=city.venues[venue],
            grid_worker_id=city.ids[worker],
            jurisdiction_path=city.venue_paths[venue],
            status="done",
            created_at=created_at,
            created_by="operator",
            due_at=created_at + timedelta(seconds=allowed_s),
            submitted_at=created_at + timedelta(seconds=response_s),
            submitted_by=worker,
        )
    )
    session.flush()
