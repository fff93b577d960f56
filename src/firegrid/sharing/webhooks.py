"""Webhook subscriptions: who follows which kinds of change, where, within which scope.

A subscription is a peer of the ``webhooks`` link (:mod:`firegrid.links`): its deliveries
are outbox messages, sent by the link kernel's worker (signed, at least once, in order per
subscription, retried with back-off, dead after ``FIREGRID_WEBHOOK_MAX_ATTEMPTS``
failures). This module holds the rules: creating one (the URL, the kinds, the creator's
scope, the secret shown once), listing and removing them within the caller's scope, the
link configuration built from the active ones, and a delivery's body.

The secret is never stored: it is ``HMAC-SHA256(secret_key, "webhook:<id>:<salt>")``, so
the database alone does not let anyone sign as firegrid (rotating the deployment's secret
key rotates every subscriber's secret too).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.core.changes import Change, latest_change_id
from firegrid.core.clock import utcnow
from firegrid.core.errors import Conflict, NotFound, ValidationFailed
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.links.models import LinkOutbox
from firegrid.links.outbox import retry_dead_letter
from firegrid.links.peers import LinkConfig, Peer
from firegrid.sharing.feed import FEED_KINDS, feed_item
from firegrid.sharing.webhook_models import WebhookSubscription

LINK = "webhooks"
ACTIVE = "active"
REMOVED = "removed"
MAX_URL = 500


def peer_id(subscription_id: int) -> str:
    """The subscription as a peer of the webhooks link."""
    return f"sub-{subscription_id}"


def subscription_of_peer(peer: str) -> int | None:
    head, _, tail = peer.partition("-")
    return int(tail) if head == "sub" and tail.isdigit() else None


def order_key(subscription_id: int) -> str:
    """Every delivery of a subscription in one order (change id order)."""
    return f"sub:{subscription_id}"


def delivery_id(subscription_id: int, change_id: int) -> str:
    """The idempotency key of one change delivered to one subscription (the same on every
    attempt, and if the relay ever wrote it twice the outbox would refuse the second)."""
    return f"wh-{subscription_id}-{change_id}"


def secret_of(settings: Settings, subscription: WebhookSubscription) -> str:
    key = settings.secret_key.get_secret_value().encode()
    message = f"webhook:{subscription.id}:{subscription.secret_salt}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host, or a 422 naming what is wrong."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise ValidationFailed(
            f"url must be 1..{MAX_URL} characters",
            {"field": "url"},
            text=TextCode.VALIDATION_LENGTH,
            params={"field": "url", "min": 1, "max": MAX_URL},
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(
            "url must be an absolute http:// or https:// URL with a host",
            {"field": "url"},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": "url", "value": url[:200], "expected": "https://host/..."},
        )
    if parts.username or parts.password:
        raise ValidationFailed(
            "url must not carry a user name or password",
            {"field": "url"},
            text=TextCode.WEBHOOK_URL_CREDENTIALS,
            params={},
        )
    return url


def check_kinds(kinds: Sequence[str]) -> list[str]:
    """Feed kinds (``venue``, ``hazard``, ``inspection``, ``incident``); all when empty."""
    names = sorted({k.strip() for k in kinds if k.strip()}) or sorted(FEED_KINDS)
    unknown = [k for k in names if k not in FEED_KINDS]
    if unknown:
        raise ValidationFailed(
            f"unknown kind(s) {', '.join(unknown)}; the feed has {', '.join(FEED_KINDS)}",
            {"field": "kinds", "kinds": unknown, "allowed": list(FEED_KINDS)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "kinds", "value": unknown, "allowed": FEED_KINDS},
        )
    return names


def create_subscription(
    session: Session,
    principal: Principal,
    settings: Settings,
    *,
    name: str,
    url: str,
    kinds: Sequence[str] = (),
) -> tuple[WebhookSubscription, str]:
    """Register a subscription in the caller's scope; the row and its secret (shown once).

    It receives the changes committed after this one (``start_after``)."""
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise ValidationFailed(
            "name must be 1..120 characters",
            {"field": "name"},
            text=TextCode.VALIDATION_LENGTH,
            params={"field": "name", "min": 1, "max": 120},
        )
    row = WebhookSubscription(
        name=name,
        url=check_url(url),
        kinds=check_kinds(kinds),
        scope_path=principal.scope_path,
        scope_code=principal.scope_code[:32],
        secret_salt=secrets.token_hex(16),
        status=ACTIVE,
        start_after=latest_change_id(session),
        created_at=utcnow(),
        created_by=f"{principal.subject} ({principal.username})"[:200],
    )
    session.add(row)
    session.flush()
    record_change(
        session,
        principal,
        "create",
        "webhook_subscription",
        row.id,
        None,
        subscription_dict(row),
        cause="webhook registered",
    )
    return row, secret_of(settings, row)


def scoped_subscriptions(
    session: Session, principal: Principal, *, include_removed: bool = False
) -> list[WebhookSubscription]:
    """Subscriptions inside the caller's scope (a town admin sees its town's only)."""
    query = select(WebhookSubscription).where(
        principal.scope_filter(WebhookSubscription.scope_path)
    )
    if not include_removed:
        query = query.where(WebhookSubscription.status == ACTIVE)
    return list(session.scalars(query.order_by(WebhookSubscription.id)))


def get_subscription(
    session: Session, principal: Principal, subscription_id: int
) -> WebhookSubscription:
    row = session.get(WebhookSubscription, subscription_id)
    if row is None or not principal.can_see_path(row.scope_path):
        raise NotFound(
            f"no webhook subscription {subscription_id}",
            {"id": subscription_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "webhook", "id": subscription_id},
        )
    return row


def remove_subscription(
    session: Session, principal: Principal, row: WebhookSubscription, cause: str
) -> WebhookSubscription:
    """Stop a subscription: nothing more is relayed to it, and its waiting deliveries
    become dead letters (kept, with the cause)."""
    if row.status != ACTIVE:
        raise Conflict(
            f"webhook subscription {row.id} is already {row.status}",
            {"id": row.id},
            text=TextCode.WEBHOOK_NOT_ACTIVE,
            params={"subscription_id": row.id, "status": row.status},
        )
    before = subscription_dict(row)
    row.status = REMOVED
    row.removed_at = utcnow()
    row.removed_by = f"{principal.subject} ({principal.username})"[:200]
    row.removed_cause = (cause.strip() or "removed")[:300]
    session.execute(
        update(LinkOutbox)
        .where(
            LinkOutbox.link == LINK,
            LinkOutbox.peer == peer_id(row.id),
            LinkOutbox.status == "pending",
        )
        .values(status="dead", last_error="subscription removed")
        .execution_options(synchronize_session=False)
    )
    record_change(
        session,
        principal,
        "remove",
        "webhook_subscription",
        row.id,
        before,
        subscription_dict(row),
        cause=row.removed_cause,
    )
    return row


def subscription_dict(row: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "kinds": list(row.kinds or []),
        "scope_path": row.scope_path,
        "scope_code": row.scope_code,
        "status": row.status,
        "start_after": str(row.start_after),
        "created_at": row.created_at,
        "created_by": row.created_by,
        "removed_at": row.removed_at,
        "removed_by": row.removed_by,
        "removed_cause": row.removed_cause,
    }


def active_subscriptions(session: Session) -> list[WebhookSubscription]:
    return list(
        session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.status == ACTIVE)
            .order_by(WebhookSubscription.id)
        )
    )


def webhook_config(settings: Settings, subscriptions: Sequence[WebhookSubscription]) -> LinkConfig:
    """The webhooks link: one peer per subscription, with its URL and derived secret."""
    peers = tuple(
        Peer(
            id=peer_id(s.id),
            name=s.name,
            url=s.url,
            secret_env="",
            towns=("*",),
            secret=secret_of(settings, s).encode(),
        )
        for s in subscriptions
    )
    return LinkConfig(link=LINK, peers=peers, local_id="firegrid")


def wants(subscription: WebhookSubscription, change: Change) -> bool:
    """Whether ``change`` goes to ``subscription``: newer than its start, of a kind it
    follows, and inside its scope (a change without a jurisdiction goes to no one)."""
    item_kind = next((name for name, kind in FEED_KINDS.items() if kind == change.kind), None)
    return (
        change.id > subscription.start_after
        and item_kind is not None
        and item_kind in (subscription.kinds or [])
        and bool(change.scope_path)
        and change.scope_path.startswith(subscription.scope_path)
    )


def delivery_body(subscription_id: int, change: Change) -> dict[str, Any]:
    """What the subscriber receives: the change as the feed shows it, and the cursor to
    resume the feed from (``GET /api/v1/changes?since=<cursor>``)."""
    item = feed_item(change)
    item["occurred_at"] = change.occurred_at.isoformat()
    return {
        "schema": "firegrid.webhook/1",
        "subscription_id": subscription_id,
        "delivery_id": delivery_id(subscription_id, change.id),
        "cursor": str(change.id),
        "change": item,
    }


def dead_deliveries(session: Session, subscription_id: int, limit: int = 100) -> list[LinkOutbox]:
    """A subscription's dead letters, newest first."""
    return list(
        session.scalars(
            select(LinkOutbox)
            .where(
                LinkOutbox.link == LINK,
                LinkOutbox.peer == peer_id(subscription_id),
                LinkOutbox.status == "dead",
            )
            .order_by(LinkOutbox.id.desc())
            .limit(limit)
        )
    )


def retry_delivery(
    session: Session, principal: Principal, subscription: WebhookSubscription, outbox_id: int
) -> LinkOutbox:
    """Queue a dead delivery of an active subscription again (same delivery id), audited."""
    if subscription.status != ACTIVE:
        raise Conflict(
            f"webhook subscription {subscription.id} is {subscription.status}",
            {"id": subscription.id},
            text=TextCode.WEBHOOK_NOT_ACTIVE,
            params={"subscription_id": subscription.id, "status": subscription.status},
        )
    message = session.get(LinkOutbox, outbox_id)
    if message is None or message.peer != peer_id(subscription.id):
        raise NotFound(
            f"no dead delivery {outbox_id} of webhook {subscription.id}",
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "dead_letter", "id": outbox_id},
        )
    row = retry_dead_letter(session, LINK, outbox_id)
    row.attempts = 0  # a fresh allowance of FIREGRID_WEBHOOK_MAX_ATTEMPTS
    record_change(
        session,
        principal,
        "retry",
        "webhook_delivery",
        outbox_id,
        None,
        {"subscription_id": subscription.id, "message_id": row.message_id},
        cause="operator retried a dead delivery",
    )
    return row
