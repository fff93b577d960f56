// Siting (part of the planning view): ask where the next stations go (model and
// parameters), see the proposed sites and their districts on the map, the before/after
// table, the stored plans, and export a plan (GeoJSON, xlsx, HTML report). Logistics points
// can be shown on the map.

import { api, fail, t } from "../ctx";
import { h, replace } from "../dom";
import type { CityMap } from "../map";
import { busy, field, section, select, table, type Cell } from "./common";
import { districtPolygon } from "./hull";
import { followJob, type PlanningJob } from "./planjobs";
import { simulationRows } from "./simfigures";
import type { firegrid__planning__schemas__PlanListOut as PlanListOut, firegrid__planning__schemas__PlanOut as ServerPlanOut, Page_LogisticsPointOut_ } from "../generated/api";

// PlanOut.result is `dict[str, Any]` on the server (the stored answer, whose shape depends on
// the plan's kind): Site, Times and PlanResult narrow it to a station plan's keys read here.
interface Site {
  code: string;
  lon: number;
  lat: number;
  node?: number;
  district?: { demand_points: number; weight: number; newly_covered_weight: number; points: [number, number][] };
}

interface Times {
  covered_share: number;
  mean_time_s: number | null;
  worst_time_s: number | null;
}

interface PlanResult {
  model: string;
  sites: Site[];
  objective: number | null;
  bound: number | null;
  gap: number | null;
  optimal: boolean;
  method: string | null;
  coverage?: { minutes: number; before: Times; after: Times };
}

// PlanOut.simulation is `dict[str, Any] | None` on the server: narrowed to the comparison shown.
type PlanOut = Omit<ServerPlanOut, "result" | "simulation"> & {
  result: PlanResult;
  simulation?: { comparison?: Record<string, { before: number | null; after: number | null }> } | null;
};

