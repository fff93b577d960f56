"""Tables of the webhooks: one row per subscription (its deliveries are link messages)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class WebhookSubscription(Base):
    """A subscriber's URL, the feed kinds it follows and the jurisdiction it may see.

    ``scope_path`` is its creator's scope: it never receives a change outside it.
    ``start_after`` is the newest change id when it was created (it receives what
    follows; the feed gives it anything older). The signing secret is never stored: it is
    derived from the deployment's secret key and ``secret_salt`` (shown once at creation).
    ``status``: active → removed (time, actor and cause recorded).
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(500))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_path: Mapped[str] = mapped_column(String(255), index=True)
    scope_code: Mapped[str] = mapped_column(String(32), default="")
    secret_salt: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)
    start_after: Mapped[int] = mapped_column(BigId, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    removed_by: Mapped[str] = mapped_column(String(200), default="")
    removed_cause: Mapped[str] = mapped_column(String(300), default="")
