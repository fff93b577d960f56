"""The delivery worker: at-least-once, in order per key, with back-off and alerts.

Each round it

1. runs the link's producers (e.g. the relay that turns dispatch's durable change entries
   into outbox rows), each in its own transaction;
2. takes the head of every order key (the oldest pending message of the key) whose next
   attempt is due, and POSTs them, signed, several at a time (different keys in parallel,
   one key strictly in sequence). A key's head that is acknowledged is followed in the
   same round by the key's next messages, one after the other, each sent only once the
   one before it was acknowledged — up to ``chain`` messages or ``chain_budget_s`` into
   the round — so a strictly ordered stream (one webhook subscriber, one incident) is not
   held to one message per round;
3. records the answers in one transaction: a 2xx is the acknowledgement; a refusal (4xx
   other than 408/425/429) makes the message a dead letter; anything else (connection
   refused, timeout, 5xx) is retried after ``base * 2^(attempt-1)`` seconds (capped, with
   jitter). An acknowledgement from a peer pulls its other waiting messages forward: the
   peer is back, the backlog drains at once;
4. raises a link alert for a peer with a message unacknowledged past the acknowledgement
   timeout, and clears it when none is left.

A peer that answered none of a round's messages (refused, timed out, 5xx) is *down*: until
it answers again, one message (its oldest) probes it every ``probe_s`` and the others wait
without spending attempts — an outage costs the peer one request per probe, not a retry of
every backlog message, and the first acknowledgement drains the backlog at once.

A process killed between commit and send leaves the messages pending: they are sent when
the worker runs again (the peer dedupes by message id). Run one worker per link.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import Session

from firegrid.core.changes import record_change
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.links import lease
from firegrid.links.lease import worker_identity
from firegrid.links.models import LinkAlert, LinkOutbox, LinkPeerStats
from firegrid.links.peers import LinkConfig, Peer
from firegrid.links.signing import signed_headers
from firegrid.links.wakeup import LISTEN_POLL_S, Wakeup, link_channel

log = logging.getLogger(__name__)

#: the change-stream kind announcing a link alert raised or cleared (payload ``state``)
ALERT_CHANGE = "link.alert"
RETRYABLE_4XX = frozenset({408, 425, 429})
Producer = Callable[[Database], int]


@dataclass(frozen=True)
class DeliveryPolicy:
    ack_timeout_s: float = 30.0
    retry_base_s: float = 0.5
    retry_max_s: float = 30.0
    send_timeout_s: float = 5.0
    concurrency: int = 8
    batch: int = 200
    idle_poll_s: float = 0.05
    alert_check_s: float = 1.0
    #: while a peer is down, one message probes it this often (see the module)
    probe_s: float = 2.0
    #: the link's lease (see :mod:`firegrid.links.lease`), renewed every third of this
    lease_ttl_s: float = 15.0
    #: a message failing this many attempts becomes a dead letter (0: retried for ever)
    max_attempts: int = 0
    #: messages of one order key sent in one round, each after the previous one's ack
    chain: int = 32
    #: a key's chain sends no further message this long after the round's sends began
    chain_budget_s: float = 0.2

    @classmethod
    def from_settings(cls, settings: Settings, *, max_attempts: int = 0) -> DeliveryPolicy:
        """The policy the ``link_*`` settings give every link (``max_attempts`` as above)."""
        return cls(
            ack_timeout_s=settings.link_ack_timeout_s,
            retry_base_s=settings.link_retry_base_s,
            retry_max_s=settings.link_retry_max_s,
            send_timeout_s=settings.link_send_timeout_s,
            idle_poll_s=settings.link_poll_s,
            lease_ttl_s=settings.link_lease_ttl_s,
            probe_s=settings.link_probe_s,
            max_attempts=max_attempts,
        )


@dataclass(frozen=True)
class Due:
    id: int
    peer: str
    message_id: str
    body: str
    attempts: int
    first_sent_at: datetime | None = None
    order_key: str = ""


@dataclass
class Outcome:
    due: Due
    acked: bool
    dead: bool = False
    error: str = ""
    round_trip_ms: float = 0.0


@dataclass
class PeerCircuit:
    """Whether a peer answers, as this worker last saw it (in memory: a restarted worker
    starts with every peer up and finds out in one round)."""

    down_since: float | None = None
    probe_at: float = 0.0

    @property
    def down(self) -> bool:
        return self.down_since is not None


@dataclass
class RoundResult:
    produced: int = 0
    sent: int = 0
    acked: int = 0
    failed: int = 0
    dead: int = 0
    alerts_raised: list[str] = field(default_factory=list)
    alerts_cleared: list[str] = field(default_factory=list)
    #: messages not sent this round because their peer is down (waiting for its probe)
    held: int = 0


def backoff_s(attempts: int, policy: DeliveryPolicy) -> float:
    """Seconds before attempt ``attempts + 1`` (attempts already made ≥ 1), with ±20 %."""
    delay = min(policy.retry_base_s * (2 ** max(attempts - 1, 0)), policy.retry_max_s)
    return float(delay * random.uniform(0.8, 1.2))


def due_chains(
    session: Session,
    link: str,
    now: datetime,
    limit: int,
    per_key: int,
    *,
    skip_peers: frozenset[str] = frozenset(),
) -> list[list[Due]]:
    """For up to ``limit`` order keys whose head is due (oldest heads first), the head and
    the key's next pending messages that are due too, in order, at most ``per_key``.

    Two indexed queries: the due heads (as before chains), then the followers of just
    those keys — a backlog of one message per key (10,000 incidents after an outage) costs
    the second query one index probe per key."""
    heads = _heads(session, link, limit, due_by=now, skip_peers=skip_peers)
    chains = {(head.peer, head.order_key): [head] for head in heads}
    if per_key > 1 and heads:
        rows = session.execute(
            select(
                LinkOutbox.id,
                LinkOutbox.peer,
                LinkOutbox.order_key,
                LinkOutbox.message_id,
                LinkOutbox.body,
                LinkOutbox.attempts,
                LinkOutbox.first_sent_at,
                LinkOutbox.next_attempt_at,
            )
            .where(
                LinkOutbox.link == link,
                LinkOutbox.status == "pending",
                tuple_(LinkOutbox.peer, LinkOutbox.order_key).in_(list(chains)),
                LinkOutbox.id.not_in([head.id for head in heads]),
            )
            .order_by(LinkOutbox.id)
            .limit(len(heads) * (per_key - 1))
        ).all()
        ended: set[tuple[str, str]] = set()
        for r in rows:  # in id order: each key's followers in its own order
            key = (r.peer, r.order_key)
            chain = chains[key]
            if key in ended or len(chain) >= per_key:
                continue
            if r.next_attempt_at > now:  # waiting for its retry: the chain ends before it
                ended.add(key)
                continue
            chain.append(
                Due(r.id, r.peer, r.message_id, r.body, r.attempts, r.first_sent_at, r.order_key)
            )
    return list(chains.values())


def probe_message(session: Session, link: str, peer: str) -> Due | None:
    """The oldest head of ``peer``'s keys, due or not: what probes a peer that is down."""
    heads = _heads(session, link, 1, peer=peer)
    return heads[0] if heads else None


