// City data: jurisdictions, venues, stations, hydrants and devices with search and filters,
// and imports with their row errors.

import { ApiError } from "../api";
import { api, can, categoryName, errorMessage, fail, label, state, t, toast } from "../ctx";
import { messageNodes } from "../messageview";
import { rowErrorMessage } from "../servertext";
import { h, replace } from "../dom";
import { busy, field, section, select, table, type Cell } from "./common";
import { HydrantStatusValues } from "../generated/enums";

interface Spec {
  kind: string;
  path: string;
  search: { param: string; label: string };
  filters: { param: string; options: () => [string, string][] }[];
  columns: [string, (row: Record<string, unknown>) => Cell][];
}

const text = (key: string) => (row: Record<string, unknown>) => (row[key] === null || row[key] === undefined ? "" : String(row[key]));

const SPECS: Spec[] = [
  {
    kind: "jurisdictions",
    path: "/jurisdictions",
    search: { param: "code", label: "fields.code" },
    filters: [{ param: "level", options: () => ["city", "town", "village", "grid"].map((l) => [l, label("level", l)]) }],
    columns: [["fields.code", text("code")], ["fields.name", text("name_zh")], ["fields.nameEn", text("name_en")], ["fields.level", (r) => label("level", r.level as string)], ["fields.population", text("population")]],
  },
  {
    kind: "venues",
    path: "/venues",
    search: { param: "name", label: "fields.name" },
    filters: [
      { param: "category", options: () => Object.keys(state.categories).map((c) => [c, categoryName(c)]) },
      { param: "is_key_unit", options: () => [["true", t("data.keyUnit")]] },
      { param: "is_high_risk", options: () => [["true", t("data.highRisk")]] },
    ],
    columns: [["fields.code", text("code")], ["fields.name", text("name")], ["fields.category", (r) => categoryName(r.category as string)], ["fields.address", text("address")], ["fields.floors", text("floors")]],
  },
  {
    kind: "stations",
    path: "/stations",
    search: { param: "code", label: "fields.code" },
    filters: [{ param: "station_type", options: () => ["special", "standard", "secondary", "small", "micro"].map((s) => [s, label("stationType", s)]) }],
    columns: [["fields.code", text("code")], ["fields.name", text("name")], ["fields.stationType", (r) => label("stationType", r.station_type as string)], ["fields.forceKind", (r) => label("forceKind", r.force_kind as string)], ["fields.phone", text("phone")]],
  },
  {
    kind: "hydrants",
    path: "/hydrants",
    search: { param: "code", label: "fields.code" },
    filters: [{ param: "status", options: () => HydrantStatusValues.map((s) => [s, label("hydrantStatus", s)]) }],
    columns: [["fields.code", text("code")], ["fields.hydrantType", (r) => label("hydrantType", r.hydrant_type as string)], ["fields.flow", text("flow_lps")], ["fields.status", (r) => label("hydrantStatus", r.status as string)], ["fields.position", (r) => `${Number(r.lon).toFixed(5)}, ${Number(r.lat).toFixed(5)}`]],
  },
  {
    kind: "devices",
    path: "/devices",
    search: { param: "code", label: "fields.code" },
    filters: [
      { param: "kind", options: () => ["transmitter", "smoke_alarm", "sprinkler_pressure", "electrical_monitor"].map((k) => [k, label("deviceKind", k)]) },
      { param: "protocol", options: () => ["gb26875", "mqtt", "http"].map((p) => [p, label("protocol", p)]) },
    ],
    columns: [["fields.code", text("code")], ["fields.kind", (r) => label("deviceKind", r.kind as string)], ["fields.protocol", (r) => label("protocol", r.protocol as string)], ["fields.externalId", text("external_id")], ["fields.venueId", text("venue_id")]],
  },
];

const IMPORT_KINDS = ["jurisdictions", "venues", "grid-workers", "stations", "vehicles", "hydrants", "logistics-points", "devices"];

