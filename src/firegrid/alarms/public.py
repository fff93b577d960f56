"""What other contexts may use of the monitoring centre (alarms).

The forwarding outbox: a confirmed fire is one ``alarm_forwards`` row, written in the
transaction that confirmed it together with an ``alarm.forwarded`` change
(:mod:`firegrid.core.changes`, key: the forward's id). The dispatch context reads the
change stream, takes the pending forwards, opens its incidents and marks each forward
consumed. Import these names from here, never from ``alarms.models`` or its services.
"""

from __future__ import annotations

from firegrid.alarms.colours import venue_colours
from firegrid.alarms.feed import CHANNEL as LIVE_CHANNEL
from firegrid.alarms.forwarding import (
    ALARM_FORWARDED,
    ForwardRequest,
    mark_forward_consumed,
    pending_forwards,
)
from firegrid.alarms.verification import task_response_times

#: LIVE_CHANNEL: the PostgreSQL NOTIFY channel signalled by every transaction that commits
#: alarm feed or live-channel entries (incident and unit changes) — a wake-up, never data.

__all__ = [
    "ALARM_FORWARDED",
    "LIVE_CHANNEL",
    "ForwardRequest",
    "mark_forward_consumed",
    "pending_forwards",
    "task_response_times",
    "venue_colours",
]
