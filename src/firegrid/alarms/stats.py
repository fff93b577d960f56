"""Statistics of the monitoring centre.

Alarms per day (China time), false-alarm rate by cause, device kind and venue category,
time to acknowledge and to verify (median and p90, seconds from the first event's arrival)
the top offending devices (most false alarms and faults), and the devices online, offline
and not commissioned (never reported: not counted offline, see
:mod:`firegrid.devices.commissioning`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.alarms.models import Alarm, AlarmEvent
from firegrid.alarms.states import AlarmKind, AlarmStatus
from firegrid.core.clock import CHINA_TZ


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by linear interpolation; ``None`` for no values."""
    if not values:
        return None
    data = sorted(values)
    position = (len(data) - 1) * q
    low = int(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


def _summary(values: list[float]) -> dict[str, Any]:
    median = percentile(values, 0.5)
    p90 = percentile(values, 0.9)
    return {
        "count": len(values),
        "median_s": None if median is None else round(median, 3),
        "p90_s": None if p90 is None else round(p90, 3),
    }


def _rate(false_count: int, decided: int) -> dict[str, Any]:
    return {
        "false_alarms": false_count,
        "decided": decided,
        "rate": round(false_count / decided, 4) if decided else None,
    }


def alarm_stats(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    top: int = 10,
) -> dict[str, Any]:
    query = select(
        Alarm.id,
        Alarm.kind,
        Alarm.status,
        Alarm.opened_at,
        Alarm.first_received_at,
        Alarm.acknowledged_at,
        Alarm.decided_at,
        Alarm.false_reason,
        Alarm.venue_category,
        Alarm.device_id,
        Alarm.device_kind,
        Alarm.forwarded_at,
        Alarm.forward_probable,
    ).where(principal.scope_filter(Alarm.jurisdiction_path))
    if since is not None:
        query = query.where(Alarm.opened_at >= since)
    if until is not None:
        query = query.where(Alarm.opened_at < until)
    rows = session.execute(query).all()
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    by_cause: Counter[str] = Counter()
    category_false: Counter[str] = Counter()
    category_decided: Counter[str] = Counter()
    ack_times: list[float] = []
    verify_times: list[float] = []
    fire_ids: list[int] = []
    false_ids: set[int] = set()
    offending: Counter[int] = Counter()
    status_counts: Counter[str] = Counter()
    forwarded = probable = 0
    for row in rows:
        day = row.opened_at.astimezone(CHINA_TZ).date().isoformat()
        per_day[day][row.kind] += 1
        status_counts[row.status] += 1
        if row.acknowledged_at is not None:
            ack_times.append((row.acknowledged_at - row.first_received_at).total_seconds())
        if row.kind == AlarmKind.FAULT:
            if row.device_id is not None:
                offending[row.device_id] += 1
            continue
        fire_ids.append(row.id)
        if row.forwarded_at is not None:
            forwarded += 1
            probable += int(row.forward_probable)
        if row.decided_at is not None:
            verify_times.append((row.decided_at - row.first_received_at).total_seconds())
        if row.status in (AlarmStatus.CONFIRMED, AlarmStatus.FALSE_ALARM) or (
            row.status == AlarmStatus.CLOSED and row.decided_at is not None
        ):
            category_decided[row.venue_category or "unknown"] += 1
            if row.false_reason:
                by_cause[row.false_reason] += 1
                category_false[row.venue_category or "unknown"] += 1
                false_ids.add(row.id)
    # device kinds and devices behind false fire alarms (from the alarms' history)
    kind_false: Counter[str] = Counter()
    kind_decided: Counter[str] = Counter()
    decided_ids = [i for i in fire_ids if i in false_ids] + [
        r.id
        for r in rows
        if r.kind != AlarmKind.FAULT and r.decided_at is not None and r.id not in false_ids
    ]
    for start in range(0, len(decided_ids), 500):
        chunk = decided_ids[start : start + 500]
        seen: set[tuple[int, str]] = set()
        for alarm_id, device_id, device_kind in session.execute(
            select(AlarmEvent.alarm_id, AlarmEvent.device_id, AlarmEvent.device_kind).where(
                AlarmEvent.alarm_id.in_(chunk), AlarmEvent.kind == "fire_alarm"
            )
        ).all():
            kind = device_kind or "unknown"
            if (alarm_id, kind) not in seen:
                seen.add((alarm_id, kind))
                kind_decided[kind] += 1
                if alarm_id in false_ids:
                    kind_false[kind] += 1
            if alarm_id in false_ids and device_id is not None:
                offending[device_id] += 1
    decided_total = sum(category_decided.values())
    from firegrid.devices.commissioning import health_counts
    from firegrid.devices.public import Device

    return {
        "devices": health_counts(session, principal.scope_filter(Device.jurisdiction_path)),
        "alarms": len(rows),
        "by_status": dict(status_counts),
        "per_day": {day: dict(counts) for day, counts in sorted(per_day.items())},
        "forwarded": {"total": forwarded, "probable": probable},
        "false_alarm_rate": {
            "overall": _rate(sum(by_cause.values()), decided_total),
            "by_cause": dict(by_cause.most_common()),
            "by_venue_category": {
                c: _rate(category_false[c], n) for c, n in sorted(category_decided.items())
            },
            "by_device_kind": {k: _rate(kind_false[k], n) for k, n in sorted(kind_decided.items())},
        },
        "time_to_acknowledge": _summary(ack_times),
        "time_to_verify": _summary(verify_times),
        "top_offending_devices": [
            {"device_id": device_id, "false_alarms_and_faults": count}
            for device_id, count in offending.most_common(top)
        ],
    }