export function mountData(root: HTMLElement, rest: string[]): () => void {
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": t("nav.data") });
  const body = h("div", { class: "data-body" });
  const all = [...SPECS.map((s) => s.kind), ...(can("places:import") ? ["import"] : [])];
  let current = all.includes(rest[0]) ? rest[0] : "venues";
  root.append(h("div", { class: "panel page" }, h("h2", null, t("nav.data")), tabs, body));

  function renderTabs(): void {
    replace(
      tabs,
      all.map((kind) =>
        h("button", { type: "button", role: "tab", class: "tab", id: `data-tab-${kind}`, "aria-selected": String(kind === current), "data-kind": kind, onclick: () => (location.hash = `#/data/${kind}`) }, t(`data.tabs.${kind}`)),
      ),
    );
  }

  function show(kind: string): void {
    current = kind;
    renderTabs();
    if (kind === "import") renderImport();
    else renderList(SPECS.find((s) => s.kind === kind) as Spec);
  }

  function renderList(spec: Spec): void {
    const search = h("input", { id: `search-${spec.kind}`, type: "search", placeholder: t(spec.search.label) });
    const filters = spec.filters.map((f) => select(`filter-${spec.kind}-${f.param}`, [["", t("data.any")], ...f.options()], "", { "aria-label": t(`data.filters.${f.param}`) }));
    const out = h("div", { "data-testid": `data-${spec.kind}` });
    const more = h("button", { type: "button", class: "btn", hidden: true }, t("data.more"));
    const count = h("p", { class: "muted", role: "status" });
    let rows: Record<string, unknown>[] = [];
    let cursor: string | null = null;

    async function load(reset: boolean): Promise<void> {
      const params: Record<string, string | number | null> = { limit: 50, cursor: reset ? null : cursor };
      if (search.value.trim()) params[spec.search.param] = search.value.trim();
      spec.filters.forEach((f, i) => {
        if (filters[i].value) params[f.param] = filters[i].value;
      });
      try {
        const page = await api.get<{ items: Record<string, unknown>[]; next_cursor: string | null }>(spec.path, params);
        rows = reset ? page.items : [...rows, ...page.items];
        cursor = page.next_cursor;
        more.hidden = !cursor;
        count.textContent = t("data.shown", { n: rows.length });
        replace(out, table(spec.columns.map(([k]) => t(k)), rows.map((r) => spec.columns.map(([, fn]) => fn(r))), { testid: `table-${spec.kind}` }));
      } catch (err) {
        fail(err);
      }
    }
    const form = h(
      "form",
      { class: "filters", role: "search", onsubmit: (ev: Event) => { ev.preventDefault(); void load(true); } },
      field(t(spec.search.label), search),
      filters.map((f, i) => field(t(`data.filters.${spec.filters[i].param}`), f)),
      h("button", { type: "submit", class: "btn btn-primary" }, t("data.search")),
    );
    filters.forEach((f) => f.addEventListener("change", () => void load(true)));
    more.addEventListener("click", () => void busy(more, () => load(false)));
    replace(body, form, count, out, more);
    void load(true);
  }

  function renderImport(): void {
    const kind = select("import-kind", IMPORT_KINDS.map((k) => [k, t(`data.tabs.${k}`) === `data.tabs.${k}` ? k : t(`data.tabs.${k}`)]), "venues");
    const crs = select("import-crs", [["wgs84", "WGS-84"], ["gcj02", "GCJ-02"], ["bd09", "BD-09"]], "wgs84");
    const file = h("input", { id: "import-file", type: "file", accept: ".csv,.geojson,.json,.xlsx", required: true });
    const out = h("div", { "data-testid": "import-result", "aria-live": "polite" });
    const submit = h("button", { type: "submit", class: "btn btn-primary", id: "import-submit" }, t("data.upload"));
    const form = h(
      "form",
      {
        class: "filters",
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          const f = file.files?.[0];
          if (!f) return;
          const data = new FormData();
          data.append("file", f, f.name);
          await busy(submit, async () => {
            try {
              const result = await api.postForm<Record<string, unknown>>(`/imports/${kind.value}`, data, { crs: crs.value });
              toast(t("data.imported"), "ok");
              replace(out, h("p", { class: "ok" }, t("data.imported")), h("pre", { class: "json" }, JSON.stringify(result, null, 2)));
            } catch (err) {
              if (err instanceof ApiError && err.rowErrors.length) {
                replace(
                  out,
                  h("p", { class: "form-error", role: "alert" }, t("data.importFailed", { n: err.rowErrors.length })),
                  table([t("fields.line"), t("fields.column"), t("fields.reason")], err.rowErrors.map((e) => [e.line ?? "", e.column ?? "", e.reason === undefined ? JSON.stringify(e) : h("span", null, ...messageNodes(rowErrorMessage(t, e)))]), { testid: "import-errors" }),
                );
              } else {
                replace(out, h("p", { class: "form-error", role: "alert" }, ...messageNodes(errorMessage(err))));
              }
            }
          });
        },
      },
      field(t("data.importKind"), kind),
      field(t("data.crs"), crs),
      field(t("data.file"), file),
      submit,
    );
    replace(body, section(t("data.tabs.import"), h("p", { class: "muted" }, t("data.importHelp")), form, out));
  }

  const onSub = (ev: Event) => {
    const r = (ev as CustomEvent<string[]>).detail;
    show(all.includes(r[0]) ? r[0] : "venues");
  };
  window.addEventListener("firegrid:subroute", onSub);
  show(current);
  return () => window.removeEventListener("firegrid:subroute", onSub);
}
