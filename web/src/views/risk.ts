// Risk: area grades on the map at each level (city, town, village, grid) with the legend,
// rankings at every level (industries and categories too) with their drivers, an area's
// trend, what changed since the last run, a venue's explanation with its what-if, the
// validation's labels, where the areas' population came from, the schedules and the
// report download.

import { ApiError } from "../api";
import { api, errorText, fail, i18n, label, t } from "../ctx";
import { h, replace } from "../dom";
import { CityMap } from "../map";
import { serverText } from "../servertext";
import { field, section, select, table, type Cell } from "./common";
import type { AreaDriverOut, AreaGradesOut, AreaHistoryOut, AreaRowOut, ChangesOut, ExplanationOut, Page_JurisdictionOut_, RunSummary, SchedulesOut } from "../generated/api";

export const GRADE_COLOURS: Record<string, string> = {
  red: "#c62828",
  orange: "#ef6c00",
  yellow: "#f9a825",
  blue: "#1565c0",
};
const SPATIAL = ["city", "town", "village", "grid"];
const LEVELS = [...SPATIAL, "industry", "category"];

// RunSummary.validation is `Any` on the server (the run's stored validation dict, whose keys
// depend on the labels and the outcome): this narrows it to the keys the side panel reads.
interface Validation {
  labels?: string;
  measures?: string;
  status?: string;
  reason?: string;
  auc?: number | null;
  expert_auc?: number | null;
  ceiling_auc?: number | null;
  ablation?: Record<string, number | null | string[]> | null;
  auc_ci95?: number[] | null;
}
type Summary = Omit<RunSummary, "validation"> & { validation: Validation | null };

const fmt = (v: number | null | undefined, digits = 2): string =>
  v === null || v === undefined || !Number.isFinite(v) ? "—" : Number(v).toFixed(digits);

export function gradeBadge(grade: string): HTMLElement {
  return h("span", { class: `badge badge-grade-${grade}` }, label("grade", grade));
}

export function driverText(d: AreaDriverOut): string {
  return t("risk.driver", {
    name: label("riskIndicator", d.indicator),
    value: fmt(d.value, d.value !== null && Math.abs(d.value) >= 100 ? 0 : 3),
    unit: d.unit,
    good: d.good,
    bad: d.bad,
  });
}

