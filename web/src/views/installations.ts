// Installation programmes (安装工程): smoke alarms and simple sprinklers installed per
// town (village, grid) and month of a year or a month; the programmes and their targets;
// the figures as CSV.

import { api, fail, i18n, label, t } from "../ctx";
import { h, replace } from "../dom";
import { barChart, scrollable } from "./barchart";
import { dl, field, section, select, table } from "./common";
import type { ProgrammeList, ReportOut } from "../generated/api";

export function mountInstallations(root: HTMLElement): () => void {
  const page = h("div", { class: "page-body", "data-testid": "installations-page" });
  root.append(page);
  const period = h("input", { id: "inst-period", value: String(new Date().getFullYear()), pattern: "\\d{4}(-\\d{2})?", inputmode: "numeric", required: true });
  const level = select("inst-level", ["town", "village", "grid"].map((l) => [l, label("perfLevel", l)]), "town");
  const csv = h("a", { class: "btn", "data-testid": "inst-csv", download: "" }, t("inst.csv"));
  const out = h("div", null);

  async function load(): Promise<void> {
    if (!/^\d{4}(-\d{2})?$/.test(period.value)) return;
    csv.setAttribute("href", api.url("/installations/report.csv", { period: period.value, level: level.value }));
    try {
      const [report, programmes] = await Promise.all([
        api.get<ReportOut>("/installations/report", { period: period.value, level: level.value }),
        api.get<ProgrammeList>("/installations/programmes"),
      ]);
      const byUnit = new Map<string, { name: string; total: number; smoke: number; sprinkler: number; connected: number }>();
      for (const r of report.items) {
        const name = (i18n.locale === "en" ? r.unit_name_en : r.unit_name_zh) || r.unit;
        const u = byUnit.get(r.unit) ?? { name, total: 0, smoke: 0, sprinkler: 0, connected: 0 };
        u.total += r.total;
        u.smoke += r.smoke_alarms;
        u.sprinkler += r.simple_sprinklers;
        u.connected += r.connected;
        byUnit.set(r.unit, u);
      }
      const units = [...byUnit.values()].sort((a, b) => b.total - a.total);
      const tot = report.totals;
      replace(
        out,
        section(
          t("inst.totals"),
          dl([
            [t("inst.smokeAlarms"), tot.smoke_alarms],
            [t("inst.sprinklers"), tot.simple_sprinklers],
            [t("inst.connected"), tot.connected],
            [t("inst.households"), tot.households],
            [t("inst.venues"), tot.venues],
          ]),
        ),
        units.length ? section(t("inst.chart"), barChart(units.slice(0, 33).map((u) => ({ label: u.name, value: u.total })), t("inst.chart"))) : null,
        scrollable(table(
          [t("perf.unit"), t("inst.smokeAlarms"), t("inst.sprinklers"), t("inst.connected")],
          units.map((u) => [u.name, u.smoke, u.sprinkler, u.connected]),
          { testid: "inst-table", empty: t("inst.none"), caption: t("inst.caption", { period: period.value }) },
        ), t("inst.chart")),
        section(
          t("inst.programmes"),
          scrollable(table(
            [t("fields.code"), t("fields.name"), t("inst.dates"), t("inst.installed"), t("inst.target")],
            programmes.items.map((p) => [p.code, p.name, `${p.starts_on} – ${p.ends_on}`, p.installed, p.target_count || "—"]),
            { testid: "inst-programmes" },
          ), t("inst.programmes")),
        ),
      );
    } catch (err) {
      fail(err);
    }
  }

  period.addEventListener("change", () => void load());
  level.addEventListener("change", () => void load());
  replace(page, h("h2", null, t("inst.title")), h("div", { class: "row filters" }, field(t("inst.period"), period), field(t("perf.level"), level), csv), out);
  void load();
  return () => undefined;
}
