// Monitoring centre: the live alarm feed, the map of venues by three-colour status, and the
// alarm detail with its history, device states, pre-plan data and verification actions.

import { alerts, api, can, categoryName, fail, i18n, label, live, t, toast } from "../ctx";
import { h, replace, restoreFields, snapshotFields } from "../dom";
import { fieldText } from "../servertext";
import { LINK_ALERT, linkAlertKey, linkAlertParams } from "../linkalert";
import type { LiveEvent, LiveStatus } from "../live";
import { CityMap } from "../map";
import { formatDateTime, formatTime } from "../time";
import { checkPostPanel } from "./checkpost";
import { throttle } from "../alarmlist";
import { alarmListView } from "./alarmlistview";
import { badge, busy, dl, field, section, select, table } from "./common";
import type { AlarmKind, AlarmOut, AlarmStatus, FalseReason } from "../generated/api";
import { FalseReasonValues } from "../generated/enums";

export interface Alarm {
  alarm_id: number;
  kind: AlarmKind;
  status: AlarmStatus;
  priority?: number;
  venue_id: number | null;
  venue_name: string | null;
  venue_category: string | null;
  device_kind?: string | null;
  lon: number | null;
  lat: number | null;
  opened_at: string | null;
  last_event_at?: string | null;
  event_count?: number;
  forwarded?: boolean;
  false_reason?: FalseReason | null;
  escalation_level?: AlarmOut["escalation_level"];
  [key: string]: unknown;
}

const OPEN = new Set<AlarmStatus>(["new", "acknowledged", "verifying", "confirmed"]);
const UNDECIDED = new Set<AlarmStatus>(["new", "acknowledged", "verifying"]);