export function mountRisk(root: HTMLElement): () => void {
  const levelSel = select("risk-level", LEVELS.map((l) => [l, label("level", l)]), "town");
  const mapEl = h("div", { class: "map", id: "risk-map", "data-testid": "map" });
  const legend = h("div", { class: "legend", "data-testid": "risk-legend" });
  const labels = h("div", { "data-testid": "risk-labels", "aria-live": "polite" });
  const ranking = h("div", { "data-testid": "risk-ranking" });
  const detail = h("div", { "data-testid": "risk-area-detail" });
  const changes = h("div", { "data-testid": "risk-changes" });
  const schedules = h("div", { "data-testid": "risk-schedules" });
  const venueInput = h("input", { type: "number", id: "risk-venue", min: "1", inputmode: "numeric" });
  const venueOut = h("div", { "data-testid": "risk-venue" });
  const report = h("div", { class: "row" });
  const names = new Map<string, string>();
  let runId = 0;
  let synthetic = false;

  root.append(
    h(
      "div",
      { class: "layout-2" },
      h(
        "aside",
        { class: "panel list" },
        h("h2", null, t("risk.title")),
        labels,
        field(t("fields.level"), levelSel),
        legend,
        ranking,
        section(t("risk.changes"), changes),
        section(t("risk.schedules"), schedules),
        section(t("risk.report"), report),
      ),
      h(
        "div",
        { class: "map-col" },
        mapEl,
        h(
          "div",
          { class: "panel under-map" },
          detail,
          section(
            t("risk.venue"),
            h("div", { class: "row" }, field(t("risk.venueId"), venueInput), h("button", { type: "button", class: "btn", id: "risk-explain", onclick: () => void explain() }, t("risk.explain"))),
            venueOut,
          ),
        ),
      ),
    ),
  );
  const map = new CityMap(mapEl, { view: "risk", venues: false });

  async function ensureNames(level: string): Promise<void> {
    if (!SPATIAL.includes(level) || names.has(`${level}:*`)) return;
    let cursor: string | null = null;
    do {
      const page: Page_JurisdictionOut_ = await api.get("/jurisdictions", { level, limit: 1000, cursor });
      page.items.forEach((j) => names.set(`${level}:${j.code}`, i18n.locale === "en" ? j.name_en : j.name_zh));
      cursor = page.next_cursor;
    } while (cursor);
    names.set(`${level}:*`, "");
  }

  const areaName = (level: string, code: string): string => names.get(`${level}:${code}`) ?? code;

  function drawLegend(data: AreaGradesOut): void {
    const th = data.thresholds;
    const bounds: Record<string, string> = {
      red: `≥ ${th.red}`,
      orange: `${th.orange}–${th.red}`,
      yellow: `${th.yellow}–${th.orange}`,
      blue: `< ${th.yellow}`,
    };
    replace(
      legend,
      h("p", { class: "muted" }, t("risk.legend")),
      ["red", "orange", "yellow", "blue"].map((g) =>
        h("div", { class: "row legend-row" }, h("span", { class: "swatch", style: { background: GRADE_COLOURS[g] } }), gradeBadge(g), h("span", null, bounds[g]), h("span", { class: "muted" }, t("risk.areas", { n: data.area_grades[g] ?? 0 }))),
      ),
    );
  }

  async function drawMap(level: string, rows: AreaRowOut[]): Promise<void> {
    map.clearOverlay();
    if (!SPATIAL.includes(level)) return;
    const grades = new Map(rows.map((r) => [r.code, r.grade]));
    const fc = await api.get<GeoJSON.FeatureCollection>("/map/boundaries", { level, zoom: level === "grid" ? 13 : 11 });
    const layer = map.geojson(fc, (f) => {
      const grade = grades.get(String(f?.properties?.code ?? ""));
      return { color: "#555", weight: 1, fillOpacity: grade ? 0.55 : 0.05, fillColor: grade ? GRADE_COLOURS[grade] : "#999" };
    });
    layer.eachLayer((l) => {
      const code = String((l as unknown as { feature?: GeoJSON.Feature }).feature?.properties?.code ?? "");
      const row = rows.find((r) => r.code === code);
      if (row) l.on("click", () => showArea(row));
    });
    map.fitOverlay();
  }

  async function load(): Promise<void> {
    const level = levelSel.value;
    try {
      await ensureNames(level);
      const data = await api.get<AreaGradesOut>("/risk/areas", { level, limit: 500 });
      runId = data.run_id;
      synthetic = data.synthetic;
      drawLegend(data);
      const rows: Cell[][] = data.items.slice(0, 100).map((r) => [
        r.rank,
        h("a", { href: "#", onclick: (e: Event) => (e.preventDefault(), showArea(r)) }, level === "industry" || level === "category" ? label(level === "category" ? "category" : "industry", r.code) : areaName(level, r.code)),
        gradeBadge(r.grade),
        fmt(r.area_score, 1),
        r.n_venues,
        r.drivers.length ? `${label("riskIndicator", r.drivers[0].indicator)}${r.drivers.length > 1 ? ` (+${r.drivers.length - 1})` : ""}` : "—",
      ]);
      replace(ranking, table([t("risk.rank"), t("fields.name"), t("risk.grade"), t("risk.score"), t("fields.venues"), t("risk.drivers")], rows, { testid: "risk-ranking-table" }));
      await drawMap(level, data.items);
      if (data.items[0]) showArea(data.items[0]);
      replace(report, h("a", { class: "btn btn-small", href: api.url(`/risk/runs/${runId}/report`), download: `risk-report-${runId}.html` }, t("risk.download")));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) replace(ranking, h("p", { class: "muted" }, t("risk.noRun")));
      else fail(err);
    }
  }

  function showArea(row: AreaRowOut): void {
    const name = SPATIAL.includes(row.level) ? areaName(row.level, row.code) : row.code;
    const drivers = row.drivers.length
      ? h("ul", null, row.drivers.map((d) => h("li", null, driverText(d), synthetic && d.group === "history" ? ` ${t("risk.syntheticMark")}` : "", d.action !== "none" ? [" — ", h("b", null, label("riskAction", d.action))] : null)))
      : h("p", { class: "muted" }, t("risk.noDrivers"));
    const trend = h("div", { "data-testid": "risk-trend" });
    replace(
      detail,
      h("h3", null, name, " ", gradeBadge(row.grade), " ", fmt(row.area_score, 1)),
      h("p", null, t("risk.venueGrades", { red: row.venue_grades.red ?? 0, orange: row.venue_grades.orange ?? 0, yellow: row.venue_grades.yellow ?? 0, blue: row.venue_grades.blue ?? 0 })),
      h("h4", null, t("risk.drivers")),
      drivers,
      row.missing.length ? h("p", { class: "muted" }, t("risk.missing", { list: row.missing.map((k) => label("riskIndicator", k)).join("、") })) : null,
      h("h4", null, t("risk.trend")),
      trend,
    );
    void api
      .get<AreaHistoryOut>(`/risk/areas/${row.level}/history`, { code: row.code })
      .then((hist) => replace(trend, table([t("risk.run"), t("risk.date"), t("risk.grade"), t("risk.score")], hist.runs.map((r) => [r.run_id, r.snapshot_at.slice(0, 10), gradeBadge(r.grade), fmt(r.area_score, 1)]))))
      .catch((err) => replace(trend, h("p", { class: "muted" }, errorText(err))));
  }

  async function explain(): Promise<void> {
    const id = Number(venueInput.value);
    if (!Number.isInteger(id) || id < 1) {
      replace(venueOut, h("p", { class: "error" }, t("risk.badVenue")));
      return;
    }
    try {
      const e = await api.get<ExplanationOut>(`/risk/venues/${id}/explanation`);
      const en = i18n.locale === "en";
      replace(
        venueOut,
        h("p", null, gradeBadge(e.grade), " ", fmt(e.score, 1)),
        table([t("risk.indicator"), t("risk.points")], e.contributions.slice(0, 8).map((c) => [en ? c.name_en : c.name_zh, fmt(c.points, 1)]), { testid: "risk-contributions" }),
        h("h4", null, t("risk.whatIf")),
        table(
          [t("risk.action"), t("risk.score"), t("risk.grade")],
          e.what_if.slice(0, 6).map((w) => [en ? w.action_en || w.name_en : w.action_zh || w.name_zh, fmt(w.new_score, 1), gradeBadge(w.new_grade)]),
          { testid: "risk-what-if" },
        ),
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) replace(venueOut, h("p", { class: "muted" }, t("risk.noVenue")));
      else fail(err);
    }
  }

  async function loadSide(): Promise<void> {
    try {
      const s = await api.get<Summary>("/risk/runs/latest");
      const v = s.validation;
      const parts: (Node | string)[] = [h("p", null, t("risk.run"), ` ${s.run_id} · ${s.snapshot_at?.slice(0, 16).replace("T", " ") ?? "—"}`)];
      if (v?.labels === "synthetic") {
        parts.push(h("p", { class: "banner-warn", "data-testid": "risk-synthetic" }, t("risk.synthetic", { auc: fmt(v.auc), ceiling: fmt(v.ceiling_auc), inside: fmt(v.ablation?.generator_features_auc as number | null), outside: fmt(v.ablation?.other_indicators_auc as number | null) })));
      } else if (v?.labels === "imported") {
        parts.push(
          h("p", null, v.status === "ok" ? t("risk.imported", { auc: fmt(v.auc), lo: fmt(v.auc_ci95?.[0]), hi: fmt(v.auc_ci95?.[1]), expert: fmt(v.expert_auc) }) : t("risk.insufficient", { reason: v.reason ?? "" })),
        );
      }
      const population = s.area_population;
      if (population) {
        const lines = SPATIAL.filter((l) => population.levels[l]).map((l) => {
          const text = population.levels[l]!.text;
          return h("li", null, serverText(t, text.code, text.params, text.message));
        });
        const nested = population.register_nested ?? 0;
        const listed = population.register_nested_paths ?? [];
        const overlap = nested
          ? h("p", { class: "banner-warn", "data-testid": "risk-population-nested" }, t("risk.populationNested", { count: nested, paths: listed.join("、") + (nested > listed.length ? "…" : "") }))
          : null;
        parts.push(h("div", { "data-testid": "risk-population" }, h("h4", null, t("risk.population")), h("ul", { class: "muted" }, lines), overlap));
      }
      replace(labels, ...parts);
      const c = await api.get<ChangesOut>("/risk/changes");
      replace(
        changes,
        c.previous_run_id === null
          ? h("p", { class: "muted" }, t("risk.firstRun"))
          : h(
              "div",
              null,
              h("p", null, t("risk.venuesMoved", { up: c.venues.up ?? 0, down: c.venues.down ?? 0 })),
              table([t("fields.level"), t("fields.name"), t("risk.before"), t("risk.after")], c.areas.slice(0, 20).map((a) => [label("level", a.level), SPATIAL.includes(a.level) ? areaName(a.level, a.code) : a.code, gradeBadge(a.grade_before), gradeBadge(a.grade_after)]), { empty: t("risk.noAreaMoved") }),
            ),
      );
      const sch = await api.get<SchedulesOut>("/risk/schedules");
      replace(schedules, table([t("risk.schedule"), t("risk.next"), t("risk.last")], sch.items.map((x) => [label("riskSchedule", x.name), x.next_run_at?.slice(0, 16).replace("T", " ") ?? "—", x.last_run_at ? `${x.last_run_at.slice(0, 16).replace("T", " ")} ${label("riskStatus", x.last_status)}` : "—"])));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) fail(err);
    }
  }

  levelSel.addEventListener("change", () => void load());
  void map.loaded.then(() => load());
  void loadSide();
  return () => map.destroy();
}
