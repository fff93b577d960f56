// Grid-worker performance (网格员考核) for town and village leaders: a month's visits done
// vs planned, hazards found and rectified on time, alarm-check response, tasks overdue —
// per worker, grid, village or town; a chart of completion, the table, the xlsx export.

import { api, fail, label, t } from "../ctx";
import { h, replace } from "../dom";
import { barChart, scrollable } from "./barchart";
import { duration, field, section, select, table } from "./common";
import type { PerformanceOut, PerformanceRowOut } from "../generated/api";

const LEVELS = ["town", "village", "grid", "worker"];

function lastMonth(now = new Date()): string {
  const d = new Date(now.getFullYear(), now.getMonth() - 1, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

function pct(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
}

export function mountPerformance(root: HTMLElement): () => void {
  const page = h("div", { class: "page-body", "data-testid": "performance-page" });
  root.append(page);
  const period = h("input", { id: "perf-period", type: "month", value: lastMonth(), required: true });
  const level = select("perf-level", LEVELS.map((l) => [l, label("perfLevel", l)]), "village");
  const download = h("a", { class: "btn", "data-testid": "perf-xlsx", download: "" }, t("perf.xlsx"));
  const out = h("div", null);

  async function load(): Promise<void> {
    if (!/^\d{4}-\d{2}$/.test(period.value)) return;
    download.setAttribute("href", api.url("/inspections/performance.xlsx", { period: period.value, level: level.value }));
    try {
      const data = await api.get<PerformanceOut>("/inspections/performance", { period: period.value, level: level.value });
      const rows = [...data.items].sort((a, b) => (a.completion ?? 0) - (b.completion ?? 0));
      const unitName = (r: PerformanceRowOut) => r.worker_name || r.unit;
      replace(
        out,
        rows.length
          ? section(
              t("perf.chart"),
              barChart(
                rows.slice(0, 25).map((r) => ({ label: unitName(r), value: r.completion ?? 0, text: pct(r.completion) })),
                t("perf.chart"),
                { max: 1 },
              ),
              rows.length > 25 ? h("p", { class: "muted" }, t("perf.chartLowest", { n: 25 })) : null,
            )
          : null,
        scrollable(table(
          [t("perf.unit"), t("perf.planned"), t("perf.done"), t("perf.completion"), t("perf.hazardsFound"), t("perf.onTime"), t("perf.hazardsOverdue"), t("perf.alarmChecks"), t("perf.meanResponse"), t("perf.tasksOverdue")],
          rows.map((r) => [unitName(r), r.planned.toFixed(1), r.done, pct(r.completion), r.hazards_found, pct(r.rectified_on_time_rate), r.hazards_overdue, r.alarm_checks, duration(r.alarm_check_mean_s), r.tasks_overdue.toFixed(1)]),
          { caption: t("perf.caption", { period: period.value, level: label("perfLevel", level.value) }), testid: "perf-table", empty: t("perf.none") },
        ), t("perf.title")),
      );
    } catch (err) {
      fail(err);
    }
  }

  period.addEventListener("change", () => void load());
  level.addEventListener("change", () => void load());
  replace(
    page,
    h("h2", null, t("perf.title")),
    h("div", { class: "row filters" }, field(t("perf.period"), period), field(t("perf.level"), level), download),
    out,
  );
  void load();
  return () => undefined;
}
