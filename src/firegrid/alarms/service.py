"""The correlator: a batch of device events in, folded and correlated alarms out.

:meth:`Correlator.process` runs inside one transaction per batch (the consumer commits it
together with its offset in the event log):

1. every event is assigned to an alarm (:mod:`~firegrid.alarms.folding`), opening one if
   needed; context events without an open alarm are dropped;
2. the alarm's history lines are updated (a repeated fault is counted);
3. the rules (:mod:`~firegrid.alarms.rules`) run over each touched alarm: confirm,
   raise priority, suppress inside a maintenance window;
4. new alarms get their timers (escalation, auto-forward) and fault alarms a work order;
5. every change writes a feed entry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from firegrid.alarms import bulk, policy_store
from firegrid.alarms.directory import AssigneeCache, DeviceInfo, Directory, VenueInfo
from firegrid.alarms.foldedrows import ALARMS_TABLE, write_folded
from firegrid.alarms.folding import (
    DEVICE_CONTEXT,
    DEVICE_OPENING,
    VENUE_CONTEXT,
    VENUE_OPENING,
    WORK_ORDER_KIND,
    FoldTarget,
    folds,
    source_key,
    target_of,
)
from firegrid.alarms.foldstate import FoldState, LineState, load_states, write_lines
from firegrid.alarms.lifecycle import (
    AUTO_FORWARD,
    REMINDER,
    Clock,
    decide,
    emit,
    schedule,
    schedule_alarm_timers,
)
from firegrid.alarms.models import (
    Alarm,
    AlarmNotification,
    AlarmRuleRow,
    MaintenanceWindow,
    WorkOrder,
)
from firegrid.alarms.rules import (
    AlarmFacts,
    EventMatch,
    HistoryLine,
    Outcome,
    Policy,
    Rule,
    default_policy,
    default_rules,
    evaluate,
    merge_rules,
    parse_rule,
)
from firegrid.alarms.states import ACTIVE, UNDECIDED, AlarmKind, AlarmStatus
from firegrid.alarms.workorders import new_order_row
from firegrid.core.clock import utcnow
from firegrid.core.errors import ValidationFailed
from firegrid.ingest.public import DeviceEvent, EventKind

log = logging.getLogger(__name__)

#: Open alarms whose lines the correlator keeps in memory at most (beyond, it starts over).
MAX_STATES = 100_000

#: the maintenance windows of some venues that overlap a time span
_WINDOWS = select(MaintenanceWindow).where(
    MaintenanceWindow.venue_id.in_(bindparam("venues", expanding=True)),
    MaintenanceWindow.starts_at <= bindparam("latest"),
    MaintenanceWindow.ends_at >= bindparam("earliest"),
)
#: the open alarms of some fold keys, as columns (oldest first: the newest of a key wins)
_OPEN_COUNTS = (
    select(ALARMS_TABLE.c.id, ALARMS_TABLE.c.fold_key, ALARMS_TABLE.c.event_count)
    .where(
        ALARMS_TABLE.c.fold_key.in_(bindparam("keys", expanding=True)),
        ALARMS_TABLE.c.status != AlarmStatus.CLOSED.value,
    )
    .order_by(ALARMS_TABLE.c.id)
)

#: A fault alarm keeps folding its device's events while it is handled (until closed).
FAULT_FOLDING = ACTIVE | {AlarmStatus.FAULT}

LEVEL_DEPTH = {"city": 1, "town": 2, "village": 3, "grid": 4}


def level_path(path: str, level: str) -> str:
    """The path of the ``level`` ancestor of ``path`` (itself when shallower)."""
    parts = [p for p in path.split("/") if p]
    depth = min(LEVEL_DEPTH[level], len(parts))
    return "/" + "".join(f"{p}/" for p in parts[:depth]) if depth else "/"


def load_stored_rules(session: Session) -> list[Rule]:
    """Rules of the ``alarm_rules`` table (a bad stored rule is logged and skipped)."""
    rules: list[Rule] = []
    for index, row in enumerate(
        session.scalars(select(AlarmRuleRow).order_by(AlarmRuleRow.id)).all()
    ):
        try:
            rule = parse_rule({**row.spec, "name": row.name}, index)
        except ValidationFailed as exc:
            log.error("stored alarm rule skipped: %s", exc.message)
            continue
        rules.append(rule.model_copy(update={"enabled": row.enabled and rule.enabled}))
    return rules


#: Context events that join an alarm only when a rule looks at them (an analog value in
#: its normal range is history of the event log, not of the alarm). A reset always joins.
QUIET_CONTEXT = frozenset({EventKind.ANALOG_VALUE, EventKind.FEEDBACK})

NOTIFICATIONS_TABLE: Table = AlarmNotification.__table__  # type: ignore[assignment]
WORK_ORDERS_TABLE: Table = WorkOrder.__table__  # type: ignore[assignment]


def _any_device_kind(match: EventMatch) -> EventMatch:
    """``match`` without its device-kind conditions (a looser test needing no lookup)."""
    return match.model_copy(
        update={"device_kinds": [], "any_of": [_any_device_kind(m) for m in match.any_of]}
    )


def _watched(
    event: DeviceEvent, devices: dict[int, DeviceInfo], matchers: list[EventMatch]
) -> bool:
    device = devices.get(event.device_id) if event.device_id is not None else None
    line = HistoryLine(
        str(event.kind),
        device.kind if device else str(event.values.get("device_kind", "")),
        event.device_id,
        "",
        "",
        event.values,
    )
    return any(matcher.matches(line) for matcher in matchers)


@dataclass
class BatchResult:
    events: int = 0
    relevant: int = 0
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)


@dataclass
class _Touch:
    alarm: Alarm
    is_new: bool
    first_received: datetime
    new_lines: bool = False
    upgraded: bool = False
    cleared_changed: bool = False
    opening_kind: str = ""
    events: int = 0  # folded in this batch (added to the alarm's count once)
    cleared_at: datetime | None = None  # the alarm's, as the batch's events leave it
    venue: VenueInfo | None = None


class Correlator:
    """Folds device events into alarms and applies the correlation rules."""

    def __init__(
        self,
        directory: Directory,
        *,
        policy: Policy | None = None,
        rules: Sequence[Rule] | None = None,
        use_stored_rules: bool = True,
        clock: Clock = utcnow,
        rules_ttl_s: float = 5.0,
    ) -> None:
        self.directory = directory
        # Without an explicit policy or rules, follow the stored policy in force.
        self.follows_stored_policy = policy is None and rules is None
        self.policy_version: int | None = None
        self.policy = policy or default_policy()
        self.base_rules = list(rules) if rules is not None else default_rules()
        self.use_stored_rules = use_stored_rules
        self.clock = clock
        self.rules_ttl_s = rules_ttl_s
        self.assignees = AssigneeCache()
        self._rules: list[Rule] | None = None
        self._matchers: tuple[list[Rule], list[EventMatch]] | None = None
        self._reading: tuple[list[Rule], frozenset[str]] | None = None
        self._loose: tuple[list[Rule], list[EventMatch]] | None = None
        self._rules_loaded = 0.0
        #: Open alarms' lines by alarm id, and which alarm id each fold key last had.
        self._states: dict[int, FoldState] = {}
        self._by_key: dict[str, int] = {}
        #: Alarms whose state the batch not yet committed changed (dropped on rollback).
        self._uncommitted: set[int] = set()

    def current_policy(self, session: Session) -> Policy:
        """The policy a batch runs under (the one place the correlator obtains it)."""
        return self.policy

    # Memory of open alarms ---------------------------------------------------------------

    def commit(self) -> None:
        """The caller committed the last batch: its changes to the fold states stand."""
        self._uncommitted.clear()

    def rollback(self) -> None:
        """The caller rolled the last batch back: forget what it changed in memory (the
        states are loaded again from the database when next needed)."""
        for alarm_id in self._uncommitted:
            self._states.pop(alarm_id, None)
        self._uncommitted.clear()

    def forget(self) -> None:
        """Drop every fold state (they are loaded again from the database)."""
        self._states.clear()
        self._by_key.clear()
        self._uncommitted.clear()

    @property
    def states_held(self) -> int:
        return len(self._states)

    def _states_for(self, session: Session, counts: dict[int, int]) -> dict[int, FoldState]:
        """The fold state of each stored alarm ``counts`` names (alarm id → its stored event
        count), loading those not held or out of date."""
        stale = {
            alarm_id: count
            for alarm_id, count in counts.items()
            if (state := self._states.get(alarm_id)) is None or state.event_count != count
        }
        if stale:
            if len(self._states) + len(stale) > MAX_STATES:
                self.forget()  # bound the memory: what is still open loads again
                stale = dict(counts)
            self._states.update(load_states(session, stale))
        return {alarm_id: self._states[alarm_id] for alarm_id in counts}

    def use_policy_in_force(self, session: Session) -> None:
        """Take the newest stored policy version (one cheap check per batch; the document
        is parsed once per version) unless this correlator was given a fixed policy."""
        if not self.follows_stored_policy:
            return
        stored = policy_store.current(session)
        if stored.version != self.policy_version:
            self.policy = stored.document.policy
            self.base_rules = list(stored.document.rules)
            self.policy_version = stored.version
            self._rules = None

    def rules(self, session: Session) -> list[Rule]:
        if not self.use_stored_rules:
            return self.base_rules
        if self._rules is None or time.monotonic() - self._rules_loaded > self.rules_ttl_s:
            self._rules = merge_rules(self.base_rules, load_stored_rules(session))
            self._rules_loaded = time.monotonic()
        return self._rules

    def invalidate_rules(self) -> None:
        self._rules = None

    def is_priority(self, event: DeviceEvent) -> bool:
        """Whether the consumer handles ``event`` in its priority lane: fires, supervisory
        and start signals, resets, and the analog values and feedback a rule may read
        (tested without the device's kind, so a superset). Every other analog value or
        feedback is dropped by :meth:`process` whichever lane it takes, so the priority
        lane holds all that folds into venue alarms and the fault lane all that folds
        into device alarms: the two never meet in one alarm."""
        kind = event.kind
        if kind in VENUE_OPENING or kind == EventKind.RESET:
            return True
        if kind not in QUIET_CONTEXT:
            return False
        rules = self._rules if self._rules is not None else self.base_rules
        if self._loose is None or self._loose[0] is not rules:
            loose = [_any_device_kind(m) for m in self._watched_matchers(rules)]
            self._loose = (rules, loose)
        line = HistoryLine(str(kind), "", event.device_id, "", "", event.values)
        return any(matcher.matches(line) for matcher in self._loose[1])

    def _line_kinds(self, rules: list[Rule]) -> frozenset[str]:
        """Alarm kinds some enabled rule of ``rules`` reads history lines for (cached):
        the other alarms' outcomes do not depend on their lines."""
        if self._reading is None or self._reading[0] is not rules:
            kinds: set[str] = set()
            for rule in rules:
                if rule.enabled and (rule.when.count is not None or rule.when.all_of):
                    kinds.update(rule.when.alarm_kinds or list(AlarmKind))
            self._reading = (rules, frozenset(str(k) for k in kinds))
        return self._reading[1]

    def _watched_matchers(self, rules: list[Rule]) -> list[EventMatch]:
        """Every event condition of the enabled rules (cached per rule list)."""
        if self._matchers is None or self._matchers[0] is not rules:
            matchers: list[EventMatch] = []
            for rule in rules:
                if rule.enabled:
                    matchers.extend(rule.when.all_of)
                    if rule.when.count is not None:
                        matchers.append(rule.when.count.match)
            self._matchers = (rules, matchers)
        return self._matchers[1]

    # The batch ---------------------------------------------------------------------------

    def process(self, session: Session, events: Sequence[DeviceEvent]) -> BatchResult:
        """Fold and correlate ``events`` in the caller's transaction.

        New rows (feed entries, timers, notifications) are inserted in bulk, one statement
        per table, and the history lines the batch created or changed are upserted in one
        statement, before this returns. A caller that rolls the transaction back calls
        :meth:`rollback` (one that commits, :meth:`commit`; not calling it is the same).
        """
        self._uncommitted.clear()
        try:
            with session.no_autoflush, bulk.collect(session):
                return self._process(session, events)
        except BaseException:
            self.rollback()
            raise

    def prefetch(self, session: Session, events: Sequence[DeviceEvent]) -> None:
        """Read what :meth:`process` of ``events`` will need (venues, devices, rules, the
        history of the open alarms it touches) in a read-only transaction of the caller,
        so that on SQLite the write transaction that follows does not read it while it
        holds the database's one write lock. Optional: :meth:`process` checks and loads
        again whatever changed meanwhile."""
        relevant = [(e, t) for e in events if (t := target_of(e)) is not None]
        if not relevant:
            return
        self.directory.venues(session, {e.venue_id for e, _ in relevant if e.venue_id is not None})
        self.directory.devices(
            session, {e.device_id for e, _ in relevant if e.device_id is not None}
        )
        self.rules(session)
        self._states_for(session, self._open_counts(session, {t.key for _, t in relevant}))

    def _process(self, session: Session, events: Sequence[DeviceEvent]) -> BatchResult:
        result = BatchResult(events=len(events))
        relevant = [(e, t) for e in events if (t := target_of(e)) is not None]
        result.relevant = len(relevant)
        if not relevant:
            return result
        now = self.clock()
        venues = self.directory.venues(
            session, {e.venue_id for e, _ in relevant if e.venue_id is not None}
        )
        devices = self.directory.devices(
            session, {e.device_id for e, _ in relevant if e.device_id is not None}
        )
        self.use_policy_in_force(session)
        rules = self.rules(session)
        watched = self._watched_matchers(rules)
        relevant = [
            (e, t)
            for e, t in relevant
            if e.kind not in QUIET_CONTEXT or _watched(e, devices, watched)
        ]
        if not relevant:
            return result
        policy = self.current_policy(session)
        open_alarms = self._open_alarms(session, {t.key for _, t in relevant})
        states = self._states_for(
            session, {alarm.id: alarm.event_count for alarm in open_alarms.values()}
        )
        touched: dict[int, _Touch] = {}  # by id() of the alarm object
        assignments: list[tuple[DeviceEvent, Alarm]] = []
        window = policy.fold_window_s
        # the last event time of the stored alarms, set on them after the flush below (set
        # before, it would be one UPDATE per alarm there: ``write_folded`` writes it)
        last_event_at: dict[int, datetime] = {}
        for event, target in relevant:
            alarm = open_alarms.get(target.key)
            fold = alarm is not None and (
                (alarm.kind == AlarmKind.FAULT and alarm.status in FAULT_FOLDING)
                or folds(
                    alarm.status,
                    last_event_at.get(id(alarm), alarm.last_event_at),
                    event.occurred_at,
                    window,
                )
            )
            if not fold:
                if not target.opens:
                    continue
                alarm = self._new_alarm(event, target, venues, devices, now)
                session.add(alarm)
                open_alarms[target.key] = alarm
                touched[id(alarm)] = _Touch(
                    alarm, True, event.received_at, opening_kind=str(event.kind)
                )
            assert alarm is not None
            touch = touched.get(id(alarm))
            if touch is None:
                touch = touched[id(alarm)] = _Touch(
                    alarm, False, event.received_at, cleared_at=alarm.cleared_at
                )
            touch.first_received = min(touch.first_received, event.received_at)
            if touch.is_new:
                if event.occurred_at > alarm.last_event_at:
                    alarm.last_event_at = event.occurred_at
            elif event.occurred_at > last_event_at.get(id(alarm), alarm.last_event_at):
                last_event_at[id(alarm)] = event.occurred_at
            if target.kind == AlarmKind.FIRE and alarm.kind == AlarmKind.SUPERVISORY:
                alarm.kind = AlarmKind.FIRE.value
                touch.upgraded = not touch.is_new
            assignments.append((event, alarm))
        session.flush()  # ids of new alarms
        for touch in touched.values():
            if id(touch.alarm) in last_event_at:
                touch.alarm.last_event_at = last_event_at[id(touch.alarm)]
        for touch in touched.values():
            alarm = touch.alarm
            if touch.is_new:
                states[alarm.id] = self._states[alarm.id] = FoldState()
            previous = self._by_key.get(alarm.fold_key)
            if previous is not None and previous != alarm.id:
                self._states.pop(previous, None)  # that alarm closed: no more folding
            self._by_key[alarm.fold_key] = alarm.id
            self._uncommitted.add(alarm.id)
        changed: dict[int, LineState] = {}  # by id() of the line
        for event, alarm in assignments:
            self._apply_event(event, alarm, touched[id(alarm)], states[alarm.id], devices, changed)
        for touch in touched.values():  # one attribute change per alarm, not per event
            touch.alarm.event_count += touch.events
            if touch.cleared_changed:
                touch.alarm.cleared_at = touch.cleared_at
        write_lines(session.connection(), list(changed.values()))
        windows = self._windows(session, [t.alarm for t in touched.values()])
        orders: list[tuple[_Touch, str]] = []
        for touch in touched.values():
            alarm = touch.alarm
            venue = venues.get(alarm.venue_id) if alarm.venue_id is not None else None
            touch.venue = venue
            state = states[alarm.id]
            state.event_count = alarm.event_count
            if self._finish(session, touch, state, windows, rules, policy, now):
                orders.append((touch, WORK_ORDER_KIND.get(EventKind(touch.opening_kind), "fault")))
            (result.created if touch.is_new else result.updated).append(alarm.id)
        if orders:
            self._open_work_orders(session, orders, policy, now)
        # the counters and facts folding changed, in one statement (the flush writes the
        # alarms that also changed otherwise)
        write_folded(session, [touch.alarm for touch in touched.values()])
        return result

    def _open_work_orders(
        self,
        session: Session,
        orders: list[tuple[_Touch, str]],
        policy: Policy,
        now: datetime,
    ) -> None:
        """One work order per new fault alarm, assigned, with its reminder timer."""
        keys = {(t.alarm.venue_id, t.venue.jurisdiction_id if t.venue else None) for t, _ in orders}
        assignees = self.assignees.lookup(session, keys)
        rows: list[dict[str, Any]] = []
        for touch, kind in orders:
            key = (touch.alarm.venue_id, touch.venue.jurisdiction_id if touch.venue else None)
            assignee = assignees[key]
            rows.append(new_order_row(touch.alarm, kind, assignee, policy=policy, now=now))
        ids = (
            session.connection()
            .execute(
                insert(WORK_ORDERS_TABLE).returning(
                    WORK_ORDERS_TABLE.c.id, sort_by_parameter_order=True
                ),
                rows,
            )
            .scalars()
            .all()
        )
        for row, order_id in zip(rows, ids, strict=True):
            schedule(session, REMINDER, row["due_at"], now, work_order_id=order_id)

    def _open_alarms(self, session: Session, keys: set[str]) -> dict[str, Alarm]:
        found: dict[str, Alarm] = {}
        key_list = sorted(keys)
        for start in range(0, len(key_list), 500):
            for alarm in session.scalars(
                select(Alarm)
                .where(
                    Alarm.fold_key.in_(key_list[start : start + 500]),
                    Alarm.status != AlarmStatus.CLOSED.value,
                )
                .order_by(Alarm.id)
            ).all():
                found[alarm.fold_key] = alarm
        return found

    def _open_counts(self, session: Session, keys: set[str]) -> dict[int, int]:
        """Id → stored event count of the open alarm of each fold key in ``keys`` (the
        newest, as :meth:`_open_alarms`): what :meth:`_states_for` needs, read as columns
        instead of loading the alarms as objects."""
        found: dict[str, tuple[int, int]] = {}
        key_list = sorted(keys)
        connection = session.connection()
        for start in range(0, len(key_list), 500):
            for alarm_id, fold_key, event_count in connection.execute(
                _OPEN_COUNTS, {"keys": key_list[start : start + 500]}
            ):
                found[fold_key] = (alarm_id, event_count)
        return dict(found.values())

    def _new_alarm(
        self,
        event: DeviceEvent,
        target: FoldTarget,
        venues: dict[int, VenueInfo],
        devices: dict[int, DeviceInfo],
        now: datetime,
    ) -> Alarm:
        venue = venues.get(event.venue_id) if event.venue_id is not None else None
        device = devices.get(event.device_id) if event.device_id is not None else None
        per_device = target.kind == AlarmKind.FAULT
        return Alarm(
            kind=target.kind.value,
            status=AlarmStatus.NEW.value,
            fold_key=target.key,
            venue_id=event.venue_id,
            device_id=event.device_id if per_device else None,
            external_id=event.external_id if per_device else "",
            device_kind=(device.kind if device else "") if per_device else "",
            venue_name=venue.name if venue else "",
            venue_category=venue.category if venue else "",
            jurisdiction_path=(venue.jurisdiction_path if venue else event.jurisdiction_path),
            lon=venue.lon if venue else None,
            lat=venue.lat if venue else None,
            priority=0,
            first_event_kind=str(event.kind),
            opened_at=event.occurred_at,
            first_received_at=event.received_at,
            last_event_at=event.occurred_at,
            event_count=0,
            component_count=0,
            escalation_level="",
            suppressed=False,
            rule_hits=[],
            updated_at=now,
        )

    def _apply_event(
        self,
        event: DeviceEvent,
        alarm: Alarm,
        touch: _Touch,
        state: FoldState,
        devices: dict[int, DeviceInfo],
        changed: dict[int, LineState],
    ) -> None:
        key = source_key(event)
        line = state.lines.get(key)
        if line is None:
            device = devices.get(event.device_id) if event.device_id is not None else None
            line = LineState.from_event(
                alarm.id,
                key,
                event,
                device.kind if device else str(event.values.get("device_kind", "")),
            )
            state.add(line)
            if event.kind not in VENUE_CONTEXT:
                touch.new_lines = True  # a new detector/fault; context lines are quiet
        else:
            line.count += 1
            line.last_event_id = event.event_id
            if event.occurred_at >= line.last_at:
                line.last_at = event.occurred_at
                if event.values != line.values:
                    line.values = dict(event.values)
                    state.version += 1  # what rules see changed
        changed[id(line)] = line
        touch.events += 1
        if alarm.kind == AlarmKind.FAULT:
            if event.kind in DEVICE_CONTEXT:
                touch.cleared_at = event.occurred_at
                touch.cleared_changed = True
            elif event.kind in DEVICE_OPENING and touch.cleared_at is not None:
                touch.cleared_at = None
                touch.cleared_changed = True

    def _windows(self, session: Session, alarms: list[Alarm]) -> list[MaintenanceWindow]:
        venue_ids = sorted({a.venue_id for a in alarms if a.venue_id is not None})
        if not venue_ids:
            return []
        earliest = min(a.opened_at for a in alarms)
        latest = max(a.last_event_at for a in alarms)
        found: list[MaintenanceWindow] = []
        for start in range(0, len(venue_ids), 500):
            found.extend(
                session.scalars(
                    _WINDOWS,
                    {
                        "venues": venue_ids[start : start + 500],
                        "latest": latest,
                        "earliest": earliest,
                    },
                )
            )
        return found

    @staticmethod
    def _window_for(
        alarm: Alarm, devices: set[int | None], windows: list[MaintenanceWindow]
    ) -> MaintenanceWindow | None:
        for window in windows:
            if window.venue_id != alarm.venue_id:
                continue
            if not (window.starts_at <= alarm.last_event_at and window.ends_at >= alarm.opened_at):
                continue
            if window.device_id is None or devices <= {window.device_id}:
                return window
        return None

    def _finish(
        self,
        session: Session,
        touch: _Touch,
        state: FoldState,
        windows: list[MaintenanceWindow],
        rules: list[Rule],
        policy: Policy,
        now: datetime,
    ) -> bool:
        """Rules, feed entry, timers; True when the alarm needs a work order."""
        alarm = touch.alarm
        venue = touch.venue
        if alarm.kind == AlarmKind.FIRE:
            alarm.component_count = len(state.fire_components)
        else:
            alarm.component_count = len(state.components)
        window = self._window_for(alarm, state.devices, windows)
        outcomes = self._outcomes(alarm, venue, state, window, rules)
        hits = sorted({o.rule for o in outcomes})
        hits_changed = hits != list(alarm.rule_hits or [])
        if hits_changed:
            alarm.rule_hits = hits
        priority = sum(o.by for o in outcomes if o.action == "raise_priority")
        priority_changed = priority != alarm.priority
        if priority_changed:
            alarm.priority = priority
        levels = policy.escalation_levels
        if touch.is_new:
            if alarm.kind != AlarmKind.FAULT:
                alarm.escalation_level = levels[0]
            emit(session, alarm, "alarm.new", now, latency_ref=touch.first_received.isoformat())
            if alarm.kind != AlarmKind.FAULT:
                notification = {
                    "alarm_id": alarm.id,
                    "kind": "alarm",
                    "level": levels[0],
                    "target_path": level_path(alarm.jurisdiction_path, levels[0]),
                    "at": now,
                    "payload": {
                        "alarm_id": alarm.id,
                        "kind": alarm.kind,
                        "venue": alarm.venue_name,
                        "priority": alarm.priority,
                    },
                }
                if not bulk.queue(session, NOTIFICATIONS_TABLE, notification):
                    session.add(AlarmNotification(**notification))
        elif (
            touch.new_lines
            or touch.upgraded
            or touch.cleared_changed
            or priority_changed
            or hits_changed
        ):
            emit(session, alarm, "alarm.updated", now, latency_ref=touch.first_received.isoformat())
        self._decide_by_rules(session, alarm, outcomes, window, policy, now)
        if touch.is_new and alarm.status in UNDECIDED:
            tags = venue.tags if venue else frozenset()
            schedule_alarm_timers(session, alarm, policy, now, tags)
            return alarm.kind == AlarmKind.FAULT
        elif touch.upgraded and alarm.status in UNDECIDED:
            from datetime import timedelta

            tags = venue.tags if venue else frozenset()
            timeout = policy.verify_timeout_for(alarm.venue_category, tags)
            schedule(
                session,
                AUTO_FORWARD,
                touch.first_received + timedelta(seconds=timeout),
                now,
                alarm_id=alarm.id,
                timeout_s=timeout,
            )
        return False

    def _outcomes(
        self,
        alarm: Alarm,
        venue: VenueInfo | None,
        state: FoldState,
        window: MaintenanceWindow | None,
        rules: list[Rule],
    ) -> list[Outcome]:
        """The rules' outcomes for the alarm, evaluated again only when what they look at
        changed (a new line or new values, the kind, the venue, the window, the rules)."""
        tags = venue.tags if venue else frozenset()
        reason = window.reason if window is not None else None
        reads_lines = alarm.kind in self._line_kinds(rules)
        version = state.version if reads_lines else -1
        key = (version, alarm.kind, alarm.venue_category, tags, reason)
        if state.outcome_key != key or state.outcome_rules is not rules:
            facts = AlarmFacts(
                alarm_kind=alarm.kind,
                venue_category=alarm.venue_category,
                venue_tags=tags,
                lines=state.history() if reads_lines else [],
                maintenance_reason=reason,
            )
            state.outcomes = evaluate(rules, facts)
            state.outcome_key = key
            state.outcome_rules = rules  # held, so a new list is never mistaken for it
        return state.outcomes

    def _decide_by_rules(
        self,
        session: Session,
        alarm: Alarm,
        outcomes: list[Outcome],
        window: MaintenanceWindow | None,
        policy: Policy,
        now: datetime,
    ) -> None:
        if alarm.status not in UNDECIDED:
            return
        suppress = next((o for o in outcomes if o.action == "suppress"), None)
        if suppress is not None and alarm.status == AlarmStatus.NEW and window is not None:
            alarm.suppressed = True
            decide(
                session,
                alarm,
                "false_alarm",
                method="rule",
                actor=f"rule:{suppress.rule}",
                now=now,
                policy=policy,
                reason=window.reason,
                note=f"inside {window.reason} window {window.id}"
                + (f" ({window.note})" if window.note else ""),
            )
            return
        confirm = next((o for o in outcomes if o.action == "confirm"), None)
        if confirm is not None and alarm.kind in (AlarmKind.FIRE, AlarmKind.SUPERVISORY):
            decide(
                session,
                alarm,
                "fire",
                method="rule",
                actor=f"rule:{confirm.rule}",
                now=now,
                policy=policy,
                note=f"rule {confirm.rule} matched",
            )
