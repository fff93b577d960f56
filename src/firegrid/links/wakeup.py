"""Wake an idle link worker when there is work, instead of polling it every few ms.

On PostgreSQL a :class:`Wakeup` keeps one ``LISTEN`` connection (in a thread) on the given
channels: the link's own channel, notified by :func:`notify_link` in any transaction that
adds outbox messages, and whatever channels the link's producers read from (the 110 link:
the channel notified when ``live_entries`` commit). A notification wakes the worker at
once; the worker still looks every ``LISTEN_POLL_S`` (and when a retry falls due), so a
notification lost while the connection is re-made costs at most that. A notification is a
wake-up only: the work is found in the tables.

On SQLite (one process, no notifications) the worker polls every ``idle_poll_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from firegrid.core.db import Database

log = logging.getLogger(__name__)

#: the idle worker's fallback look while it is listening
LISTEN_POLL_S = 1.0
_NON_WORD = re.compile(r"[^a-z0-9_]")


def link_channel(link: str) -> str:
    """The NOTIFY channel of ``link``'s outbox (a plain identifier)."""
    return "firegrid_link_" + _NON_WORD.sub("_", link.lower())[:40]


_TO_NOTIFY = "firegrid.links.to_notify"


def notify_link(session: Session, link: str) -> None:
    """Wake the link's worker when this transaction commits (PostgreSQL; else nothing).
    Once per link and transaction, however many messages it adds."""
    links: set[str] = session.info.setdefault(_TO_NOTIFY, set())
    links.add(link)


@event.listens_for(Session, "before_commit")
def _send_notifications(session: Session) -> None:
    links = session.info.pop(_TO_NOTIFY, None)
    if links and session.get_bind().dialect.name == "postgresql":
        for link in sorted(links):
            session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": link_channel(link)})


@event.listens_for(Session, "after_rollback")
def _forget_notifications(session: Session) -> None:
    session.info.pop(_TO_NOTIFY, None)


class Wakeup:
    """An event set by notifications on ``channels`` (PostgreSQL) — see the module."""

    def __init__(self, db: Database, channels: tuple[str, ...]) -> None:
        self.channels = tuple(dict.fromkeys(_NON_WORD.sub("_", c.lower()) for c in channels))
        self.listening = threading.Event()
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conninfo = ""
        if db.engine.dialect.name == "postgresql" and self.channels:
            self._conninfo = (
                make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)
            )

    @property
    def enabled(self) -> bool:
        return bool(self._conninfo)

    def start(self) -> None:
        """Start listening (from the worker's event loop)."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="link-wakeup", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _wake(self) -> None:
        loop, event = self._loop, self._event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(event.set)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    for channel in self.channels:
                        conn.execute(f"LISTEN {channel}")
                    self.listening.set()
                    self._wake()  # whatever committed while we were not listening
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self._wake()
            except (psycopg.Error, OSError) as exc:
                log.warning("link wake-up listener: %s; reconnecting", exc)
            finally:
                self.listening.clear()
            self._stop.wait(1.0)

    async def wait(self, stop: asyncio.Event, timeout_s: float) -> None:
        """Until a notification, ``stop``, or ``timeout_s`` seconds."""
        event = self._event
        if event is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=timeout_s)
            return
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(event.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            event.clear()