def _heads(
    session: Session,
    link: str,
    limit: int,
    *,
    due_by: datetime | None = None,
    peer: str | None = None,
    skip_peers: frozenset[str] = frozenset(),
) -> list[Due]:
    pending = [LinkOutbox.link == link, LinkOutbox.status == "pending"]
    if peer is not None:
        pending.append(LinkOutbox.peer == peer)
    if skip_peers:
        pending.append(LinkOutbox.peer.not_in(sorted(skip_peers)))
    heads = (
        select(func.min(LinkOutbox.id).label("id"))
        .where(*pending)
        .group_by(LinkOutbox.peer, LinkOutbox.order_key)
        .subquery()
    )
    query = select(
        LinkOutbox.id,
        LinkOutbox.peer,
        LinkOutbox.message_id,
        LinkOutbox.body,
        LinkOutbox.attempts,
        LinkOutbox.first_sent_at,
        LinkOutbox.order_key,
    ).join(heads, heads.c.id == LinkOutbox.id)
    if due_by is not None:
        query = query.where(LinkOutbox.next_attempt_at <= due_by)
    rows = session.execute(query.order_by(LinkOutbox.id).limit(limit)).all()
    return [
        Due(r.id, r.peer, r.message_id, r.body, r.attempts, r.first_sent_at, r.order_key)
        for r in rows
    ]


