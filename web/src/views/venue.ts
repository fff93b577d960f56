// The venue manager's page: their venues; for the one chosen, its devices with status, open
// alarms (live), hazards with rectification deadlines, open work orders and the pre-plan.
// Read-only where the API is (a hazard is rectified and a plan proposed on their own pages).

import { api, categoryName, i18n, label, live, t } from "../ctx";
import { debounce, h, replace } from "../dom";
import type { AlarmPage, Counted_WorkOrderOut_, DeviceHealthPage, HazardPage, VenueOut } from "../generated/api";
import type { LiveEvent } from "../live";
import { formatDateTime } from "../time";
import { badge, dl, section, table } from "./common";
import { refuse } from "./admin_common";
import "./admin.css";

const when = (v: string | null | undefined) => (v ? formatDateTime(v, i18n.locale) : "");

export function mountVenue(root: HTMLElement, rest: string[]): () => void {
  let alive = true;
  let venues: VenueOut[] = [];
  let current: number | null = rest[0] ? Number(rest[0]) : null;
  const list = h("nav", { class: "venue-cards", "aria-label": t("venue.mine"), "data-testid": "venue-list" });
  const body = h("div", { "data-testid": "venue-detail" });
  const page = h("div", { class: "panel page", "data-testid": "venue-page" }, h("h2", null, t("venue.mine")), list, body);
  root.append(page);

  async function loadVenues(): Promise<void> {
    try {
      const r = await api.get<{ items: VenueOut[] }>("/venues", { limit: 200 });
      if (!alive) return;
      venues = r.items;
      if (current === null && venues.length) current = venues[0].id;
      drawList();
      await loadDetail();
    } catch (err) {
      refuse(err, "load");
    }
  }

  function drawList(): void {
    replace(
      list,
      venues.length
        ? venues.map((v) =>
            h(
              "a",
              { href: `#/venue/${v.id}`, class: "card-link", "aria-current": v.id === current ? "page" : undefined, "data-venue-id": v.id },
              h("strong", null, v.name),
              h("div", { class: "muted" }, `${categoryName(v.category)} · ${v.address}`),
            ),
          )
        : h("p", { class: "muted" }, t("venue.none")),
    );
  }

  async function loadDetail(): Promise<void> {
    const venue = venues.find((v) => v.id === current);
    if (!venue) {
      replace(body);
      return;
    }
    const id = venue.id;
    try {
      const [devices, alarms, hazards, orders] = await Promise.all([
        api.get<DeviceHealthPage>("/devices/health", { venue_id: id, limit: 500 }),
        api.get<AlarmPage>("/alarms", { venue_id: id, open: true, limit: 100 }),
        api.get<HazardPage>("/hazards", { venue_id: id, limit: 100 }),
        api.get<Counted_WorkOrderOut_>("/alarms/workorders", { status: "open", limit: 500 }),
      ]);
      if (!alive || current !== id) return;
      const myOrders = orders.items.filter((o) => o.venue_id === id);
      const codes = new Map(devices.items.map((d) => [d.device_id, d.code]));
      const deviceName = (deviceId: number | null, kind: string) => (deviceId !== null && codes.get(deviceId)) || label("deviceKind", kind);
      replace(
        body,
        section(
          venue.name,
          dl([
            [t("fields.address"), venue.address],
            [t("fields.category"), categoryName(venue.category)],
            [t("fields.floors"), String(venue.floors)],
            [t("fields.area"), `${Math.round(venue.floor_area_m2)} m²`],
            [t("fields.occupancy"), String(venue.occupancy)],
            [t("fields.nightOccupancy"), String(venue.night_occupancy)],
            [t("fields.contact"), [venue.contact_name, venue.contact_phone].filter(Boolean).join(" ")],
          ]),
          h("p", null, h("a", { href: `#/preplans/venue/${id}`, "data-testid": "venue-preplan" }, t("venue.preplan"))),
        ),
        section(
          t("venue.alarms", { n: alarms.items.length }),
          table(
            [t("fields.time"), t("fields.kind"), t("fields.status"), t("fields.device"), t("fields.events")],
            alarms.items.map((a) => [when(a.opened_at), badge("alarmKind", a.kind), badge("alarmStatus", a.status), deviceName(a.device_id, a.device_kind), a.event_count]),
            { testid: "venue-alarms", empty: t("venue.noAlarms"), rowAttrs: (i) => ({ "data-alarm-id": alarms.items[i]?.alarm_id, "data-kind": alarms.items[i]?.kind }) },
          ),
        ),
        section(
          t("venue.devices", { online: devices.counts.online, n: devices.counts.registered }),
          table(
            [t("fields.code"), t("fields.kind"), t("fields.state"), t("venue.lastSeen")],
            devices.items.map((d) => [d.code, label("deviceKind", d.kind), badge("deviceHealth", d.health), when(d.last_seen)]),
            { testid: "venue-devices", empty: t("venue.noDevices") },
          ),
        ),
        section(
          t("venue.hazards"),
          table(
            [t("venue.hazard"), t("venue.severity"), t("venue.found"), t("venue.deadline"), t("fields.status")],
            hazards.items.map((x) => [
              i18n.locale === "en" ? x.category_name_en : x.category_name_zh,
              label("hazardSeverity", x.severity),
              when(x.found_at),
              when(x.deadline),
              h("span", { class: x.overdue ? "badge badge-off" : "badge" }, label("hazardStatus", x.status)),
            ]),
            { testid: "venue-hazards", empty: t("venue.noHazards") },
          ),
        ),
        section(
          t("venue.workOrders"),
          table(
            [t("admin.work.id"), t("fields.kind"), t("admin.work.title"), t("fields.due")],
            myOrders.map((o) => [`#${o.id}`, label("workOrderKind", o.kind), o.title, h("span", { class: o.overdue ? "badge badge-off" : "" }, when(o.due_at))]),
            { testid: "venue-workorders", empty: t("venue.noWorkOrders") },
          ),
        ),
      );
    } catch (err) {
      refuse(err, "load");
    }
  }

  const refresh = debounce(() => void loadDetail(), 200);
  const off = live.subscribe((ev: LiveEvent) => {
    if (ev.type.startsWith("alarm.") || ev.type.startsWith("workorder.")) refresh();
  });
  const offResync = live.onResync(() => refresh());
  const onSub = (ev: Event) => {
    const r = (ev as CustomEvent<string[]>).detail;
    current = r[0] ? Number(r[0]) : venues[0]?.id ?? null;
    drawList();
    void loadDetail();
  };
  window.addEventListener("firegrid:subroute", onSub);
  void loadVenues();
  return () => {
    alive = false;
    off();
    offResync();
    window.removeEventListener("firegrid:subroute", onSub);
  };
}
