"""The monitoring centre: device events become verified alarms, forwarded fires and work.

Shape: ``models`` (tables), ``states`` (the alarm state machine), ``folding`` (events into
alarms), ``rules`` (correlation rules as data), ``timers`` (escalation and auto-forward
that survive restarts), ``verification``, ``forwarding`` (outbox for dispatch),
``workorders``, ``colours`` (three-colour status), ``feed`` (persisted live feed),
``notify`` (channels), ``stats``, ``service`` (the correlator), ``consumer`` (event log
reader), ``api`` and ``cli``.
"""
