// The live pre-plan as cards: control room, inlets, hazards, devices and open alarms now,
// hydrants by road, floor plans. Shared by the crew phone page and the plans view.

import { label, t } from "../ctx";
import { h } from "../dom";
import { CityMap } from "../map";
import { dl, km, section, table } from "./common";
import type { PlanDocument } from "../generated/api";

// the plan document: the server's model (preplans/document.py), stored as JSON
export type { PlanDocument };

export interface LivePlan {
  plan: { plan_id: number; venue_id: number; published_version: number | null; review_due_at: string | null; review_overdue: boolean };
  venue: { name: string; address: string; lon: number; lat: number };
  version: { version: number; status: string; document: PlanDocument } | null;
  attachments: { attachment_id: number; title: string; content_type: string }[];
  devices: { device_id: number; code: string; kind: string; health: string; online: boolean }[];
  open_alarms: { alarm_id: number; kind: string; status: string; device_kind: string | null; opened_at: string | null }[];
  hydrants: { code: string; status: string; road_distance_m: number; lon: number; lat: number; flow_lps: number }[];
  route: { travel_time_s?: number; distance_m?: number; geometry?: GeoJSON.LineString; error?: string; from?: string } | null;
}

const FEATURE_COLOURS: Record<string, string> = { staging_area: "#2e7d32", aerial_position: "#ef6c00", inlet: "#1565c0" };

/** The plan's cards; `attachmentUrl` gives where an attachment is read from. */
export function planCards(plan: LivePlan, attachmentUrl: (id: number) => string): HTMLElement[] {
  const doc = plan.version?.document ?? {};
  const fp = doc.fire_protection ?? {};
  const room = fp.control_room;
  const counts: Record<string, number> = {};
  for (const d of plan.devices) counts[d.health] = (counts[d.health] ?? 0) + 1;
  const images = plan.attachments.filter((a) => a.content_type.startsWith("image/"));
  const pdfs = plan.attachments.filter((a) => a.content_type === "application/pdf");
  return [
    section(
      t("preplans.plan") + (plan.version ? ` v${plan.version.version}` : ""),
      plan.plan.review_overdue ? h("p", { class: "warn" }, t("preplans.reviewOverdue")) : null,
      doc.summary ? h("p", null, doc.summary) : null,
      dl([
        [t("preplans.controlRoom"), room ? `${room.location ?? ""} ☎ ${room.phone ?? ""}` : null],
        [t("preplans.tactics"), doc.tactics ?? null],
        [t("preplans.specialHazardsShort"), (doc.special_hazards ?? []).join("；") || null],
      ]),
    ),
    section(
      t("preplans.liveNow"),
      h("p", { "data-testid": "plan-devices" }, Object.entries(counts).map(([k, n]) => `${label("deviceHealth", k)} ${n}`).join(" · ") || t("preplans.noDevices")),
      table(
        [t("fields.kind"), t("fields.status"), t("preplans.device"), t("preplans.opened")],
        plan.open_alarms.map((a) => [label("alarmKind", a.kind), label("alarmStatus", a.status), a.device_kind, a.opened_at]),
        { empty: t("preplans.noOpenAlarms"), testid: "plan-alarms" },
      ),
    ),
    section(
      t("preplans.inlets"),
      table([t("fields.name"), t("preplans.location"), t("preplans.inlet")], (fp.standpipes ?? []).map((s) => [s.name, s.location, s.inlet_location])),
    ),
    section(
      t("preplans.hazmats"),
      table(
        [t("fields.name"), "UN", t("preplans.hazardClass"), t("preplans.quantity"), t("preplans.location")],
        (doc.hazmats ?? []).map((m) => [m.name, m.un_number, m.hazard_class, `${m.quantity ?? ""} ${m.unit ?? ""}`, m.location]),
      ),
    ),
    section(
      t("preplans.hydrantsByRoad"),
      table(
        [t("fields.code"), t("fields.status"), t("fields.distance")],
        plan.hydrants.map((hy) => [hy.code, label("hydrantStatus", hy.status), km(hy.road_distance_m)]),
        { empty: t("preplans.noHydrants"), testid: "plan-hydrants" },
      ),
    ),
    section(
      t("preplans.contacts"),
      table([t("fields.name"), t("preplans.role"), t("preplans.phone")], (doc.contacts ?? []).map((c) => [c.name, c.role, c.phone ? h("a", { href: `tel:${c.phone}` }, c.phone) : null])),
    ),
    images.length || pdfs.length
      ? section(
          t("preplans.attachments"),
          h(
            "div",
            { class: "plan-images" },
            images.map((a) => h("figure", null, h("img", { src: attachmentUrl(a.attachment_id), alt: a.title, class: "plan-image", loading: "lazy" }), h("figcaption", null, a.title))),
          ),
          h("div", null, pdfs.map((a) => h("p", null, h("a", { href: attachmentUrl(a.attachment_id) }, a.title || "PDF")))),
        )
      : null,
  ].filter((x): x is HTMLElement => x !== null);
}

/** The plan's drawn features and hydrants on a map. */
export function drawPlan(map: CityMap, plan: LivePlan): void {
  for (const f of plan.version?.document.map_features ?? []) {
    if (f.geometry.type === "Point") {
      const [lon, lat] = f.geometry.coordinates as [number, number];
      map.marker(lon, lat, { colour: FEATURE_COLOURS[f.properties.kind] ?? "#555", radius: 7, tooltip: f.properties.label || label("featureKind", f.properties.kind) });
    } else {
      map.geojson(f.geometry as unknown as GeoJSON.GeoJsonObject, { color: FEATURE_COLOURS[f.properties.kind] ?? "#555", weight: 3 });
    }
  }
  for (const hy of plan.hydrants) map.marker(hy.lon, hy.lat, { colour: "#1565c0", radius: 5, tooltip: `${hy.code} ${km(hy.road_distance_m)}` });
}
