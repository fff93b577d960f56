"""The link kernel sends a key's messages one after the other within a round: each only
after the one before it was acknowledged, the chain stops at the first failure, and other
keys go in parallel — so a strictly ordered stream drains faster than one per round and
never out of order."""

from __future__ import annotations

import asyncio
import json

import httpx
from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.links.delivery import DeliveryPolicy, DeliveryWorker
from firegrid.links.models import LinkOutbox
from firegrid.links.outbox import enqueue
from firegrid.links.peers import LinkConfig, Peer

LINK = "chaintest"
CONFIG = LinkConfig(
    LINK, (Peer("p1", "peer", "http://127.0.0.1:9/hook", "X", ("*",), secret=b"k" * 32),)
)


class Recorder:
    """A peer that records what arrived, in order, and refuses the messages named."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.arrived: list[str] = []
        self.refuse = refuse or set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.arrived.append(body["n"])
        return httpx.Response(503 if body["n"] in self.refuse else 204)


def _fill(db: Database, keys: dict[str, int]) -> None:
    with db.session() as session:
        for n in range(max(keys.values())):
            for key, count in keys.items():
                if n < count:
                    enqueue(
                        session,
                        link=LINK,
                        peer="p1",
                        order_key=key,
                        kind="change",
                        body={"n": f"{key}-{n}"},
                    )


def _round(db: Database, peer: Recorder, policy: DeliveryPolicy) -> int:
    async def go() -> int:
        client = httpx.AsyncClient(transport=httpx.MockTransport(peer))
        async with DeliveryWorker(db, CONFIG, policy, client=client) as worker:
            result = await worker.deliver_once()
        await client.aclose()
        return result.acked

    return asyncio.run(go())


def _status(db: Database) -> dict[str, str]:
    with db.session() as session:
        rows = session.execute(select(LinkOutbox.body, LinkOutbox.status)).all()
    return {json.loads(body)["n"]: status for body, status in rows}


def test_one_round_sends_a_keys_messages_in_order_up_to_the_chain(db: Database) -> None:
    _fill(db, {"a": 5, "b": 3})
    peer = Recorder()
    acked = _round(db, peer, DeliveryPolicy(chain=4, chain_budget_s=30))
    assert acked == 7  # a: 4 of 5 (the chain), b: all 3
    assert [n for n in peer.arrived if n.startswith("a")] == ["a-0", "a-1", "a-2", "a-3"]
    assert [n for n in peer.arrived if n.startswith("b")] == ["b-0", "b-1", "b-2"]
    assert _status(db)["a-4"] == "pending"
    assert _round(db, peer, DeliveryPolicy(chain=4, chain_budget_s=30)) == 1
    assert set(_status(db).values()) == {"acked"}


def test_a_failure_ends_its_chain_and_nothing_after_it_is_sent(db: Database) -> None:
    _fill(db, {"a": 5})
    peer = Recorder(refuse={"a-2"})
    assert _round(db, peer, DeliveryPolicy(chain=10, chain_budget_s=30)) == 2
    assert peer.arrived == ["a-0", "a-1", "a-2"]
    status = _status(db)
    assert [status[f"a-{n}"] for n in range(5)] == [
        "acked",
        "acked",
        "pending",
        "pending",
        "pending",
    ]
    # the refused message waits for its retry, and its followers wait behind it
    assert _round(db, Recorder(), DeliveryPolicy(chain=10, chain_budget_s=30)) == 0


def test_chain_of_one_is_the_old_one_message_per_key_per_round(db: Database) -> None:
    _fill(db, {"a": 3, "b": 3})
    peer = Recorder()
    assert _round(db, peer, DeliveryPolicy(chain=1)) == 2
    assert sorted(peer.arrived) == ["a-0", "b-0"]
