// The before/after figures of a what-if simulation, formatted for the planning view:
// times as m:ss, shares as percentages, counts as integers; the change signed.

export interface SimRow {
  before: number | null;
  after: number | null;
}

export const SIM_ORDER = [
  "first_arrival_p50_s",
  "first_arrival_p90_s",
  "within_5_min_of_dispatch",
  "within_5_min_of_call",
  "erf_p50_s",
  "erf_p90_s",
  "unit_utilisation",
  "no_unit_free",
  "plan_not_met",
] as const;

type Kind = "time" | "share" | "count";

function kindOf(key: string): Kind {
  if (key.endsWith("_s")) return "time";
  if (key.startsWith("within_") || key === "unit_utilisation") return "share";
  return "count";
}

function clock(seconds: number): string {
  const whole = Math.round(Math.abs(seconds));
  const m = Math.floor(whole / 60);
  const s = whole % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

export function formatFigure(key: string, value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  switch (kindOf(key)) {
    case "time":
      return clock(value);
    case "share":
      return `${(value * 100).toFixed(1)}%`;
    default:
      return String(Math.round(value));
  }
}

export function formatChange(key: string, row: SimRow): string {
  if (row.before === null || row.after === null) return "—";
  const diff = row.after - row.before;
  const sign = diff > 0 ? "+" : diff < 0 ? "−" : "±";
  const kind = kindOf(key);
  if (kind === "share") return `${sign}${Math.abs(diff * 100).toFixed(1)} pp`;
  if (kind === "time") return `${sign}${clock(diff)}`;
  return `${sign}${Math.abs(Math.round(diff))}`;
}

/** [key, before, after, change] in the report's order; unknown keys follow. */
export function simulationRows(comparison: Record<string, SimRow>): [string, string, string, string][] {
  const known = SIM_ORDER.filter((k) => k in comparison);
  const rest = Object.keys(comparison).filter((k) => !(SIM_ORDER as readonly string[]).includes(k));
  return [...known, ...rest].map((key) => {
    const row = comparison[key];
    return [key, formatFigure(key, row.before), formatFigure(key, row.after), formatChange(key, row)];
  });
}
