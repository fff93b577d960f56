// Response analytics (响应分析): p50/p90 of call processing, turnout, travel, first arrival
// and effective response force by station, unit, town, grid, type or hour; the share within
// 5 minutes; a bar chart of first-arrival p90 against the 5-minute line; xlsx export; and
// move-up advice (补位) when a station is left without a unit.

import { api, fail, label, t } from "../ctx";
import { h, replace } from "../dom";
import { busy, duration, field, section, select, table, type Cell } from "./common";
import { barChart } from "./barchart";
import type { AnalyticsOut, AnalyticsRowOut, MoveUpOut } from "../generated/api";

const GROUPINGS = ["station", "town", "grid", "unit", "type", "hour"];
function share(value: number | null): string {
  return value === null ? "—" : `${(value * 100).toFixed(1)}%`;
}

export function rowLabel(by: string, row: AnalyticsRowOut): string {
  if (by === "type") return label("incidentType", String(row.key));
  return row.label;
}

/** Horizontal bars of first-arrival p90 per group, with the 5-minute line. */
export function firstArrivalChart(data: AnalyticsOut, limit = 20): HTMLElement {
  const bars = data.rows.slice(0, limit).map((row) => {
    const value = row.intervals.first_arrival_s?.p90 ?? 0;
    return { label: rowLabel(data.by, row), value, text: duration(value), late: value > data.within_s };
  });
  return barChart(bars, t("analytics.chartTitle"), {
    max: data.within_s * 1.5,
    limit: { value: data.within_s, label: t("analytics.fiveMinutes") },
  });
}

export function analyticsRows(data: AnalyticsOut): Cell[][] {
  return [...data.rows, { ...data.totals, label: t("analytics.total"), key: null }].map((r) => [
    r.key === null ? r.label : rowLabel(data.by, r),
    r.calls,
    duration(r.intervals.call_processing_s?.p90),
    duration(r.intervals.turnout_s?.p90),
    duration(r.intervals.travel_s?.p90),
    duration(r.intervals.first_arrival_s?.p50),
    duration(r.intervals.first_arrival_s?.p90),
    duration(r.intervals.effective_response_force_s?.p90),
    share(r.within_5min_share),
    r.concurrency_max,
    r.own_station_missed ?? "—",
    share(r.utilisation),
  ]);
}

export function mountAnalytics(root: HTMLElement): () => void {
  const bySel = select("analytics-by", GROUPINGS.map((g) => [g, t(`analytics.by.${g}`)]), "station");
  const period = h("input", { id: "analytics-period", type: "text", value: "", placeholder: t("analytics.allPeriods") });
  const runBtn = h("button", { type: "button", class: "btn btn-primary", id: "analytics-run" }, t("analytics.run"));
  const xlsx = h("a", { class: "btn", id: "analytics-xlsx", href: "#", download: "response.xlsx" }, t("analytics.xlsx"));
  const out = h("div", { "data-testid": "analytics-result", "aria-live": "polite" });
  const moveBtn = h("button", { type: "button", class: "btn", id: "moveup-run" }, t("analytics.moveUp"));
  const moveOut = h("div", { "data-testid": "moveup-result" });

  async function run(): Promise<void> {
    const params = { by: bySel.value, period: period.value.trim() || undefined };
    xlsx.setAttribute("href", api.url("/analytics/response", { ...params, format: "xlsx" }));
    const data = await api.get<AnalyticsOut>("/analytics/response", params);
    const columns = ["group", "calls", "processing", "turnout", "travel", "firstP50", "firstP90", "erfP90", "within5", "concurrency", "ownMissed", "utilisation"].map((c) =>
      t(`analytics.col.${c}`),
    );
    replace(out, section(t("analytics.chartTitle"), firstArrivalChart(data)), table(columns, analyticsRows(data), { testid: "analytics-table" }));
  }

  async function moveUp(): Promise<void> {
    const advice = await api.get<MoveUpOut>("/move-up");
    if (!advice.empty_stations.length) {
      replace(moveOut, h("p", { class: "muted" }, t("analytics.noEmpty")));
      return;
    }
    replace(
      moveOut,
      h("p", null, t("analytics.empty", { names: advice.empty_stations.map((s) => s.name).join("、") })),
      table(
        [t("analytics.col.unit"), t("analytics.col.from"), t("analytics.col.to"), t("analytics.col.driveTime"), t("analytics.col.restored")],
        advice.moves.map((m) => [m.call_sign, m.from_station, m.to_station, duration(m.travel_s), m.nodes_restored]),
        { testid: "moveup-table", empty: t("analytics.noMove") },
      ),
    );
  }

  runBtn.addEventListener("click", () => void busy(runBtn, run).catch(fail));
  moveBtn.addEventListener("click", () => void busy(moveBtn, moveUp).catch(fail));
  replace(
    root,
    h("h2", null, t("nav.analytics")),
    section(t("analytics.title"), h("div", { class: "row" }, field(t("analytics.groupBy"), bySel), field(t("analytics.period"), period), runBtn, xlsx), out),
    section(t("analytics.moveUpTitle"), moveBtn, moveOut),
  );
  void run().catch(fail);
  return () => undefined;
}
