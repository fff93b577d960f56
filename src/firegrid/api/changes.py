"""After-commit reactions to changes of the city's data (in process, best effort).

A context that derives data from another context's rows registers a listener for a topic
(risk re-scores a venue whose facts changed); the route that changed the rows schedules the
topic with FastAPI's background tasks. Those run after the response is sent, which is after
the request's session has committed (``api.deps.SESSION``), so a listener reads the change.
A listener's failure is logged and never reaches the caller: the change itself is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import BackgroundTasks, FastAPI

log = logging.getLogger(__name__)

#: a venue's own facts, its hazards or its inspections changed (key: the venue id)
VENUE_CHANGED = "venue.changed"

#: ``listener(app, key, actor, cause)``
Listener = Callable[[FastAPI, int, str, str], None]

_listeners: dict[str, list[Listener]] = {}


def listen(topic: str, listener: Listener) -> None:
    """Call ``listener`` after every committed change of ``topic`` (registering twice is
    the same as once)."""
    listeners = _listeners.setdefault(topic, [])
    if listener not in listeners:
        listeners.append(listener)


def schedule(
    background: BackgroundTasks, app: FastAPI, topic: str, key: int, actor: str, cause: str
) -> None:
    """Run the listeners of ``topic`` for ``key`` once the response has been sent."""
    for listener in _listeners.get(topic, ()):
        background.add_task(_call, listener, app, key, actor, cause)


def _call(listener: Listener, app: FastAPI, key: int, actor: str, cause: str) -> None:
    try:
        listener(app, key, actor, cause)
    except Exception:
        log.exception("change listener %s failed for %s", getattr(listener, "__name__", ""), key)
