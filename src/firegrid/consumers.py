"""The change consumers of every context, started by the services processes.

Like the routers of ``api/app.py`` and the settings of ``cli.py``, the list is data of the
composition root: a context that reacts to another's changes adds its
:class:`~firegrid.core.changes.ChangeConsumer` here ("module:attribute").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib import import_module
from typing import Any

from firegrid.core.changes import ChangeConsumer, run_consumers
from firegrid.core.db import Database

CHANGE_CONSUMERS: tuple[str, ...] = (
    "firegrid.risk.changes:RESCORE_CHANGED_VENUES",
    "firegrid.dispatch.consumers:ALARM_FORWARDS",
    "firegrid.alarms.link_alerts:LINK_ALERTS",
)


def change_consumers() -> list[ChangeConsumer]:
    consumers = []
    for spec in CHANGE_CONSUMERS:
        module_name, _, attribute = spec.partition(":")
        consumers.append(getattr(import_module(module_name), attribute))
    return consumers


def start_change_consumers(
    database: Database, settings: Any, *, interval_s: float = 1.0
) -> Callable[[], None]:
    """Run every change consumer in a thread of this process; returns its stopper."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_consumers,
        args=(database, settings, change_consumers(), stop),
        kwargs={"interval_s": interval_s},
        name="firegrid-change-consumers",
        daemon=True,
    )
    thread.start()

    def stopper() -> None:
        stop.set()
        thread.join(10)

    return stopper