export function mountMonitor(root: HTMLElement, rest: string[]): () => void {
  let selected: number | null = rest[0] === "alarm" ? Number(rest[1]) : null;
  // The list holds still in a storm: keyed rows, one draw per frame (see ../alarmlist).
  const view = alarmListView<Alarm>({ onOpen: (id) => select_(id), onReload: () => void loadList(), onOlder: (before) => void loadList(before) });
  const alarms = view.list.alarms;
  let centred: number | null = null;
  const statusBadge = h("span", { class: "feed-status", "data-testid": "feed-status", role: "status" }, t("feed.connecting"));
  const banner = h("div", { class: "fire-banner", role: "alert", "data-testid": "fire-banner", hidden: true });
  const detail = h("aside", { class: "panel detail", "aria-label": t("monitor.detail"), "data-testid": "alarm-detail" }, h("p", { class: "muted" }, t("monitor.pick")));
  const mapEl = h("div", { class: "map", id: "monitor-map", "data-testid": "map" });
  const checkPost = can("devices:command") ? checkPostPanel() : null;
  root.append(
    h(
      "div",
      { class: "layout-3" },
      h(
        "aside",
        { class: "panel list" },
        h("div", { class: "panel-head" }, h("h2", null, t("monitor.alarms")), statusBadge),
        view.el,
        checkPost?.el ?? null,
      ),
      h("div", { class: "map-col" }, banner, mapEl),
      detail,
    ),
  );
  const map = new CityMap(mapEl, { view: "monitor", onVenueClick: (p) => {
    const open = [...alarms.values()].find((a) => a.venue_id === p.id && OPEN.has(a.status));
    if (open) select_(open.alarm_id);
  } });

  /** The markers and the venue colours follow the list at most every 2 s and 10 s in a storm. */
  const drawMarkersSoon = throttle(() => drawMarkers(), 2000);
  const refreshVenuesSoon = throttle(() => map.refreshVenues(), 10_000);
  function renderList(): void {
    view.setSelected(selected);
    drawMarkersSoon();
  }

  function drawMarkers(): void {
    map.clearOverlay();
    for (const a of alarms.values()) {
      if (a.lon === null || a.lat === null || !OPEN.has(a.status) || a.kind === "fault") continue;
      map.marker(a.lon, a.lat, {
        colour: a.kind === "fire" ? "#ff1744" : "#ff9100",
        radius: a.alarm_id === selected ? 10 : 8,
        pulse: a.kind === "fire" && UNDECIDED.has(a.status),
        tooltip: `${label("alarmKind", a.kind)} · ${a.venue_name ?? ""}`,
        onClick: () => select_(a.alarm_id),
      });
    }
  }

  function upsert(a: Alarm): void {
    view.list.upsert(a);
  }

  async function loadList(before?: number): Promise<void> {
    try {
      const params = { ...view.serverParams(), ...(before === undefined ? {} : { before }) };
      const page = await api.get<{ items: Alarm[]; next_before: number | null }>("/alarms", params);
      page.items.forEach(upsert);
      view.setOlder(page.next_before);
      renderList();
    } catch (err) {
      fail(err);
    }
  }

  function alertFire(a: Alarm): void {
    const key = `alarm:${a.alarm_id}`;
    alerts.raise({ key, title: t("monitor.newFire"), body: a.venue_name ?? "" });
    banner.hidden = false;
    banner.dataset.alarmId = String(a.alarm_id);
    replace(
      banner,
      h("strong", null, t("monitor.newFire")),
      " ",
      a.venue_name ?? "",
      " ",
      h("button", { type: "button", class: "btn btn-light", "data-testid": "banner-open", onclick: () => { banner.hidden = true; alerts.ack(key); select_(a.alarm_id); } }, t("monitor.open")),
      h("button", { type: "button", class: "btn btn-ghost", "data-testid": "banner-ack", "aria-label": t("alerts.ack"), onclick: () => { banner.hidden = true; alerts.ack(key); } }, "×"),
    );
    document.body.classList.add("flash");
    setTimeout(() => document.body.classList.remove("flash"), 2500);
  }

  function onEvent(ev: LiveEvent): void {
    if (ev.type.startsWith("alarm.") && typeof ev.alarm_id === "number") {
      const isNew = !alarms.has(ev.alarm_id);
      upsert(ev as unknown as Alarm);
      if (ev.type === "alarm.new" && ev.kind === "fire" && isNew) alertFire(ev as unknown as Alarm);
      renderList();
      refreshVenuesSoon();
      if (ev.alarm_id === selected) void showDetail(ev.alarm_id);
    } else if (ev.type.startsWith("task.") && ev.alarm_id === selected && selected !== null) {
      void showDetail(selected);
      if (ev.type === "task.done") toast(t("monitor.taskDone"), "ok");
    } else {
      const key = linkAlertKey(ev);
      if (key === null) return;
      const params = linkAlertParams(ev);
      if (ev.type === LINK_ALERT) {
        alerts.raise({ key, title: t("monitor.linkAlert", params), body: "" });
        toast(t("monitor.linkAlert", params), "error");
      } else {
        alerts.ack(key);
        toast(t("monitor.linkAlertCleared", params), "ok");
      }
    }
  }

  /** After a reconnection or a wake: reload the list; new fires found then still alert. */
  async function resync(): Promise<void> {
    const before = new Set(alarms.keys());
    await loadList();
    for (const a of alarms.values()) {
      if (!before.has(a.alarm_id) && a.kind === "fire" && UNDECIDED.has(a.status) && initialLoaded) alertFire(a);
    }
    if (selected !== null) void showDetail(selected);
  }

  let initialLoaded = false;
  const offEvents = live.subscribe(onEvent);
  const offResync = live.onResync(() => void resync());
  const offStatus = live.onStatus((s: LiveStatus) => {
    statusBadge.textContent = t(`feed.${s}`);
    statusBadge.className = `feed-status feed-${s}`;
    statusBadge.dataset.state = s;
  });
  void loadList().then(() => {
    initialLoaded = true;
    if (selected !== null) void showDetail(selected);
  });

  function select_(id: number): void {
    if (location.hash !== `#/monitor/alarm/${id}`) location.hash = `#/monitor/alarm/${id}`;
    else void showDetail(id);
  }

  const onSub = (ev: Event) => {
    const r = (ev as CustomEvent<string[]>).detail;
    if (r[0] === "alarm" && r[1]) void showDetail(Number(r[1]));
  };
  window.addEventListener("firegrid:subroute", onSub);

  async function act(button: HTMLButtonElement, path: string, body?: unknown, done?: string): Promise<void> {
    if (selected === null) return;
    const id = selected;
    await busy(button, async () => {
      try {
        await api.post(`/alarms/${id}/${path}`, body);
        toast(done ?? t("monitor.done"), "ok");
        await showDetail(id, false);
      } catch (err) {
        fail(err);
      }
    });
  }

  function actions(a: Alarm): HTMLElement | null {
    if (!can("alarms:act")) return null;
    const box = h("div", { class: "actions", "data-testid": "alarm-actions" });
    const btn = (action: string, text: string, onclick: (b: HTMLButtonElement) => void, cls = "btn") => {
      const b: HTMLButtonElement = h("button", { type: "button", class: cls, "data-action": action }, text);
      b.addEventListener("click", () => onclick(b));
      return b;
    };
    if (a.status === "new") box.append(btn("acknowledge", t("actions.acknowledge"), (b) => void act(b, "acknowledge", undefined, t("actions.acknowledged"))));
    if (a.status === "new" || a.status === "acknowledged") box.append(btn("verify", t("actions.verify"), (b) => void act(b, "verify", {})));
    if (UNDECIDED.has(a.status)) {
      const outcome = select("call-outcome", [["no_answer", label("callOutcome", "no_answer")], ["fire", label("callOutcome", "fire")], ["false_alarm", label("callOutcome", "false_alarm")]]);
      const callReason = select("call-reason", FalseReasonValues.map((r) => [r, label("falseReason", r)]), "unknown");
      const callNote = h("input", { id: "call-note", placeholder: t("actions.notePlaceholder") });
      const reasonField = field(t("actions.reason"), callReason);
      reasonField.hidden = true;
      outcome.addEventListener("change", () => (reasonField.hidden = outcome.value !== "false_alarm"));
      box.append(
        h(
          "fieldset",
          { class: "inline-form" },
          h("legend", null, t("actions.call")),
          field(t("actions.outcome"), outcome),
          reasonField,
          field(t("actions.note"), callNote),
          btn("call", t("actions.recordCall"), (b) =>
            void act(b, "calls", { outcome: outcome.value, reason: outcome.value === "false_alarm" ? callReason.value : null, note: callNote.value }),
          ),
        ),
      );
      box.append(btn("task", t("actions.sendGridWorker"), (b) => void act(b, "tasks", { note: "" }, t("actions.taskSent"))));
      const forward = h("input", { type: "checkbox", id: "confirm-forward", checked: true });
      box.append(
        h(
          "fieldset",
          { class: "inline-form" },
          h("legend", null, t("actions.decide")),
          h("label", { class: "check", for: "confirm-forward" }, forward, " ", t("actions.forwardToo")),
          btn("confirm", t("actions.confirmFire"), (b) => void act(b, "confirm", { forward: forward.checked, note: "" }, t("actions.confirmed")), "btn btn-danger"),
        ),
      );
      const reason = select("false-reason", FalseReasonValues.map((r) => [r, label("falseReason", r)]), "unknown");
      const note = h("input", { id: "false-note", placeholder: t("actions.notePlaceholder") });
      box.append(
        h(
          "fieldset",
          { class: "inline-form" },
          h("legend", null, t("actions.falseAlarm")),
          field(t("actions.reason"), reason),
          field(t("actions.note"), note),
          btn("false", t("actions.declareFalse"), (b) => void act(b, "false", { reason: reason.value, note: note.value })),
          btn("fault", t("actions.declareFault"), (b) => void act(b, "fault", { note: note.value })),
        ),
      );
    }
    if (a.status === "confirmed" && !a.forwarded) box.append(btn("forward", t("actions.forward"), (b) => void act(b, "forward", undefined, t("actions.forwarded")), "btn btn-danger"));
    if (a.status === "confirmed" || a.status === "false_alarm" || a.status === "fault") box.append(btn("close", t("actions.close"), (b) => void act(b, "close", {})));
    return box.childElementCount ? box : null;
  }

  /** Show alarm `id`; `keepInput`: carry what the operator has entered across a live update. */
  async function showDetail(id: number, keepInput = true): Promise<void> {
    selected = id;
    if (banner.dataset.alarmId === String(id)) banner.hidden = true;
    renderList();
    try {
      const [a, dossier] = await Promise.all([
        api.get<Alarm & Record<string, unknown[]>>(`/alarms/${id}`),
        api.get<Record<string, unknown>>(`/alarms/${id}/venue`).catch(() => ({}) as Record<string, unknown>),
      ]);
      if (selected !== id) return;
      upsert(a);
      renderList();
      if (a.lon !== null && a.lat !== null && centred !== id) {
        centred = id;
        map.flyTo(a.lon, a.lat, 14);
      }
      const venue = (dossier.venue ?? {}) as Record<string, unknown>;
      const buildings = (dossier.buildings ?? []) as Record<string, unknown>[];
      const devices = (dossier.devices ?? []) as { code: string; kind: string; install_location?: string; state: Record<string, unknown> | null }[];
      const events = (a.events ?? []) as Record<string, unknown>[];
      const transitions = (a.transitions ?? []) as Record<string, unknown>[];
      const tasks = (a.tasks ?? []) as Record<string, unknown>[];
      const loc = i18n.locale;
      const opened = detail.dataset.alarmId !== String(id);
      const entered = keepInput && !opened ? snapshotFields(detail) : null;
      detail.dataset.alarmId = String(id);
      replace(
        detail,
        h(
          "div",
          { class: "detail-head" },
          h("h2", { id: "alarm-title" }, `${label("alarmKind", a.kind)} #${a.alarm_id}`),
          badge("alarmStatus", a.status, "big"),
          a.forwarded ? badge("flag", "forwarded") : null,
        ),
        dl([
          [t("fields.venue"), a.venue_name],
          [t("fields.category"), categoryName(a.venue_category)],
          [t("fields.address"), (venue.address as string) ?? null],
          [t("fields.openedAt"), formatDateTime(a.opened_at, loc)],
          [t("fields.events"), String(a.event_count ?? events.length)],
          [t("fields.falseReason"), a.false_reason ? label("falseReason", a.false_reason) : undefined],
        ]),
        actions(a),
        section(
          t("monitor.events"),
          table(
            [t("fields.time"), t("fields.event"), t("fields.device"), t("fields.component"), t("fields.count")],
            events.map((e) => [formatDateTime(e.first_at as string, loc), label("eventKind", e.kind as string), label("deviceKind", e.device_kind as string), [e.zone, e.description].filter(Boolean).join(" ") || (e.component ? JSON.stringify(e.component) : ""), String(e.count ?? 1)]),
            { testid: "alarm-events" },
          ),
        ),
        section(
          t("monitor.handling"),
          table(
            [t("fields.time"), t("fields.from"), t("fields.to"), t("fields.actor"), t("fields.cause")],
            transitions.map((x) => [formatDateTime(x.at as string, loc), label("alarmStatus", x.from as string), label("alarmStatus", x.to as string), x.actor as string, x.cause_code ? fieldText(t, x, "cause") : [x.cause, x.reason ? label("falseReason", x.reason as string) : ""].filter(Boolean).join(" · ")]),
            { testid: "alarm-transitions" },
          ),
        ),
        tasks.length
          ? section(
              t("monitor.tasks"),
              table(
                [t("fields.task"), t("fields.status"), t("fields.due"), t("fields.result"), t("fields.note")],
                tasks.map((x) => [`#${x.id}`, label("taskStatus", x.status as string), formatTime(x.due_at as string, loc), label("callOutcome", x.result as string), x.note as string]),
                { testid: "alarm-tasks" },
              ),
            )
          : null,
        section(
          t("monitor.devices"),
          table(
            [t("fields.device"), t("fields.kind"), t("fields.location"), t("fields.online"), t("fields.state")],
            devices.map((d) => [
              d.code,
              label("deviceKind", d.kind),
              d.install_location ?? "",
              d.state ? (d.state.online ? t("common.yes") : t("common.no")) : "—",
              d.state ? [d.state.alarms ? t("monitor.inAlarm") : "", d.state.faults ? t("monitor.inFault") : "", d.state.battery_pct !== null && d.state.battery_pct !== undefined ? `🔋${d.state.battery_pct}%` : ""].filter(Boolean).join(" ") || t("monitor.normal") : "—",
            ]),
            { testid: "alarm-devices" },
          ),
        ),
        section(
          t("monitor.preplan"),
          dl([
            [t("fields.contact"), [venue.contact_name, venue.contact_phone].filter(Boolean).join(" ") || null],
            [t("fields.floors"), venue.floors as number],
            [t("fields.area"), venue.floor_area_m2 ? `${venue.floor_area_m2} m²` : null],
            [t("fields.occupancy"), venue.occupancy as number],
            [t("fields.nightOccupancy"), venue.night_occupancy as number],
            [t("fields.construction"), (venue.construction_class as string) ?? null],
          ]),
          buildings.length
            ? table(
                [t("fields.building"), t("fields.floorsAbove"), t("fields.floorsBelow"), t("fields.height"), t("fields.structure")],
                buildings.map((b) => [b.name as string, b.floors_above as number, b.floors_below as number, b.height_m as number, b.structure as string]),
              )
            : null,
        ),
      );
      if (entered) restoreFields(detail, entered);
      // on a phone the detail sits below the map and the list: bring it on screen when opened
      if (opened && window.matchMedia("(max-width: 760px)").matches) detail.scrollIntoView({ block: "start" });
    } catch (err) {
      fail(err);
    }
  }

  return () => {
    checkPost?.stop();
    offEvents();
    offResync();
    offStatus();
    window.removeEventListener("firegrid:subroute", onSub);
    map.destroy();
  };
}
