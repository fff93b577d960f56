"""Webhooks: a subscription registered by an admin receives each shared change of its
scope once, signed, with the feed cursor; a failing subscriber is retried, then given up on
(dead letters an operator retries); a new worker resumes where the last one stopped."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.links import signing
from firegrid.links.models import LinkOutbox
from firegrid.sharing.webhook_worker import WebhookWorker
from tests.accounts.city import City
from tests.sharing.conftest import headers

pytestmark = pytest.mark.postgres


class Subscriber:
    """A subscriber's endpoint on a 127.0.0.1 port: records what it gets; answers 500 to
    the next ``fail`` requests."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    failing = outer.fail > 0
                    outer.fail -= 1 if failing else 0
                    if not failing:
                        outer.received.append((dict(self.headers.items()), body))
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def deliveries(self, secret: str) -> list[dict[str, Any]]:
        """Every delivery received, its signature checked."""
        out = []
        for head, body in self.received:
            signing.verify(
                secret.encode(),
                head.get(signing.TIMESTAMP_HEADER),
                head.get(signing.SIGNATURE_HEADER),
                body,
            )
            document = json.loads(body)
            assert head[signing.MESSAGE_HEADER] == document["delivery_id"]
            out.append(document)
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    endpoint = Subscriber()
    yield endpoint
    endpoint.close()


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "link_retry_base_s": 0.05,
            "link_retry_max_s": 0.1,
            "link_send_timeout_s": 2.0,
            "webhook_max_attempts": 3,
            "link_probe_s": 0.1,
        }
    )


def pending(db: Database) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count(LinkOutbox.id)).where(
                    LinkOutbox.link == "webhooks", LinkOutbox.status == "pending"
                )
            )
            or 0
        )


def deliver(db: Database, settings: Settings, timeout_s: float = 15.0) -> None:
    """A fresh worker (as after a restart), run until its backlog is drained."""

    async def main() -> None:
        deadline = time.monotonic() + timeout_s
        async with WebhookWorker(db, settings) as worker:
            while True:
                result = await worker.deliver_once()
                if result.produced == 0 and result.sent == 0 and pending(db) == 0:
                    return
                assert time.monotonic() < deadline, "the webhook backlog did not drain"
                await asyncio.sleep(0.02)

    asyncio.run(main())


def rename(client: TestClient, admin: dict[str, str], city: City, side: str, name: str) -> None:
    r = client.patch(f"/api/v1/venues/{city.id('venue', side)}", json={"name": name}, headers=admin)
    assert r.status_code == 200, r.text


