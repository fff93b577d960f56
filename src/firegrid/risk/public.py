"""What other contexts may use of the risk assessment (risk).

Import these names from here, not from the context's internal modules (the import-linter
contract in ``pyproject.toml``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.risk.models import RiskRescore, RiskRun, RiskScore

GRADE_ORDER: tuple[str, ...] = ("red", "orange", "yellow", "blue")


def latest_venue_grades(session: Session, scope_path: str = "/") -> dict[int, str]:
    """Grade (red/orange/yellow/blue) of every venue in the latest finished run.

    A later re-score of a venue against that run (``risk_rescores``) replaces its grade, so
    a grade change between runs is seen at once. Empty when there is no finished run.
    """
    run_id = session.scalars(
        select(RiskRun.id).where(RiskRun.status == "done").order_by(RiskRun.id.desc()).limit(1)
    ).first()
    if run_id is None:
        return {}
    in_scope_score = RiskScore.jurisdiction_path.startswith(scope_path, autoescape=True)
    grades = {
        int(venue_id): str(grade)
        for venue_id, grade in session.execute(
            select(RiskScore.venue_id, RiskScore.grade).where(
                RiskScore.run_id == run_id, in_scope_score
            )
        ).all()
    }
    in_scope_rescore = RiskRescore.jurisdiction_path.startswith(scope_path, autoescape=True)
    for venue_id, grade in session.execute(
        select(RiskRescore.venue_id, RiskRescore.grade)
        .where(RiskRescore.run_id == run_id, in_scope_rescore)
        .order_by(RiskRescore.at, RiskRescore.id)
    ).all():
        grades[int(venue_id)] = str(grade)
    return grades


__all__ = ["GRADE_ORDER", "latest_venue_grades"]
