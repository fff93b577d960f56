// Crew (phone): my unit's incident, route and pre-plan, and the status buttons.

import { api, can, categoryName, fail, i18n, label, t, toast } from "../ctx";
import { h, replace } from "../dom";
import { CityMap } from "../map";
import { formatDateTime } from "../time";
import { badge, busy, dl, duration, field, km, section, select, table } from "./common";
import { drawPlan, type LivePlan, planCards } from "./plancard";
import type { Counted_UnitOut_, MyUnitOut, VehicleStatus } from "../generated/api";

// The statuses a crew sets itself (the dispatcher sets dispatched and out_of_service).
const STATUSES: VehicleStatus[] = ["en_route", "on_scene", "returning", "available_on_radio", "available_in_station"];
const STORED = "firegrid.crew.vehicle";

// MyUnitOut.plan is `dict[str, Any] | None` on the server (the pre-plans' live plan):
// narrowed to the console's LivePlan.
type CrewView = Omit<MyUnitOut, "plan"> & { plan?: LivePlan | null };

export function mountCrew(root: HTMLElement, rest: string[]): () => void {
  const page = h("div", { class: "phone-page", "data-testid": "crew-page" });
  const chooser = h("div", { class: "row" });
  const out = h("div", null);
  const mapEl = h("div", { class: "map map-small", id: "crew-map", "data-testid": "map" });
  page.append(h("h2", null, t("crew.title")), chooser, out, mapEl);
  root.append(page);
  const map = new CityMap(mapEl, { view: "crew", venues: false, hydrants: true, compact: true });
  let vehicleId: number | null = rest[0] ? Number(rest[0]) : Number(localStorage.getItem(STORED) ?? "") || null;

  async function buildChooser(): Promise<void> {
    let options: [string, string][] = [];
    if (can("incidents:read")) {
      try {
        const units = await api.get<Counted_UnitOut_>("/units");
        options = units.items.map((u) => [String(u.id), `${u.call_sign}${u.incident_id ? " · #" + u.incident_id : ""}`]);
      } catch {
        options = [];
      }
    }
    const control = options.length
      ? select("crew-vehicle", [["", t("crew.chooseUnit")], ...options], vehicleId ? String(vehicleId) : "")
      : h("input", { id: "crew-vehicle", inputmode: "numeric", value: vehicleId ? String(vehicleId) : "" });
    const go = h("button", { type: "button", class: "btn", id: "crew-open" }, t("crew.open"));
    go.addEventListener("click", () => {
      const v = Number((control as HTMLInputElement).value);
      if (v) location.hash = `#/crew/${v}`;
    });
    control.addEventListener("change", () => go.click());
    replace(chooser, field(t("crew.unit"), control), go);
  }

  async function show(id: number): Promise<void> {
    vehicleId = id;
    try {
      localStorage.setItem(STORED, String(id));
    } catch {
      /* private mode */
    }
    try {
      const view = await api.get<CrewView>(`/crew/vehicles/${id}`);
      const inc = view.incident;
      const buttons = h(
        "div",
        { class: "status-buttons", "data-testid": "crew-status" },
        STATUSES.map((s) => {
          const b = h("button", { type: "button", class: `btn btn-status${view.unit.status === s ? " current" : ""}`, "data-status": s, "aria-pressed": String(view.unit.status === s) }, label("unitStatus", s));
          b.addEventListener("click", () =>
            void busy(b, async () => {
              const body: Record<string, unknown> = { status: s };
              const pos = await position();
              if (pos) Object.assign(body, pos);
              try {
                await api.post(`/crew/vehicles/${id}/status`, body);
                toast(t("crew.statusSet", { status: label("unitStatus", s) }), "ok");
                await show(id);
              } catch (err) {
                fail(err);
              }
            }),
          );
          return b;
        }),
      );
      replace(
        out,
        h("p", null, h("strong", null, view.unit.call_sign), " ", badge("unitStatus", view.unit.status)),
        inc
          ? [
              section(
                `#${inc.id} ${label("incidentType", inc.incident_type)}`,
                dl([
                  [t("fields.address"), inc.address],
                  [t("fields.level"), t("dispatch.levelN", { n: inc.level })],
                  [t("fields.status"), label("incidentStatus", inc.status)],
                  [t("fields.received"), formatDateTime(inc.call_received_at, i18n.locale)],
                  [t("fields.description"), inc.description],
                  [t("crew.route"), view.route?.error ? view.route.error : `${duration(view.route?.travel_time_s)} · ${km(view.route?.distance_m)}`],
                ]),
                h("a", { class: "btn btn-block", href: `geo:${inc.lat},${inc.lon}` }, t("tasks.navigate")),
              ),
              view.preplan?.venue
                ? section(t("monitor.preplan"), dl([[t("fields.venue"), view.preplan.venue.name as string], [t("fields.category"), categoryName(view.preplan.venue.category as string)]]))
                : null,
              view.plan
                ? h("div", { "data-testid": "crew-plan" }, planCards(view.plan, (aid) => api.url(`/crew/vehicles/${id}/preplan/attachments/${aid}`)))
                : section(t("crew.hydrants"), table([t("fields.code"), t("fields.status"), t("fields.distance")], (view.preplan?.hydrants ?? []).map((hy) => [hy.code, label("hydrantStatus", hy.status), km(hy.distance_m)]))),
            ]
          : h("p", { class: "muted" }, t("crew.noIncident")),
        buttons,
      );
      map.clearOverlay();
      if (inc) {
        if (view.route?.geometry) map.geojson(view.route.geometry as unknown as GeoJSON.GeoJsonObject, { color: "#6a1b9a", weight: 5, opacity: 0.85 });
        map.marker(inc.lon, inc.lat, { colour: "#b71c1c", radius: 9, pulse: true, tooltip: inc.address });
        if (view.plan) drawPlan(map, view.plan);
        else for (const hy of view.preplan?.hydrants ?? []) map.marker(hy.lon, hy.lat, { colour: "#1565c0", radius: 5, tooltip: hy.code });
        map.fitOverlay();
      }
    } catch (err) {
      fail(err);
    }
  }

  function position(): Promise<{ lon: number; lat: number } | null> {
    if (!("geolocation" in navigator)) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 1500);
      navigator.geolocation.getCurrentPosition(
        (p) => {
          clearTimeout(timer);
          resolve({ lon: p.coords.longitude, lat: p.coords.latitude });
        },
        () => {
          clearTimeout(timer);
          resolve(null);
        },
        { maximumAge: 30000, timeout: 1400 },
      );
    });
  }

  const onSub = (ev: Event) => {
    const r = (ev as CustomEvent<string[]>).detail;
    if (r[0]) void show(Number(r[0]));
  };
  window.addEventListener("firegrid:subroute", onSub);
  void buildChooser();
  if (vehicleId) void show(vehicleId);
  return () => {
    window.removeEventListener("firegrid:subroute", onSub);
    map.destroy();
  };
}
