"""The deployment id: one random id per database, written when the schema is created.

Stores outside the database that hold the deployment's data (the JetStream event log) carry
the same id, so a stream left over from another deployment is never replayed into a fresh
database (and a database restored elsewhere never reads a stranger's stream).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base, Database


class Deployment(Base):
    """The single row naming this database's deployment."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime]


def deployment_id(db: Database) -> str:
    """This database's deployment id (created if a database predates it)."""
    with db.session() as session:
        found = session.scalar(select(Deployment.deployment_id).where(Deployment.id == 1))
        if found is not None:
            return found
        created = str(uuid.uuid4())
        session.add(Deployment(id=1, deployment_id=created, created_at=utcnow()))
        session.commit()
        return created
