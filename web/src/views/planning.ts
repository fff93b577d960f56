// Planning: coverage (isochrones and first-due areas for chosen stations and time bands),
// hydrant gaps, per-town and per-grid tables, with CSV / GeoJSON downloads.

import { ApiError } from "../api";
import { api, can, fail, i18n, label, offers, t, toast } from "../ctx";
import { append, download, h, replace, toCsv } from "../dom";
import { CityMap } from "../map";
import { bandColour } from "../mapstyle";
import { busy, duration, field, section, select, table, type Cell } from "./common";
import { mountSiting } from "./siting";
import type { ColoursOut, CoverageOut, Page_JurisdictionOut_, ZoneShare } from "../generated/api";

const BANDS = [180, 300, 480, 600, 900];

// CoverageOut.first_due is `dict[str, Any]` on the server ({} when no venue or station is
// visible): narrowed to the keys geo/reports.py coverage_report writes.
interface FirstDue {
  venues_per_station?: { station_id: number; code: string; venues: number }[];
  travel_time_s_p50?: number | null;
  travel_time_s_p90?: number | null;
  venues_unreached?: number;
}
type CoverageReport = Omit<CoverageOut, "first_due"> & { first_due: FirstDue };

export function mountPlanning(root: HTMLElement): () => void {
  const mapEl = h("div", { class: "map", id: "planning-map", "data-testid": "map" });
  const stationBox = h("fieldset", { class: "checks", "data-testid": "station-checks" }, h("legend", null, t("planning.stations")));
  const bandBox = h(
    "fieldset",
    { class: "checks" },
    h("legend", null, t("planning.bands")),
    BANDS.map((s) => h("label", { class: "check", for: `band-${s}` }, h("input", { type: "checkbox", id: `band-${s}`, value: String(s), checked: s === 300 || s === 600 }), " ", t("planning.minutes", { n: s / 60 }))),
  );
  const combine = h("input", { type: "checkbox", id: "iso-combine", checked: true });
  const runBtn = h("button", { type: "button", class: "btn btn-primary", id: "coverage-run" }, t("planning.run"));
  const coverageOut = h("div", { "data-testid": "coverage-result", "aria-live": "polite" });
  const gapsOut = h("div", { "data-testid": "gaps-result" });
  const sitingBox = h("div", { "data-testid": "siting" });
  const tablesOut = h("div", { "data-testid": "planning-tables" });
  const levelSel = select("table-level", [["town", label("level", "town")], ["village", label("level", "village")], ["grid", label("level", "grid")]], "town");
  const gapsBtn = h("button", { type: "button", class: "btn", id: "gaps-run" }, t("planning.hydrantGaps"));
  let lastIsochrones: GeoJSON.FeatureCollection | null = null;
  const names = new Map<string, string>();
  const loadedLevels = new Set<string>();
  let lastCoverage: CoverageReport | null = null;

  const exportsBox = h(
    "div",
    { class: "exports" },
    ["venues", "stations", "hydrants"].map((kind) =>
      h(
        "div",
        { class: "row" },
        h("span", null, t(`data.tabs.${kind}`)),
        h("a", { class: "btn btn-small", href: api.url(`/exports/${kind}`, { format: "csv" }), download: `${kind}.csv` }, "CSV"),
        h("a", { class: "btn btn-small", href: api.url(`/exports/${kind}`, { format: "geojson" }), download: `${kind}.geojson` }, "GeoJSON"),
      ),
    ),
  );

  root.append(
    h(
      "div",
      { class: "layout-2" },
      h(
        "aside",
        { class: "panel list" },
        h("h2", null, t("planning.coverage")),
        stationBox,
        bandBox,
        h("label", { class: "check", for: "iso-combine" }, combine, " ", t("planning.combine")),
        h("div", { class: "row" }, runBtn, gapsBtn),
        coverageOut,
        gapsOut,
        sitingBox,
        section(t("planning.exports"), exportsBox),
      ),
      h("div", { class: "map-col" }, mapEl, h("div", { class: "panel under-map" }, h("div", { class: "row" }, h("h2", null, t("planning.tables")), field(t("fields.level"), levelSel)), tablesOut)),
    ),
  );
  const map = new CityMap(mapEl, { view: "planning", venues: false, hydrants: true });
  mountSiting(sitingBox, map);

  void map.loaded.then(() => {
    const stations = [...map.stationsById.entries()];
    stations.forEach(([id, s], i) =>
      stationBox.append(h("label", { class: "check", for: `station-${id}` }, h("input", { type: "checkbox", id: `station-${id}`, value: String(id), checked: i < 3 }), " ", s.name)),
    );
    if (!stations.length) stationBox.append(h("p", { class: "muted" }, t("common.none")));
  });

  const checked = (box: HTMLElement) => [...box.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => Number(i.value));

  runBtn.addEventListener("click", () =>
    void busy(runBtn, async () => {
      if (!offers("isochrones")) {
        replace(coverageOut, h("p", { class: "muted" }, t("planning.isochronesUnavailable")));
        return;
      }
      const stationIds = checked(stationBox);
      const bands = checked(bandBox).sort((a, b) => a - b);
      if (!stationIds.length || !bands.length) {
        toast(t("planning.chooseFirst"), "error");
        return;
      }
      try {
        const fc = await api.get<GeoJSON.FeatureCollection>("/geo/isochrones", { station_id: stationIds, bands_s: bands, combine: combine.checked });
        lastIsochrones = fc;
        map.clearOverlay();
        map.bands(fc, bands);
        for (const id of stationIds) {
          const s = map.stationsById.get(id);
          if (s) map.marker(s.lon, s.lat, { colour: "#c62828", radius: 8, tooltip: s.name });
        }
        map.fitOverlay();
        const rows: Cell[][] = fc.features.map((f) => {
          const p = f.properties ?? {};
          const band = Number(p.time_s ?? 0);
          const origin = typeof p.origin === "number" ? map.stationsById.get(stationIds[p.origin])?.name ?? "" : t("planning.allStations");
          return [h("span", { class: "swatch", style: { background: bandColour(bands.indexOf(band), bands.length) } }), t("planning.minutes", { n: band / 60 }), origin, p.area_km2 !== undefined ? Number(p.area_km2).toFixed(1) : "—"];
        });
        replace(
          coverageOut,
          table(["", t("planning.band"), t("planning.origin"), t("planning.areaKm2")], rows, { testid: "isochrone-table" }),
          h("button", { type: "button", class: "btn btn-small", onclick: () => download("isochrones.geojson", JSON.stringify(fc), "application/geo+json") }, t("planning.downloadGeojson")),
        );
        await coverage(bands);
      } catch (err) {
        fail(err);
      }
    }),
  );

  async function coverage(bands: number[]): Promise<void> {
    if (!offers("coverage")) {
      coverageOut.append(h("p", { class: "muted" }, t("planning.coverageUnavailable")));
      return;
    }
    try {
      await ensureNames("town");
      await ensureNames("grid");
      const result = await api.get<CoverageReport>("/geo/coverage", { minutes: bands.map((b) => b / 60), per_grid: true });
      lastCoverage = result;
      const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : "—");
      const bandRows = result.bands.map((b) => [
        t("planning.minutes", { n: b.minutes }),
        b.stations,
        b.area_km2.toFixed(1),
        `${b.road_length_km.toFixed(0)} / ${b.road_length_total_km.toFixed(0)}`,
        `${b.venues_reached} / ${b.venues} (${pct(b.venues_reached, b.venues)})`,
        pct(b.population_reached, b.population),
      ]);
      const bandHeader = [t("planning.band"), t("planning.stationsN"), t("planning.areaKm2"), t("planning.roadKm"), t("planning.venuesReached"), t("planning.populationShare")];
      const first = result.bands[0];
      const shareRows = (rows: ZoneShare[], level: string) =>
        rows.map((z) => [names.get(`${level}:${z.code}`) ?? z.code, z.venues_reached, z.venues, `${(z.share * 100).toFixed(1)}%`]);
      const shareHeader = [t("fields.name"), t("planning.venuesReachedShort"), t("fields.venues"), t("planning.populationShare")];
      const worstGrids = first ? [...first.per_grid].sort((a, b) => a.share - b.share) : [];
      const fd = result.first_due;
      append(
        coverageOut,
        [
        section(
          t("planning.cityCoverage"),
          table(bandHeader, bandRows, { testid: "coverage-bands" }),
          h("button", { type: "button", class: "btn btn-small", onclick: () => download("coverage-bands.csv", toCsv(bandHeader, bandRows as (string | number)[][]), "text/csv") }, t("planning.downloadCsv")),
        ),
        first
          ? section(
              `${t("planning.perTown")} · ${t("planning.minutes", { n: first.minutes })}`,
              table(shareHeader, shareRows(first.per_town, "town"), { testid: "coverage-towns" }),
              h("button", { type: "button", class: "btn btn-small", onclick: () => download("coverage-towns.csv", toCsv(shareHeader, shareRows(first.per_town, "town") as (string | number)[][]), "text/csv") }, t("planning.downloadCsv")),
            )
          : null,
        first && worstGrids.length
          ? section(
              `${t("planning.perGrid")} · ${t("planning.minutes", { n: first.minutes })}`,
              h("p", { class: "muted" }, t("planning.worstFirst", { n: Math.min(20, worstGrids.length), total: worstGrids.length })),
              table(shareHeader, shareRows(worstGrids.slice(0, 20), "grid"), { testid: "coverage-grids" }),
              h("button", { type: "button", class: "btn btn-small", onclick: () => download("coverage-grids.csv", toCsv(shareHeader, shareRows(worstGrids, "grid") as (string | number)[][]), "text/csv") }, t("planning.downloadCsv")),
            )
          : null,
        fd && fd.venues_per_station
          ? section(
              t("planning.firstDue"),
              h("p", { class: "muted" }, `P50 ${duration(fd.travel_time_s_p50)} · P90 ${duration(fd.travel_time_s_p90)} · ${t("planning.unreached")} ${fd.venues_unreached}`),
              table(
                [t("fields.station"), t("fields.venues")],
                fd.venues_per_station.map((v) => [map.stationsById.get(v.station_id)?.name ?? v.code, v.venues]),
                { testid: "first-due" },
              ),
            )
          : null,
        ],
      );
    } catch (err) {
      fail(err);
    }
  }

  gapsBtn.addEventListener("click", () =>
    void busy(gapsBtn, async () => {
      if (!offers("hydrant_gaps")) {
        replace(gapsOut, h("p", { class: "muted" }, t("planning.gapsUnavailable")));
        return;
      }
      try {
        const fc = await api.get<GeoJSON.FeatureCollection & { properties?: Record<string, number | string> }>("/geo/hydrant-gaps");
        map.clearOverlay();
        // A heat grid, not the gap lines: thousands of lines painted the city blue.
        const classes = map.hydrantGaps(fc);
        map.fitOverlay();
        const p = fc.properties ?? {};
        const keys = ["venues", "venues_uncovered", "street_length_m", "street_gap_length_m", "hydrants_needed", "venues_unfixable", "hydrants_in_service"];
        const rows = keys.filter((k) => p[k] !== undefined).map((k) => [t(`planning.keys.${k}`), String(p[k])]);
        replace(
          gapsOut,
          section(
            t("planning.hydrantGaps"),
            h("p", { class: "muted" }, h("span", { class: "swatch", style: { background: "#e65100" } }), t("planning.uncoveredVenue"), " ", h("span", { class: "swatch", style: { background: "#1565c0" } }), t("planning.proposedHydrant")),
            h(
              "p",
              { class: "muted gap-legend", "data-testid": "gaps-legend" },
              t("planning.gapGridLegend"),
              " ",
              ...classes.map((c, i) =>
                h("span", { class: "gap-class" }, h("span", { class: "swatch swatch-square", style: { background: c.colour } }), i + 1 < classes.length ? `${c.limitM}–${classes[i + 1].limitM} m ` : `≥ ${c.limitM} m`),
              ),
            ),
            table([t("planning.item"), t("planning.value")], rows, { testid: "gaps-summary" }),
            h("button", { type: "button", class: "btn btn-small", onclick: () => download("hydrant-gaps.geojson", JSON.stringify(fc), "application/geo+json") }, t("planning.downloadGeojson")),
          ),
        );
      } catch (err) {
        fail(err);
      }
    }),
  );

  async function ensureNames(level: string): Promise<void> {
    if (loadedLevels.has(level)) return;
    loadedLevels.add(level);
    let cursor: string | null = null;
    do {
      const page: Page_JurisdictionOut_ = await api.get("/jurisdictions", { level, limit: 1000, cursor });
      page.items.forEach((j) => names.set(`${level}:${j.code}`, i18n.locale === "en" ? j.name_en : j.name_zh));
      cursor = page.next_cursor;
    } while (cursor);
  }

  async function loadTables(): Promise<void> {
    const level = levelSel.value;
    if (!can("alarms:read")) {
      // the planner reads no alarms: say so instead of asking and logging a 403
      replace(tablesOut, h("p", { class: "muted" }, t("errors.forbidden")));
      return;
    }
    try {
      await ensureNames(level);
      const result = await api.get<ColoursOut>("/alarms/colours", { level });
      const header = [t("fields.name"), t("fields.colour"), t("fields.venues"), t("fields.devices"), t("fields.offline"), t("fields.openFires"), t("fields.faults"), t("fields.overdue")];
      const rows = result.items.map((r) => [names.get(`${level}:${r.code}`) ?? r.code ?? r.path, label("colour", r.colour), r.venues ?? 0, r.devices, r.offline_devices, r.open_fire_alarms, r.unresolved_faults, r.overdue_work_orders]);
      replace(
        tablesOut,
        table(header, rows.map((r) => r.map((c, i) => (i === 1 ? h("span", { class: `badge badge-colour-${result.items[rows.indexOf(r)].colour}` }, String(c)) : (c as Cell)))), { testid: "area-table" }),
        h("button", { type: "button", class: "btn btn-small", "data-action": "download-table", onclick: () => download(`${level}-status.csv`, toCsv(header, rows as (string | number)[][]), "text/csv") }, t("planning.downloadCsv")),
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) replace(tablesOut, h("p", { class: "muted" }, t("errors.forbidden")));
      else fail(err);
    }
  }
  levelSel.addEventListener("change", () => void loadTables());
  void loadTables();
  void lastCoverage;
  void lastIsochrones;

  return () => map.destroy();
}
