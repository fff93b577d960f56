// Pre-incident plans: the list (and the overdue reviews), and the editor of one venue's
// plan: a structured form, staging and aerial positions drawn on the map, floor plans,
// review and publish, the first-due sheet.

import { ApiError } from "../api";
import { api, can, fail, label, t, toast } from "../ctx";
import { h, replace } from "../dom";
import { CityMap } from "../map";
import { busy, dl, field, section, select, table } from "./common";
import { drawPlan, type LivePlan, type PlanDocument, planCards } from "./plancard";
import type { firegrid__preplans__schemas__PlanListOut as PlanListOut, firegrid__preplans__schemas__PlanOut as PlanOut, FeatureKind, HazMat, Page_VenueOut_, Utility, VenueOut, VersionOut } from "../generated/api";

type Row = Record<string, string>;
interface Column {
  key: string;
  label: string;
  options?: [string, string][];
}

/** An editable list of rows (add, remove), each cell an input or a select. */
function rowsEditor(id: string, columns: Column[], rows: Row[]): { el: HTMLElement; value: () => Row[] } {
  const body = h("tbody", null);
  const addRow = (row: Row) => {
    const tr = h("tr", null);
    for (const c of columns) {
      const control = c.options
        ? select(`${id}-${c.key}`, c.options, row[c.key] ?? c.options[0][0], { "data-key": c.key, "aria-label": c.label })
        : h("input", { value: row[c.key] ?? "", "data-key": c.key, "aria-label": c.label });
      tr.append(h("td", null, control));
    }
    const remove = h("button", { type: "button", class: "btn btn-small" }, t("preplans.remove"));
    remove.addEventListener("click", () => tr.remove());
    tr.append(h("td", null, remove));
    body.append(tr);
  };
  rows.forEach(addRow);
  const add = h("button", { type: "button", class: "btn btn-small", id: `${id}-add` }, t("preplans.addRow"));
  add.addEventListener("click", () => addRow({}));
  const el = h(
    "div",
    { class: "table-wrap", "data-testid": id, tabindex: "0", role: "region", "aria-label": t("common.table") },
    h("table", { class: "grid-table" }, h("thead", null, h("tr", null, columns.map((c) => h("th", null, c.label)), h("th", null, ""))), body),
    add,
  );
  const value = () =>
    Array.from(body.querySelectorAll("tr")).map((tr) => {
      const out: Row = {};
      tr.querySelectorAll<HTMLInputElement | HTMLSelectElement>("[data-key]").forEach((c) => (out[c.dataset.key as string] = c.value.trim()));
      return out;
    }).filter((r) => columns.some((c) => !c.options && r[c.key] !== "")); // a row of only defaults is empty
  return { el, value };
}

function textarea(id: string, value: string, rows = 3): HTMLTextAreaElement {
  const el = h("textarea", { id, rows });
  el.value = value;
  return el;
}

function input(id: string, value: string): HTMLInputElement {
  return h("input", { id, value });
}

