// The monitor's alarm list on screen: the filter bar, the keyed list (../alarmlist), paging,
// bulk acknowledgement of faults and CSV export. Clicks are delegated to the list and read the
// alarm id from the row actually clicked; the rows hold still while the pointer is over them.

import { api, can, fail, i18n, label, t, toast } from "../ctx";
import { debounce, download, h, replace } from "../dom";
import { bulkCandidates, DEFAULT_FILTER, KeyedAlarmList, type ListAlarm, type ListFilter, type ListState, type RowRenderer } from "../alarmlist";
import { formatTime } from "../time";
import { badge, select } from "./common";
import type { BulkAcknowledgeOut } from "../generated/api";

const STATUSES = ["open", "new", "acknowledged", "verifying", "confirmed", "false_alarm", "fault", "closed", "all"];
const SINCE_H: [string, number | null][] = [["any", null], ["1h", 1], ["24h", 24], ["7d", 168]];

export interface AlarmListView<A extends ListAlarm> {
  el: HTMLElement;
  list: KeyedAlarmList<HTMLLIElement, A>;
  setSelected(id: number | null): void;
  /** Server-side filters for the initial load and "load older" (type and open only). */
  serverParams(): Record<string, string | number | boolean>;
  setOlder(next: number | null): void;
}

export function alarmListView<A extends ListAlarm>(opts: { onOpen: (id: number) => void; onReload: () => void; onOlder: (before: number) => void }): AlarmListView<A> {
  let selected: number | null = null;
  let older: number | null = null;
  const checked = new Set<number>();
  const bulkAllowed = can("alarms:act");

  const ul = h("ul", { class: "alarm-list", "data-testid": "alarm-list", "aria-label": t("monitor.alarms") });
  const empty = h("p", { class: "muted empty", "data-testid": "alarm-list-empty" }, t("monitor.noAlarms"));
  const pendingBtn = h("button", { type: "button", class: "btn btn-light pending", "data-testid": "alarm-pending", onclick: () => list.release() }, t("alarmList.pending", { n: 0 }));
  const pageInfo = h("span", { class: "muted", "data-testid": "alarm-page" });
  const prev = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "alarm-prev", onclick: () => list.setPage(list.page - 1) }, t("alarmList.prev"));
  const next = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "alarm-next", onclick: () => list.setPage(list.page + 1) }, t("alarmList.next"));
  const olderBtn = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "alarm-older", hidden: true, onclick: () => older !== null && opts.onOlder(older) }, t("alarmList.older"));
  const bulkBtn = h("button", { type: "button", class: "btn", "data-testid": "bulk-ack", disabled: true, onclick: () => void bulkAcknowledge() }, t("alarmList.bulkAck", { n: 0 }));
  const pickAll = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "bulk-pick", onclick: () => pickPage() }, t("alarmList.pickFaults"));

  const renderer: RowRenderer<HTMLLIElement> = {
    signature: (a) => `${a.kind}|${a.status}|${a.venue_name ?? ""}|${a.opened_at ?? a.last_event_at ?? ""}|${a.priority ?? 0}|${i18n.locale}`,
    create: (a) => {
      const li = h("li", { "data-key": a.alarm_id });
      fill(li, a);
      return li;
    },
    update: (li, a) => fill(li, a),
  };

  function fill(li: HTMLLIElement, a: ListAlarm): void {
    const box =
      bulkAllowed && a.kind === "fault" && a.status === "new"
        ? h("input", { type: "checkbox", class: "bulk-check", "data-bulk-id": a.alarm_id, checked: checked.has(a.alarm_id), "aria-label": t("alarmList.pick", { id: a.alarm_id }) })
        : null;
    if (!box) checked.delete(a.alarm_id);
    // a row redrawn while it has the keyboard focus (opened with Enter) keeps the focus
    const focused = li.contains(document.activeElement) ? (document.activeElement as HTMLElement).classList.contains("bulk-check") ? "input.bulk-check" : "button.alarm-item" : null;
    replace(
      li,
      box,
      h(
        "button",
        {
          type: "button",
          class: `alarm-item kind-${a.kind} status-${a.status}${(a.priority ?? 0) > 0 ? " raised" : ""}${a.alarm_id === selected ? " selected" : ""}`,
          "data-alarm-id": a.alarm_id,
          "aria-pressed": a.alarm_id === selected ? "true" : "false",
        },
        h("span", { class: "alarm-kind" }, label("alarmKind", a.kind)),
        h("span", { class: "alarm-venue" }, a.venue_name ?? t("monitor.unknownVenue")),
        h("span", { class: "alarm-meta" }, badge("alarmStatus", a.status), " ", formatTime(a.opened_at ?? a.last_event_at ?? null, i18n.locale)),
      ),
    );
    if (focused) li.querySelector<HTMLElement>(focused)?.focus({ preventScroll: true });
  }

  function onState(s: ListState): void {
    empty.hidden = s.total > 0;
    pendingBtn.classList.toggle("none", s.pending === 0);
    pendingBtn.disabled = s.pending === 0;
    pendingBtn.textContent = t("alarmList.pending", { n: s.pending });
    pageInfo.textContent = t("alarmList.page", { page: s.page + 1, pages: s.pages, total: s.total });
    prev.disabled = s.page === 0;
    next.disabled = s.page + 1 >= s.pages;
    refreshBulk();
  }

  const list = new KeyedAlarmList<HTMLLIElement, A>(
    { insertBefore: (row, before) => ul.insertBefore(row, before), removeRow: (row) => row.remove() },
    renderer,
    50,
    undefined,
    onState,
  );

  // Clicks: the row actually under the pointer, by its own id.
  ul.addEventListener("click", (ev) => {
    const target = ev.target as HTMLElement;
    const box = target.closest<HTMLInputElement>("input.bulk-check");
    if (box) {
      const id = Number(box.dataset.bulkId);
      if (box.checked) checked.add(id);
      else checked.delete(id);
      refreshBulk();
      return;
    }
    const item = target.closest<HTMLElement>("button.alarm-item");
    if (item?.dataset.alarmId) opts.onOpen(Number(item.dataset.alarmId));
  });
  // Held while the pointer is on the list, or while the keyboard moves through it (a focus
  // left behind by a mouse click does not hold it: the list would never update again).
  const keyboardInside = () => ul.querySelector(":focus-visible") !== null;
  ul.addEventListener("pointerenter", () => list.hold(true));
  ul.addEventListener("pointerleave", () => list.hold(keyboardInside()));
  ul.addEventListener("focusin", () => {
    if (keyboardInside()) list.hold(true);
  });
  ul.addEventListener("focusout", (ev) => {
    if (!ul.contains((ev as FocusEvent).relatedTarget as Node | null) && !ul.matches(":hover")) list.hold(false);
  });

  function refreshBulk(): void {
    for (const id of [...checked]) {
      const a = list.alarms.get(id);
      if (!a || a.kind !== "fault" || a.status !== "new") checked.delete(id);
    }
    bulkBtn.textContent = t("alarmList.bulkAck", { n: checked.size });
    bulkBtn.disabled = checked.size === 0;
  }

  function pickPage(): void {
    const onPage = list.visibleIds().map((id) => list.alarms.get(id)).filter((a): a is A => a !== undefined);
    for (const id of bulkCandidates(onPage)) checked.add(id);
    for (const box of ul.querySelectorAll<HTMLInputElement>("input.bulk-check")) box.checked = checked.has(Number(box.dataset.bulkId));
    refreshBulk();
  }

  async function bulkAcknowledge(): Promise<void> {
    const ids = [...checked];
    if (!ids.length) return;
    bulkBtn.disabled = true;
    try {
      const body = await api.post<BulkAcknowledgeOut>("/alarms/bulk-acknowledge", { alarm_ids: ids });
      for (const r of body.results) {
        checked.delete(r.alarm_id);
        const a = list.alarms.get(r.alarm_id);
        if (a && r.status) list.upsert({ ...a, status: r.status });
      }
      const refused = body.results.length - body.acknowledged;
      toast(t("alarmList.bulkDone", { n: body.acknowledged, refused }), refused ? "info" : "ok");
    } catch (err) {
      fail(err);
    } finally {
      refreshBulk();
    }
  }

  // Filters ---------------------------------------------------------------------------------
  const text = h("input", { id: "alarm-search", type: "search", placeholder: t("alarmList.search"), "aria-label": t("alarmList.search") });
  const area = select("alarm-area", [["", t("alarmList.allAreas")]], "", { "aria-label": t("alarmList.area") });
  const kind = select("alarm-kind", [["", t("alarmList.allKinds")], ...(["fire", "supervisory", "fault"] as const).map((k): [string, string] => [k, label("alarmKind", k)])], "", { "aria-label": t("alarmList.kind") });
  const status = select("alarm-status", STATUSES.map((s): [string, string] => [s, s === "open" || s === "all" ? t(`alarmList.status.${s}`) : label("alarmStatus", s)]), "open", { "aria-label": t("alarmList.statusLabel") });
  const since = select("alarm-since", SINCE_H.map(([k]): [string, string] => [k, t(`alarmList.since.${k}`)]), "any", { "aria-label": t("alarmList.sinceLabel") });

  function currentFilter(): ListFilter {
    const hours = SINCE_H.find(([k]) => k === since.value)?.[1] ?? null;
    return {
      ...DEFAULT_FILTER,
      text: text.value,
      area: area.value,
      kind: kind.value as ListFilter["kind"],
      status: status.value,
      sinceMs: hours === null ? null : Date.now() - hours * 3_600_000,
    };
  }
  const applyText = debounce(() => list.setFilter(currentFilter()), 200);
  text.addEventListener("input", applyText);
  area.addEventListener("change", () => list.setFilter(currentFilter()));
  since.addEventListener("change", () => list.setFilter(currentFilter()));
  for (const s of [kind, status]) {
    s.addEventListener("change", () => {
      list.setFilter(currentFilter());
      opts.onReload(); // the server pages differ: fetch the newest of the new selection
    });
  }
  void api
    .get<{ items: { path: string; name_zh?: string; name_en?: string; code: string }[] }>("/jurisdictions", { level: "town", limit: 100 })
    .then((page) => {
      for (const j of page.items) area.append(h("option", { value: j.path }, (i18n.locale === "en" ? j.name_en : j.name_zh) || j.code));
    })
    .catch(() => undefined); // a seat without places:read filters by text only

  function serverParams(): Record<string, string | number | boolean> {
    const f = currentFilter();
    const p: Record<string, string | number | boolean> = { limit: 200 };
    if (f.kind) p.kind = f.kind;
    if (f.status === "open") p.open = true;
    else if (f.status !== "all") p.status = f.status;
    return p;
  }

  async function exportCsv(button: HTMLButtonElement): Promise<void> {
    const f = currentFilter();
    const p: Record<string, string | number | boolean> = {};
    if (f.kind) p.kind = f.kind;
    if (f.status === "open") p.open = true;
    else if (f.status !== "all") p.status = f.status;
    if (f.area) p.area = f.area;
    if (f.text.trim()) p.q = f.text.trim();
    if (f.sinceMs !== null) p.since = new Date(f.sinceMs).toISOString();
    button.disabled = true;
    try {
      const csv = await api.get<string>("/alarms/export", p);
      download(`alarms-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "")}.csv`, "\ufeff" + csv, "text/csv");
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
    }
  }
  const exportBtn: HTMLButtonElement = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "alarm-export", onclick: () => void exportCsv(exportBtn) }, t("alarmList.export"));

  const el = h(
    "div",
    { class: "alarm-list-box" },
    h("div", { class: "alarm-filters", "data-testid": "alarm-filters" }, text, kind, status, area, since),
    pendingBtn, // its space is kept when there is nothing waiting: the rows never move down
    ul,
    empty,
    h("div", { class: "alarm-tools" }, bulkAllowed ? pickAll : null, bulkAllowed ? bulkBtn : null, exportBtn),
    h("div", { class: "alarm-pager" }, prev, pageInfo, next, olderBtn),
  );

  return {
    el,
    list,
    setSelected(id: number | null): void {
      if (id === selected) return;
      for (const old of [selected, id]) {
        if (old === null) continue;
        const button = list.rowOf(old)?.querySelector<HTMLElement>("button.alarm-item");
        if (!button) continue;
        const on = old === id;
        button.classList.toggle("selected", on);
        button.setAttribute("aria-pressed", on ? "true" : "false");
      }
      selected = id;
    },
    serverParams,
    setOlder(before: number | null): void {
      older = before;
      olderBtn.hidden = before === null;
    },
  };
}