def test_a_town_subscriber_gets_each_change_of_its_town_once_signed_with_the_cursor(
    client: TestClient,
    db: Database,
    hook_settings: Settings,
    city: City,
    subscriber: Subscriber,
) -> None:
    admin = headers(db, hook_settings, "admin", "990000")
    town_admin = headers(db, hook_settings, "admin", city.code("town", "in"))
    rename(client, admin, city, "in", "before the subscription")
    created = client.post(
        "/api/v1/webhooks",
        json={"name": "town A safety office", "url": subscriber.url, "kinds": ["venue"]},
        headers=town_admin,
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["scope_path"] == city.paths["town:in"]
    assert len(hook["secret"]) == 64
    rename(client, admin, city, "in", "IN one")
    rename(client, admin, city, "out", "OUT one")  # another town: never delivered
    rename(client, admin, city, "in", "IN two")
    deliver(db, hook_settings)
    deliver(db, hook_settings)  # a second worker finds nothing new to send
    got = subscriber.deliveries(hook["secret"])
    assert [d["change"]["key"] for d in got] == [str(city.id("venue", "in"))] * 2
    assert len({d["delivery_id"] for d in got}) == 2
    assert all(d["change"]["jurisdiction_path"].startswith(city.paths["town:in"]) for d in got)
    cursors = [int(d["cursor"]) for d in got]
    assert cursors == sorted(cursors)
    assert cursors[0] > int(hook["start_after"])
    # the cursor resumes the feed: nothing of the town's venues after the last delivery
    feed = client.get(
        "/api/v1/changes", params={"since": got[-1]["cursor"], "kinds": "venue"}, headers=town_admin
    )
    assert feed.status_code == 200
    assert feed.json()["items"] == []
    shown = client.get(f"/api/v1/webhooks/{hook['id']}", headers=town_admin).json()
    assert "secret" not in shown
    assert shown["health"]["acked"] == 2
    assert shown["health"]["backlog"] == 0
    other_town = headers(db, hook_settings, "admin", city.code("town", "out"))
    assert client.get(f"/api/v1/webhooks/{hook['id']}", headers=other_town).status_code == 404
    analyst = headers(db, hook_settings, "analyst", "990000")
    assert client.get("/api/v1/webhooks", headers=analyst).status_code == 403


def test_a_failing_subscriber_is_retried_then_dead_lettered_and_retried_by_an_operator(
    client: TestClient,
    db: Database,
    hook_settings: Settings,
    city: City,
    subscriber: Subscriber,
) -> None:
    admin = headers(db, hook_settings, "admin", "990000")
    hook = client.post(
        "/api/v1/webhooks", json={"name": "city", "url": subscriber.url}, headers=admin
    ).json()
    subscriber.fail = 2  # two failures, then it answers
    rename(client, admin, city, "in", "retried")
    deliver(db, hook_settings)
    assert len(subscriber.deliveries(hook["secret"])) == 1
    with db.session() as session:
        (row,) = session.scalars(select(LinkOutbox).where(LinkOutbox.link == "webhooks")).all()
        assert row.status == "acked"
        assert row.attempts == 3
    subscriber.fail = 10  # more failures than FIREGRID_WEBHOOK_MAX_ATTEMPTS
    rename(client, admin, city, "out", "given up on")
    deliver(db, hook_settings)
    dead = client.get(f"/api/v1/webhooks/{hook['id']}/dead-letters", headers=admin).json()
    assert len(dead["items"]) == 1
    assert dead["items"][0]["attempts"] == 3
    assert "gave up after 3" in dead["items"][0]["last_error"]
    assert len(subscriber.received) == 1
    subscriber.fail = 0
    retried = client.post(
        f"/api/v1/webhooks/{hook['id']}/dead-letters/{dead['items'][0]['id']}/retry",
        headers=admin,
    )
    assert retried.status_code == 200, retried.text
    deliver(db, hook_settings)
    got = subscriber.deliveries(hook["secret"])
    assert [d["change"]["event"] for d in got] == ["venue.changed", "venue.changed"]
    assert got[1]["change"]["key"] == str(city.id("venue", "out"))


def test_deliveries_resume_after_a_restart_and_stop_when_removed(
    client: TestClient,
    db: Database,
    hook_settings: Settings,
    city: City,
    subscriber: Subscriber,
) -> None:
    admin = headers(db, hook_settings, "admin", "990000")
    hook = client.post(
        "/api/v1/webhooks",
        json={"name": "hazards", "url": subscriber.url, "kinds": ["venue"]},
        headers=admin,
    ).json()
    rename(client, admin, city, "in", "one")
    deliver(db, hook_settings)
    rename(client, admin, city, "in", "two")
    rename(client, admin, city, "in", "three")
    restarted = Database(db.url)  # a new process: new pool, same tables
    try:
        deliver(restarted, hook_settings)
    finally:
        restarted.dispose()
    got = subscriber.deliveries(hook["secret"])
    cursors = [int(d["cursor"]) for d in got]
    assert len(got) == 3
    assert cursors == sorted(set(cursors))
    removed = client.post(
        f"/api/v1/webhooks/{hook['id']}/remove", json={"cause": "department left"}, headers=admin
    )
    assert removed.status_code == 200
    assert removed.json()["status"] == "removed"
    rename(client, admin, city, "in", "four")
    deliver(db, hook_settings)
    assert len(subscriber.received) == 3
    assert client.get("/api/v1/webhooks", headers=admin).json()["items"] == []


def test_bad_subscriptions_are_refused_with_the_field_named(
    client: TestClient, db: Database, hook_settings: Settings, city: City
) -> None:
    admin = headers(db, hook_settings, "admin", "990000")
    for body, field in (
        ({"name": "x", "url": "ftp://example.org/hook"}, "url"),
        ({"name": "x", "url": "http://user:pw@example.org/hook"}, "url"),
        ({"name": "x", "url": "http://example.org/hook", "kinds": ["alarm"]}, "kinds"),
    ):
        r = client.post("/api/v1/webhooks", json=body, headers=admin)
        assert r.status_code == 422, r.text
        assert field in r.text