const MODELS = ["mclp", "lscp", "pmedian", "pcenter", "backup", "mexclp"];
const share = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const secs = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${Math.round(v)} s`);

export function mountSiting(box: HTMLElement, map: CityMap): void {
  const model = select("siting-model", MODELS.map((m) => [m, t(`siting.models.${m}`)]), "mclp");
  const add = h("input", { type: "number", id: "siting-add", min: "0", max: "50", value: "5" }) as HTMLInputElement;
  const minutes = h("input", { type: "number", id: "siting-minutes", min: "1", max: "30", step: "0.5", value: "5" }) as HTMLInputElement;
  const spacing = h("input", { type: "number", id: "siting-spacing", min: "200", max: "5000", step: "50", value: "1000" }) as HTMLInputElement;
  const runBtn = h("button", { type: "button", class: "btn btn-primary", id: "siting-run" }, t("siting.run")) as HTMLButtonElement;
  const logisticsBtn = h("button", { type: "button", class: "btn", id: "siting-logistics" }, t("siting.showLogistics")) as HTMLButtonElement;
  const hydrantsBtn = h("button", { type: "button", class: "btn", id: "siting-hydrants-job" }, t("siting.jobs.hydrants")) as HTMLButtonElement;
  const logisticsP = h("input", { type: "number", id: "siting-logistics-p", min: "1", max: "100", value: "3" }) as HTMLInputElement;
  const logisticsJobBtn = h("button", { type: "button", class: "btn", id: "siting-logistics-job" }, t("siting.jobs.logistics")) as HTMLButtonElement;
  const jobStatus = h("div", { "data-testid": "siting-job-status", "aria-live": "polite" });
  const out = h("div", { "data-testid": "siting-result", "aria-live": "polite" });
  const plansOut = h("div", { "data-testid": "siting-plans" });

  box.append(
    section(
      t("siting.title"),
      field(t("siting.model"), model),
      field(t("siting.add"), add),
      field(t("siting.minutes"), minutes),
      field(t("siting.spacing"), spacing),
      h("div", { class: "row" }, runBtn, logisticsBtn),
      field(t("siting.jobs.p"), logisticsP),
      h("div", { class: "row" }, hydrantsBtn, logisticsJobBtn),
      jobStatus,
      out,
      plansOut,
    ),
  );

  function show(plan: PlanOut): void {
    const r = plan.result;
    map.clearOverlay();
    const districts = r.sites.flatMap((site) => {
      const polygon = districtPolygon(site.district?.points ?? [], site.code);
      return polygon ? [polygon] : [];
    });
    // a district as the convex hull of the demand points its site serves first (over-states
    // a district that is not convex; the points themselves are drawn too)
    const collection: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: districts };
    if (districts.length) map.geojson(collection, { color: "#f4a261", weight: 1, fillOpacity: 0.15 });
    for (const site of r.sites) {
      for (const [lon, lat] of site.district?.points ?? []) map.marker(lon, lat, { colour: "#f4a261", radius: 3 });
    }
    for (const site of r.sites) map.marker(site.lon, site.lat, { colour: "#c62828", radius: 9, tooltip: site.code });
    if (r.sites.length) map.fitOverlay();
    const quality: Cell[][] = [
      [t("siting.objective"), r.objective == null ? "—" : r.objective.toFixed(2)],
      [t("siting.bound"), r.bound == null ? "—" : r.bound.toFixed(2)],
      [t("siting.gap"), r.gap == null ? "—" : `${(r.gap * 100).toFixed(3)}%`],
      [t("siting.optimal"), r.optimal ? t("common.yes") : t("siting.notProven")],
      [t("siting.method"), r.method ?? "—"],
    ];
    const cov = r.coverage;
    const beforeAfter: Cell[][] = cov
      ? [
          [t("siting.coveredShare", { n: cov.minutes }), share(cov.before.covered_share), share(cov.after.covered_share)],
          [t("siting.meanTime"), secs(cov.before.mean_time_s), secs(cov.after.mean_time_s)],
          [t("siting.worstTime"), secs(cov.before.worst_time_s), secs(cov.after.worst_time_s)],
        ]
      : [];
    for (const [key, before, after] of simulationRows(plan.simulation?.comparison ?? {})) {
      beforeAfter.push([t(`siting.sim.${key}`), before, after]);
    }
    const sites: Cell[][] = r.sites.map((s) => [s.code, `${s.lon.toFixed(5)}, ${s.lat.toFixed(5)}`, s.district?.demand_points ?? "—", s.district?.newly_covered_weight?.toFixed(1) ?? "—"]);
    const id = plan.summary.id;
    const callsFile = h("input", { type: "file", id: "siting-calls", accept: ".jsonl,.json,application/x-ndjson" }) as HTMLInputElement;
    const simulateBtn = h("button", { type: "button", class: "btn", id: "siting-simulate" }, t("siting.jobs.simulate")) as HTMLButtonElement;
    simulateBtn.addEventListener("click", () =>
      void busy(simulateBtn, async () => {
        const file = callsFile.files?.[0];
        if (!file) {
          replace(jobStatus, t("siting.jobs.needCalls"));
          return;
        }
        try {
          const form = new FormData();
          form.append("calls", file);
          const job = await followJob(() => api.postForm(`/planning/plans/${id}/simulate`, form), jobStatus);
          if (job.status === "done") await open(id);
        } catch (err) {
          fail(err);
        }
      }),
    );
    replace(
      out,
      table([t("planning.item"), t("planning.value")], quality, { testid: "siting-quality" }),
      table([t("planning.item"), t("siting.before"), t("siting.after")], beforeAfter, { testid: "siting-before-after" }),
      table([t("siting.site"), t("siting.point"), t("siting.district"), t("siting.newlyCovered")], sites, { testid: "siting-sites" }),
      field(t("siting.jobs.calls"), callsFile),
      h("div", { class: "row" }, simulateBtn),
      h(
        "div",
        { class: "row" },
        ...["geojson", "xlsx", "html"].map((format) =>
          h("a", { class: "btn btn-small", href: api.url(`/planning/plans/${id}/export`, { format }), download: `plan-${id}.${format}` }, format.toUpperCase()),
        ),
      ),
    );
  }

  async function listPlans(): Promise<void> {
    try {
      const list = await api.get<PlanListOut>("/planning/plans", { kind: "stations" });
      const rows: Cell[][] = list.items.map((p) => [
        h("button", { type: "button", class: "btn btn-small", onclick: () => void open(p.id) }, `#${p.id}`),
        t(`siting.models.${p.model}`),
        p.sites,
        share(p.coverage_before),
        share(p.coverage_after),
        p.optimal ? t("common.yes") : t("siting.notProven"),
      ]);
      replace(plansOut, table([t("siting.plan"), t("siting.model"), t("siting.sites"), t("siting.before"), t("siting.after"), t("siting.optimal")], rows, { testid: "siting-plan-list" }));
    } catch (err) {
      fail(err);
    }
  }

  async function open(id: number): Promise<void> {
    try {
      show(await api.get<PlanOut>(`/planning/plans/${id}`));
    } catch (err) {
      fail(err);
    }
  }

  runBtn.addEventListener("click", () =>
    void busy(runBtn, async () => {
      try {
        // a background job (the city-scale solve takes a while): follow its stages, then open the plan
        const job = await followJob(
          () =>
            api.post<PlanningJob>("/planning/stations", {
              model: model.value,
              add: Number(add.value),
              minutes: Number(minutes.value),
              spacing_m: Number(spacing.value),
            }),
          jobStatus,
        );
        if (job.status === "done" && job.plan_id !== null) await open(job.plan_id);
        await listPlans();
      } catch (err) {
        fail(err);
      }
    }),
  );

  function planJob(button: HTMLButtonElement, path: string, body: () => unknown): void {
    button.addEventListener("click", () =>
      void busy(button, async () => {
        try {
          const job = await followJob(() => api.post(path, body()), jobStatus);
          if (job.status === "done" && job.plan_id !== null) await open(job.plan_id);
        } catch (err) {
          fail(err);
        }
      }),
    );
  }
  planJob(hydrantsBtn, "/planning/hydrants", () => ({}));
  planJob(logisticsJobBtn, "/planning/logistics", () => ({ p: Number(logisticsP.value) }));

  logisticsBtn.addEventListener("click", () =>
    void busy(logisticsBtn, async () => {
      try {
        const page = await api.get<Page_LogisticsPointOut_>("/logistics-points", { limit: 500 });
        for (const p of page.items) map.marker(p.lon, p.lat, { colour: "#2e7d32", radius: 7, tooltip: `${t("siting.logisticsPoint")} ${p.name}` });
      } catch (err) {
        fail(err);
      }
    }),
  );

  void listPlans();
}