class DeliveryWorker:
    """Deliver the outbox of one link to its peers."""

    def __init__(
        self,
        db: Database,
        config: LinkConfig,
        policy: DeliveryPolicy | None = None,
        *,
        producers: list[Producer] | None = None,
        client: httpx.AsyncClient | None = None,
        owner: str | None = None,
        wake_channels: tuple[str, ...] = (),
    ) -> None:
        self.db = db
        #: PostgreSQL channels whose notifications mean work for this link (besides its own)
        self.wake_channels = wake_channels
        self.config = config
        self.policy = policy or DeliveryPolicy()
        self.producers = list(producers or [])
        self._client = client
        self._own_client = client is None
        self._last_alert_check = float("-inf")
        self.owner = owner or worker_identity()
        self._lease_renew_at = float("-inf")
        self.circuits: dict[str, PeerCircuit] = {}

    async def __aenter__(self) -> DeliveryWorker:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._client is not None and self._own_client:
            await self._client.aclose()
            self._client = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(
                max_connections=self.policy.concurrency,
                max_keepalive_connections=self.policy.concurrency,
            )
            self._client = httpx.AsyncClient(timeout=self.policy.send_timeout_s, limits=limits)
        return self._client

    @property
    def lease_name(self) -> str:
        return f"link:{self.config.link}"

    def hold_lease(self) -> bool:
        """Whether this worker holds the link's lease (taken or renewed when due)."""
        tick = time.monotonic()
        if tick < self._lease_renew_at:
            return True
        if lease.acquire(self.db, self.lease_name, self.owner, self.policy.lease_ttl_s):
            self._lease_renew_at = tick + self.policy.lease_ttl_s / 3
            return True
        self._lease_renew_at = float("-inf")
        return False

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, while this worker holds the link's lease (another
        worker of the same link waits, and takes over when the holder stops); a failing
        round is logged and retried. Idle, it waits for a notification on PostgreSQL
        (:mod:`firegrid.links.wakeup`) and polls on SQLite."""
        wakeup = Wakeup(self.db, (link_channel(self.config.link), *self.wake_channels))
        wakeup.start()
        try:
            while not stop.is_set():
                try:
                    if not await asyncio.to_thread(self.hold_lease):
                        await wakeup.wait(stop, self.policy.lease_ttl_s / 3)
                        continue
                    result = await self.deliver_once()
                    busy = result.sent > 0 or result.produced > 0
                except Exception:
                    log.exception("link delivery round failed", extra={"link": self.config.link})
                    busy = False
                if not busy:
                    await wakeup.wait(stop, await self._idle_s(wakeup))
        finally:
            await asyncio.to_thread(wakeup.stop)
            if self._lease_renew_at > float("-inf"):
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(lease.release, self.db, self.lease_name, self.owner)

    async def _idle_s(self, wakeup: Wakeup) -> float:
        """How long an idle worker waits: ``idle_poll_s`` when nothing wakes it, else until
        the next retry falls due (at most ``LISTEN_POLL_S``)."""
        if not wakeup.listening.is_set():
            return self.policy.idle_poll_s
        wait_s = LISTEN_POLL_S
        down = self._down_peers()
        if down:  # a down peer's messages wait for its probe
            tick = time.monotonic()
            wait_s = min(wait_s, *(self.circuits[p].probe_at - tick for p in down))
        next_due = await asyncio.to_thread(self._next_attempt_at, down)
        if next_due is not None:
            wait_s = min(wait_s, (next_due - utcnow()).total_seconds())
        return min(LISTEN_POLL_S, max(wait_s, self.policy.idle_poll_s))

    def _next_attempt_at(self, skip_peers: frozenset[str] = frozenset()) -> datetime | None:
        conditions = [LinkOutbox.link == self.config.link, LinkOutbox.status == "pending"]
        if skip_peers:
            conditions.append(LinkOutbox.peer.not_in(sorted(skip_peers)))
        with self.db.session() as session:
            return session.scalar(select(func.min(LinkOutbox.next_attempt_at)).where(*conditions))

    def _down_peers(self) -> frozenset[str]:
        return frozenset(p for p, circuit in self.circuits.items() if circuit.down)

    async def deliver_once(self) -> RoundResult:
        result = RoundResult()
        for producer in self.producers:
            result.produced += await asyncio.to_thread(producer, self.db)
        due, result.held = await asyncio.to_thread(self._due)
        if due:
            outcomes = await self._send_chains(due)
            await asyncio.to_thread(self._record, outcomes)
            self._update_circuits(outcomes)
            result.sent = len(outcomes)
            result.acked = sum(o.acked for o in outcomes)
            result.dead = sum(o.dead for o in outcomes)
            result.failed = result.sent - result.acked - result.dead
        tick = time.monotonic()
        # every second, and at once in a round that failed (an outage's rounds are sparse):
        # a healthy link's rounds do not each pay for the alert queries
        trouble = result.failed > 0 or result.held > 0
        if tick - self._last_alert_check >= self.policy.alert_check_s or trouble:
            self._last_alert_check = tick
            raised, cleared = await asyncio.to_thread(self.check_alerts)
            result.alerts_raised, result.alerts_cleared = raised, cleared
        return result

    def _due(self) -> tuple[list[list[Due]], int]:
        """What to send this round: the chain of every due head of the peers that are up
        (see :func:`due_chains`), and a probe for each down peer whose probe is due; and
        how many down peers' messages wait."""
        down = self._down_peers()
        tick = time.monotonic()
        with self.db.session() as session:
            due = due_chains(
                session,
                self.config.link,
                utcnow(),
                self.policy.batch,
                max(1, self.policy.chain),
                skip_peers=down,
            )
            held = 0
            for peer in sorted(down):
                circuit = self.circuits[peer]
                if tick < circuit.probe_at:
                    continue
                probe = probe_message(session, self.config.link, peer)
                if probe is None:  # nothing left to send it: it is up as far as we know
                    del self.circuits[peer]
                    continue
                due.append([probe])
                circuit.probe_at = tick + self.policy.probe_s
            if down:
                held = int(
                    session.scalar(
                        select(func.count(LinkOutbox.id)).where(
                            LinkOutbox.link == self.config.link,
                            LinkOutbox.status == "pending",
                            LinkOutbox.peer.in_(sorted(down)),
                        )
                    )
                    or 0
                )
        return due, held

    def _update_circuits(self, outcomes: list[Outcome]) -> None:
        """A peer that answered (acknowledged or refused) is up; one that answered none of
        its messages this round is down until a probe is answered."""
        tick = time.monotonic()
        answered: dict[str, bool] = {}
        for outcome in outcomes:
            peer = outcome.due.peer
            answered[peer] = answered.get(peer, False) or outcome.acked or outcome.dead
        for peer, any_answer in answered.items():
            if any_answer:
                if self.circuits.pop(peer, None) is not None:
                    log.info("link peer answers again", extra={"peer": peer})
            elif peer not in self.circuits:
                self.circuits[peer] = PeerCircuit(tick, tick + self.policy.probe_s)
                log.warning("link peer unreachable; probing it", extra={"peer": peer})

    async def _send_chains(self, chains: list[list[Due]]) -> list[Outcome]:
        """Send the chains, several keys at a time; within a chain each message goes only
        after the one before it was acknowledged, and not after the round's budget."""
        gate = asyncio.Semaphore(self.policy.concurrency)
        budget_end = time.monotonic() + self.policy.chain_budget_s

        async def chain(items: list[Due]) -> list[Outcome]:
            outcomes: list[Outcome] = []
            async with gate:
                for item in items:
                    if outcomes and (not outcomes[-1].acked or time.monotonic() > budget_end):
                        break
                    outcomes.append(await self._send(item))
            return outcomes

        done = await asyncio.gather(*(chain(items) for items in chains))
        return [outcome for outcomes in done for outcome in outcomes]

    async def _send(self, item: Due) -> Outcome:
        peer = self.config.peer(item.peer)
        if peer is None:
            return Outcome(item, acked=False, dead=True, error=f"unknown peer {item.peer!r}")
        body = item.body.encode()
        headers = signed_headers(peer.secret, self.config.local_id, item.message_id, body)
        started = time.perf_counter()
        try:
            response = await self.client().post(peer.url, content=body, headers=headers)
        except httpx.HTTPError as err:
            return Outcome(item, acked=False, error=f"{type(err).__name__}: {err}"[:300])
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        if 200 <= response.status_code < 300:
            return Outcome(item, acked=True, round_trip_ms=elapsed_ms)
        error = f"HTTP {response.status_code}: {response.text[:200]}"
        permanent = 400 <= response.status_code < 500 and (
            response.status_code not in RETRYABLE_4XX
        )
        return Outcome(item, acked=False, dead=permanent, error=error, round_trip_ms=elapsed_ms)

    def _record(self, outcomes: list[Outcome]) -> None:
        now = utcnow()
        by_peer: dict[str, list[Outcome]] = {}
        for outcome in outcomes:
            by_peer.setdefault(outcome.due.peer, []).append(outcome)
        with self.db.session() as session:
            rows = [self._values_for(outcome, now) for outcome in outcomes]
            session.execute(update(LinkOutbox), rows)  # one executemany by primary key
            for peer_id, items in by_peer.items():
                self._count(session, peer_id, items, now)
                if any(o.acked for o in items):  # the peer is back: drain its backlog now
                    failed_now = [o.due.id for o in items if not o.acked]  # keep their back-off
                    session.execute(
                        update(LinkOutbox)
                        .where(
                            LinkOutbox.link == self.config.link,
                            LinkOutbox.peer == peer_id,
                            LinkOutbox.status == "pending",
                            LinkOutbox.next_attempt_at > now,
                            LinkOutbox.id.not_in(failed_now),
                        )
                        .values(next_attempt_at=now)
                    )

    def _values_for(self, outcome: Outcome, now: datetime) -> dict[str, object]:
        """The new values of the message's row (every row of a batch has the same keys)."""
        due = outcome.due
        attempts = due.attempts + 1
        values: dict[str, object] = {
            "id": due.id,
            "attempts": attempts,
            "status": "pending",
            "last_error": outcome.error,
            "acked_at": None,
            "round_trip_ms": None,
            "next_attempt_at": now,
            "first_sent_at": due.first_sent_at or now,
        }
        if outcome.acked:
            values.update(
                status="acked", acked_at=now, round_trip_ms=round(outcome.round_trip_ms, 2)
            )
        elif outcome.dead:
            values.update(status="dead")
        elif self.policy.max_attempts and attempts >= self.policy.max_attempts:
            values.update(
                status="dead", last_error=f"gave up after {attempts}: {outcome.error}"[:300]
            )
        else:
            values["next_attempt_at"] = now + timedelta(seconds=backoff_s(attempts, self.policy))
        return values

    def _count(self, session: Session, peer_id: str, items: list[Outcome], now: datetime) -> None:
        stats = session.get(LinkPeerStats, (self.config.link, peer_id), with_for_update=True)
        if stats is None:
            stats = LinkPeerStats(link=self.config.link, peer=peer_id)
            session.add(stats)
            stats.sent = stats.acked = stats.retries = stats.failures = stats.dead = 0
        acked = [o for o in items if o.acked]
        failed = [o for o in items if not o.acked]
        stats.sent += len(items)
        stats.acked += len(acked)
        stats.retries += sum(1 for o in items if o.due.attempts > 0)
        stats.failures += len(failed)
        stats.dead += sum(1 for o in items if o.dead)
        if acked:
            stats.last_ack_at = now
        if failed:
            stats.last_failure_at = now
            stats.last_error = failed[-1].error[:300]

    def check_alerts(self) -> tuple[list[str], list[str]]:
        """Raise or clear each peer's acknowledgement-timeout alert; ``(raised, cleared)``."""
        now = utcnow()
        horizon = now - timedelta(seconds=self.policy.ack_timeout_s)
        raised: list[str] = []
        cleared: list[str] = []
        with self.db.session() as session:
            for peer in self.config.peers:
                overdue = session.scalar(
                    select(func.count(LinkOutbox.id)).where(
                        LinkOutbox.link == self.config.link,
                        LinkOutbox.peer == peer.id,
                        LinkOutbox.status == "pending",
                        LinkOutbox.created_at < horizon,
                    )
                )
                alert = open_alert(session, self.config.link, peer.id)
                if overdue and alert is None:
                    alert = LinkAlert(
                        link=self.config.link,
                        peer=peer.id,
                        kind="ack_timeout",
                        raised_at=now,
                        cause=_alert_cause(peer, int(overdue or 0), self.policy),
                    )
                    session.add(alert)
                    session.flush()
                    self._announce(session, peer, alert, "raised", int(overdue or 0))
                    raised.append(peer.id)
                    log.warning("link alert raised", extra={"peer": peer.id})
                elif not overdue and alert is not None:
                    alert.cleared_at = now
                    alert.cleared_cause = "every message acknowledged within the timeout"
                    self._announce(session, peer, alert, "cleared", 0)
                    cleared.append(peer.id)
                    log.info("link alert cleared", extra={"peer": peer.id})
        return raised, cleared

    def _announce(
        self, session: Session, peer: Peer, alert: LinkAlert, state: str, overdue: int
    ) -> None:
        """Tell the other contexts (the monitoring centre's feed) in this transaction."""
        record_change(
            session,
            ALERT_CHANGE,
            f"{self.config.link}:{peer.id}",
            actor=f"system:link-worker:{self.owner}",
            cause=alert.cause if state == "raised" else alert.cleared_cause,
            payload={
                "link": self.config.link,
                "peer": peer.id,
                "peer_name": peer.name,
                "towns": list(peer.towns),
                "state": state,
                "alert_id": alert.id,
                "kind": alert.kind,
                "overdue": overdue,
                "ack_timeout_s": self.policy.ack_timeout_s,
                "raised_at": alert.raised_at.isoformat(),
                "cleared_at": alert.cleared_at.isoformat() if alert.cleared_at else None,
            },
        )


def _alert_cause(peer: Peer, overdue: int, policy: DeliveryPolicy) -> str:
    return (f"{overdue} message(s) to {peer.id} unacknowledged after {policy.ack_timeout_s:g} s")[
        :300
    ]


def open_alert(session: Session, link: str, peer_id: str) -> LinkAlert | None:
    return session.scalars(
        select(LinkAlert).where(
            LinkAlert.link == link, LinkAlert.peer == peer_id, LinkAlert.cleared_at.is_(None)
        )
    ).first()
