import { describe, expect, it } from "vitest";
import { formatChange, formatFigure, simulationRows } from "../src/views/simfigures";

describe("simulation figures", () => {
  it("formats times, shares and counts", () => {
    expect(formatFigure("first_arrival_p50_s", 305)).toBe("5:05");
    expect(formatFigure("within_5_min_of_call", 0.4567)).toBe("45.7%");
    expect(formatFigure("no_unit_free", 12)).toBe("12");
    expect(formatFigure("erf_p90_s", null)).toBe("—");
  });

  it("signs the change in the figure's unit", () => {
    expect(formatChange("first_arrival_p90_s", { before: 600, after: 540 })).toBe("−1:00");
    expect(formatChange("unit_utilisation", { before: 0.2, after: 0.25 })).toBe("+5.0 pp");
    expect(formatChange("no_unit_free", { before: 3, after: 3 })).toBe("±0");
    expect(formatChange("no_unit_free", { before: null, after: 3 })).toBe("—");
  });

  it("orders the rows as the report does, unknown figures last", () => {
    const rows = simulationRows({
      plan_not_met: { before: 4, after: 1 },
      zz_extra: { before: 1, after: 2 },
      first_arrival_p50_s: { before: 300, after: 240 },
    });
    expect(rows.map((r) => r[0])).toEqual(["first_arrival_p50_s", "plan_not_met", "zz_extra"]);
    expect(rows[0]).toEqual(["first_arrival_p50_s", "5:00", "4:00", "−1:00"]);
  });
});