export function mountPreplans(root: HTMLElement, rest: string[]): () => void {
  const page = h("div", { class: "page", "data-testid": "preplans-page" });
  root.append(page);
  let map: CityMap | null = null;
  let renders = 0; // the latest call of showVenue draws; an older one still loading does not

  async function showList(): Promise<void> {
    renders++; // a venue still loading must not draw over the list
    delete page.dataset.venueId;
    const dueOnly = h("input", { type: "checkbox", id: "preplans-due" });
    const venueCode = h("input", { id: "preplans-venue-code", placeholder: t("preplans.venueCode") });
    const open = h("button", { type: "button", class: "btn", id: "preplans-open" }, t("preplans.openVenue"));
    const list = h("div", null);
    open.addEventListener("click", () =>
      void busy(open, async () => {
        try {
          const found = await api.get<Page_VenueOut_>("/venues", { code: venueCode.value.trim() });
          if (!found.items.length) return toast(t("preplans.noSuchVenue"), "error");
          location.hash = `#/preplans/venue/${found.items[0].id}`;
        } catch (err) {
          fail(err);
        }
      }),
    );
    const load = async () => {
      try {
        const plans = await api.get<PlanListOut>("/preplans", { due: dueOnly.checked });
        replace(
          list,
          table(
            [t("fields.venue"), t("preplans.published"), t("preplans.riskGrade"), t("preplans.reviewDue"), ""],
            plans.items.map((p) => [
              h("a", { href: `#/preplans/venue/${p.venue_id}` }, `${p.venue_code} ${p.venue_name}`),
              p.published_version ? `v${p.published_version}` : t("preplans.notPublished"),
              p.risk_grade,
              p.review_due_at ? p.review_due_at.slice(0, 10) : null,
              p.review_overdue ? h("span", { class: "badge badge-warn" }, t("preplans.overdueDays", { n: p.days_overdue ?? 0 })) : null,
            ]),
            { testid: "preplans-list", empty: t("preplans.none") },
          ),
        );
      } catch (err) {
        fail(err);
      }
    };
    dueOnly.addEventListener("change", () => void load());
    replace(
      page,
      h("h2", null, t("preplans.title")),
      h("div", { class: "row" }, h("label", null, dueOnly, " ", t("preplans.dueOnly")), venueCode, open),
      list,
    );
    await load();
  }

  async function showVenue(venueId: number): Promise<void> {
    const render = ++renders;
    let venue: VenueOut;
    let plan: PlanOut | null = null;
    try {
      venue = await api.get<VenueOut>(`/venues/${venueId}`);
      plan = await api.get<PlanOut>(`/venues/${venueId}/preplan`).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      });
    } catch (err) {
      fail(err);
      return;
    }
    const devices = await api
      .get<{ items: { id: number; code: string; kind: string }[] }>("/devices", { venue_id: venueId, limit: 200 })
      .then((r) => r.items)
      .catch(() => []);
    const doc: PlanDocument = plan?.latest?.document ?? {};
    const fp = doc.fire_protection ?? {};
    const features = [...(doc.map_features ?? [])];
    const summary = textarea("plan-summary", doc.summary ?? "");
    const roomLoc = input("plan-room-location", fp.control_room?.location ?? "");
    const roomPhone = input("plan-room-phone", fp.control_room?.phone ?? "");
    const tactics = textarea("plan-tactics", doc.tactics ?? "");
    const special = textarea("plan-special", (doc.special_hazards ?? []).join("\n"));
    const standpipes = rowsEditor(
      "plan-standpipes",
      [
        { key: "name", label: t("fields.name") },
        { key: "location", label: t("preplans.location") },
        { key: "inlet_location", label: t("preplans.inlet") },
      ],
      (fp.standpipes ?? []).map((s) => ({ name: s.name, location: s.location ?? "", inlet_location: s.inlet_location ?? "" })),
    );
    const buildings = rowsEditor(
      "plan-buildings",
      [
        { key: "name", label: t("fields.name") },
        { key: "use", label: t("preplans.use") },
        { key: "construction", label: t("preplans.construction") },
        { key: "height_m", label: t("preplans.heightM") },
        { key: "floors_above", label: t("preplans.floorsAbove") },
        { key: "floors_below", label: t("preplans.floorsBelow") },
        { key: "occupancy_day", label: t("preplans.occupancyDay") },
        { key: "occupancy_night", label: t("preplans.occupancyNight") },
      ],
      (doc.buildings ?? []).map((b) => ({
        name: b.name,
        use: b.use ?? "",
        construction: b.construction ?? "",
        height_m: String(b.height_m ?? ""),
        floors_above: String(b.floors_above ?? ""),
        floors_below: String(b.floors_below ?? ""),
        occupancy_day: String(b.occupancy_day ?? ""),
        occupancy_night: String(b.occupancy_night ?? ""),
      })),
    );
    const panels = rowsEditor(
      "plan-panels",
      [
        { key: "name", label: t("fields.name") },
        { key: "location", label: t("preplans.location") },
        { key: "device_id", label: t("preplans.device"), options: [["", "—"], ...devices.map((d): [string, string] => [String(d.id), `${d.code} · ${label("deviceKind", d.kind)}`])] },
      ],
      (fp.alarm_panels ?? []).map((p) => ({ name: p.name, location: p.location ?? "", device_id: p.device_id ? String(p.device_id) : "" })),
    );
    const sprinklers = rowsEditor(
      "plan-sprinklers",
      [
        { key: "name", label: t("fields.name") },
        { key: "covers", label: t("preplans.covers") },
        { key: "valve_location", label: t("preplans.valve") },
      ],
      (fp.sprinkler_zones ?? []).map((z) => ({ name: z.name, covers: z.covers ?? "", valve_location: z.valve_location ?? "" })),
    );
    const hazmats = rowsEditor(
      "plan-hazmats",
      [
        { key: "name", label: t("fields.name") },
        { key: "un_number", label: "UN" },
        { key: "hazard_class", label: t("preplans.hazardClass") },
        { key: "quantity", label: t("preplans.quantity") },
        { key: "unit", label: t("preplans.unit"), options: ["kg", "t", "L", "m3", "pcs"].map((u) => [u, u]) },
        { key: "location", label: t("preplans.location") },
      ],
      (doc.hazmats ?? []).map((m) => ({ name: m.name, un_number: m.un_number ?? "", hazard_class: m.hazard_class ?? "", quantity: String(m.quantity ?? ""), unit: m.unit ?? "kg", location: m.location ?? "" })),
    );
    const contacts = rowsEditor(
      "plan-contacts",
      [
        { key: "name", label: t("fields.name") },
        { key: "role", label: t("preplans.role") },
        { key: "phone", label: t("preplans.phone") },
      ],
      (doc.contacts ?? []).map((c) => ({ name: c.name, role: c.role ?? "", phone: c.phone ?? "" })),
    );
    const utilities = rowsEditor(
      "plan-utilities",
      [
        { key: "utility", label: t("preplans.utility"), options: ["electricity", "gas", "water", "other"].map((u) => [u, label("utility", u)]) },
        { key: "location", label: t("preplans.location") },
      ],
      (doc.utilities ?? []).map((u) => ({ utility: u.utility, location: u.location })),
    );
    const note = input("plan-note", "");
    const featureList = h("ul", { "data-testid": "plan-features" });
    const mapEl = h("div", { class: "map map-small", id: "preplan-map", "data-testid": "map" });
    map?.destroy();
    map = new CityMap(mapEl, { view: "preplans", venues: false, hydrants: true, compact: true });
    const redraw = () => {
      if (!map) return;
      map.clearOverlay();
      map.marker(venue.lon, venue.lat, { colour: "#000", radius: 8, tooltip: venue.name });
      drawPlan(map, { version: { version: 0, status: "draft", document: { map_features: features } }, hydrants: [] } as unknown as LivePlan);
      replace(
        featureList,
        features.map((f, i) => {
          const remove = h("button", { type: "button", class: "btn btn-small" }, t("preplans.remove"));
          remove.addEventListener("click", () => {
            features.splice(i, 1);
            redraw();
          });
          return h("li", null, `${label("featureKind", f.properties.kind)} ${f.properties.label ?? ""} `, remove);
        }),
      );
    };
    const drawButton = (kind: FeatureKind) => {
      const b = h("button", { type: "button", class: "btn", "data-kind": kind }, t("preplans.draw", { what: label("featureKind", kind) }));
      b.addEventListener("click", () => {
        toast(t("preplans.clickMap"));
        map?.pick((lon, lat) => {
          features.push({ type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties: { kind, label: label("featureKind", kind) } });
          redraw();
        });
      });
      return b;
    };
    // the unit and utility cells are selects offering exactly the enums' values
    const documentOf = (): PlanDocument => {
      const fire = { ...(doc.fire_protection ?? {}) };
      fire.control_room = roomLoc.value.trim() || roomPhone.value.trim() ? { location: roomLoc.value.trim(), phone: roomPhone.value.trim() } : null;
      fire.standpipes = standpipes.value().map((r) => ({ name: r.name, location: r.location, inlet_location: r.inlet_location }));
      fire.alarm_panels = panels.value().map((r) => ({ name: r.name, location: r.location, device_id: r.device_id ? Number(r.device_id) : null }));
      fire.sprinkler_zones = sprinklers.value().map((r) => ({ name: r.name, covers: r.covers, valve_location: r.valve_location }));
      const old = new Map((doc.buildings ?? []).map((b) => [b.name, b]));
      const num = (v: string) => (v === "" ? 0 : Number(v));
      return {
        ...doc,
        summary: summary.value.trim(),
        tactics: tactics.value.trim(),
        special_hazards: special.value.split("\n").map((s) => s.trim()).filter(Boolean),
        fire_protection: fire,
        buildings: buildings.value().map((r) => ({
          ...(old.get(r.name) ?? {}),
          name: r.name,
          use: r.use,
          construction: r.construction,
          height_m: num(r.height_m),
          floors_above: num(r.floors_above),
          floors_below: num(r.floors_below),
          occupancy_day: num(r.occupancy_day),
          occupancy_night: num(r.occupancy_night),
        })),
        hazmats: hazmats.value().map((r) => ({ name: r.name, un_number: r.un_number, hazard_class: r.hazard_class, unit: r.unit as HazMat["unit"], location: r.location, quantity: Number(r.quantity || 0) })),
        contacts: contacts.value().map((r) => ({ name: r.name, role: r.role, phone: r.phone })),
        utilities: utilities.value().filter((r) => r.location).map((r) => ({ utility: r.utility as Utility, location: r.location })),
        map_features: features,
      };
    };
    const save = h("button", { type: "button", class: "btn btn-primary", id: "plan-save" }, t("preplans.saveDraft"));
    save.addEventListener("click", () =>
      void busy(save, async () => {
        try {
          const v = await api.post<VersionOut>(`/venues/${venueId}/preplan/drafts`, { document: documentOf(), note: note.value.trim() });
          toast(t("preplans.saved", { n: v.version }), "ok");
          await showVenue(venueId);
        } catch (err) {
          fail(err);
        }
      }),
    );
    const latest = plan?.latest ?? null;
    const step = (id: string, action: string, text: string, needs: string) => {
      if (!plan || !latest || latest.status !== needs || !can("preplans:publish")) return null;
      const b = h("button", { type: "button", class: "btn", id }, text);
      b.addEventListener("click", () =>
        void busy(b, async () => {
          try {
            await api.post(`/preplans/${plan.plan.plan_id}/versions/${latest.version}/${action}`, action === "review" ? { note: note.value.trim() } : undefined);
            toast(t("preplans.done"), "ok");
            await showVenue(venueId);
          } catch (err) {
            fail(err);
          }
        }),
      );
      return b;
    };
    let confirm: HTMLButtonElement | null = null;
    if (plan?.published && can("preplans:publish")) {
      const button = h("button", { type: "button", class: "btn", id: "plan-confirm-review" }, t("preplans.confirmReview"));
      button.addEventListener("click", () =>
        void busy(button, async () => {
          try {
            await api.post(`/preplans/${plan?.plan.plan_id}/confirm-review`, { note: note.value.trim() });
            toast(t("preplans.done"), "ok");
            await showVenue(venueId);
          } catch (err) {
            fail(err);
          }
        }),
      );
      confirm = button;
    }
    const removeAttachment = (id: number) => {
      const b = h("button", { type: "button", class: "btn btn-small" }, t("preplans.remove"));
      b.addEventListener("click", () =>
        void busy(b, async () => {
          try {
            await api.request("DELETE", `/preplans/${plan?.plan.plan_id}/attachments/${id}`);
            await showVenue(venueId);
          } catch (err) {
            fail(err);
          }
        }),
      );
      return b;
    };
    // The editor is drawn again after every save, review, publish or upload: a file the user
    // has chosen (and its title) stays chosen, so the same input elements are carried over.
    const sameVenue = page.dataset.venueId === String(venueId);
    const keptUpload = sameVenue ? page.querySelector<HTMLInputElement>("#plan-file") : null;
    const keptTitle = sameVenue ? page.querySelector<HTMLInputElement>("#plan-file-title") : null;
    const upload = keptUpload ?? h("input", { type: "file", id: "plan-file", accept: "image/png,image/jpeg,image/webp,application/pdf", "aria-label": t("preplans.upload") });
    const uploadTitle = keptTitle ?? h("input", { id: "plan-file-title", placeholder: t("preplans.fileTitle"), "aria-label": t("preplans.fileTitle") });
    const uploadButton = h("button", { type: "button", class: "btn", id: "plan-upload" }, t("preplans.upload"));
    uploadButton.addEventListener("click", () =>
      void busy(uploadButton, async () => {
        const file = upload.files?.[0];
        if (!plan || !file) return toast(t("preplans.saveFirst"), "error");
        const form = new FormData();
        form.append("file", file);
        form.append("title", uploadTitle.value.trim() || file.name);
        try {
          await api.postForm(`/preplans/${plan.plan.plan_id}/attachments`, form);
          upload.value = ""; // sent: the next drawing starts with an empty choice
          uploadTitle.value = "";
          toast(t("preplans.uploaded"), "ok");
          await showVenue(venueId);
        } catch (err) {
          fail(err);
        }
      }),
    );
    let liveCards: HTMLElement[] = [];
    if (plan?.published) {
      try {
        const live = await api.get<LivePlan>(`/preplans/${plan.plan.plan_id}/live`);
        liveCards = planCards(live, (aid) => api.url(`/preplans/${plan?.plan.plan_id}/attachments/${aid}`));
      } catch (err) {
        fail(err);
      }
    }
    if (render !== renders) return; // a newer drawing is under way
    page.dataset.venueId = String(venueId);
    replace(
      page,
      h("p", null, h("a", { href: "#/preplans" }, t("preplans.back"))),
      h("h2", null, `${t("preplans.title")} · ${venue.code} ${venue.name}`),
      plan
        ? dl([
            [t("preplans.published"), plan.plan.published_version ? `v${plan.plan.published_version}` : t("preplans.notPublished")],
            [t("preplans.latest"), latest ? `v${latest.version} ${label("planStatus", latest.status)}` : null],
            [t("preplans.reviewDue"), plan.plan.review_due_at ? plan.plan.review_due_at.slice(0, 10) : null],
            [
              t("preplans.sheet"),
              h("span", null, h("a", { href: api.url(`/preplans/${plan.plan.plan_id}/sheet.html`), target: "_blank", rel: "noopener" }, "HTML"), " · ", h("a", { href: api.url(`/preplans/${plan.plan.plan_id}/sheet.pdf`) }, "PDF")),
            ],
          ])
        : h("p", { class: "muted" }, t("preplans.newPlan")),
      section(
        t("preplans.edit"),
        field(t("preplans.summary"), summary),
        h("div", { class: "row" }, field(t("preplans.controlRoom"), roomLoc), field(t("preplans.phone"), roomPhone)),
        h("h4", null, t("preplans.buildings")),
        buildings.el,
        h("h4", null, t("preplans.inlets")),
        standpipes.el,
        h("h4", null, t("preplans.sprinklers")),
        sprinklers.el,
        h("h4", null, t("preplans.panels")),
        panels.el,
        h("h4", null, t("preplans.hazmats")),
        hazmats.el,
        h("h4", null, t("preplans.utilities")),
        utilities.el,
        h("h4", null, t("preplans.contacts")),
        contacts.el,
        field(t("preplans.specialHazards"), special),
        field(t("preplans.tactics"), tactics),
        h("h4", null, t("preplans.mapFeatures")),
        h("div", { class: "row" }, drawButton("staging_area"), drawButton("aerial_position"), drawButton("inlet")),
        mapEl,
        featureList,
        field(t("preplans.note"), note),
        h("div", { class: "row" }, save, step("plan-review", "review", t("preplans.review"), "draft"), step("plan-publish", "publish", t("preplans.publish"), "reviewed"), confirm),
      ),
      section(
        t("preplans.attachments"),
        plan ? table([t("fields.name"), t("preplans.type"), ""], plan.attachments.map((a) => [a.title, a.content_type, h("span", null, h("a", { href: api.url(`/preplans/${plan?.plan.plan_id}/attachments/${a.attachment_id}`), target: "_blank", rel: "noopener" }, t("preplans.open")), " ", removeAttachment(a.attachment_id))])) : null,
        h("div", { class: "row" }, upload, uploadTitle, uploadButton),
      ),
      plan ? section(t("preplans.versions"), table([t("preplans.version"), t("fields.status"), t("preplans.by"), t("preplans.note")], plan.versions.map((v) => [`v${v.version}`, label("planStatus", v.status), v.created_by, v.note]), { testid: "plan-versions" })) : null,
      ...liveCards,
    );
    redraw();
    map.invalidate();
    map.flyTo(venue.lon, venue.lat, 17);
  }

  const route = (r: string[]) => {
    if (r[0] === "venue" && r[1]) void showVenue(Number(r[1]));
    else void showList();
  };
  const onSub = (ev: Event) => route((ev as CustomEvent<string[]>).detail);
  window.addEventListener("firegrid:subroute", onSub);
  route(rest);
  return () => {
    window.removeEventListener("firegrid:subroute", onSub);
    map?.destroy();
  };
}
