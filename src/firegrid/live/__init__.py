"""The per-seat live channel: one Server-Sent Events stream carrying alarms, tasks and work
orders (from ``alarm_feed``), incidents and unit statuses (from ``live_entries``), scoped
to what the caller may read, resumable from its ``Last-Event-ID``."""
