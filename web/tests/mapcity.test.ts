import { describe, expect, it } from "vitest";
import { GAP_CLASSES_M, gapGrid, gapLevel } from "../src/gapgrid";
import { clusterCount, clusterStyle, labelWidth, placeLabels, snapBbox, worldPx } from "../src/mapstyle";

describe("view boxes", () => {
  it("snaps nearby views to the same box (a pan asks for the same URL)", () => {
    const a = snapBbox([113.70, 22.90, 113.80, 22.97], 12);
    const b = snapBbox([113.701, 22.901, 113.801, 22.971], 12);
    expect(a).toEqual(b);
    expect(a[0]).toBeLessThanOrEqual(113.7);
    expect(a[2]).toBeGreaterThanOrEqual(113.8);
    expect(a[1]).toBeLessThanOrEqual(22.9);
    expect(a[3]).toBeGreaterThanOrEqual(22.97);
  });
  it("places points like the server (Web Mercator, 256-pixel tiles)", () => {
    expect(worldPx(0, 0, 0)).toEqual([128, 128]);
    expect(worldPx(180, 0, 1)[0]).toBe(512);
  });
});

describe("clusters", () => {
  it("shows the worst member's colour and grows with the count", () => {
    const red = clusterStyle("venue", { cluster: true, count: 10, bounds: [], flags: { red: 1, yellow: 3 } });
    const plain = clusterStyle("venue", { cluster: true, count: 10_000, bounds: [], flags: { red: 0, yellow: 0 } });
    expect(red.tone).toBe("red");
    expect(plain.tone).toBe("plain");
    expect(plain.size).toBeGreaterThan(red.size);
    expect(clusterCount(12_345)).toBe("12k");
    expect(clusterCount(1_234)).toBe("1.2k");
    expect(clusterCount(7)).toBe("7");
  });
});

describe("labels", () => {
  it("drops a label that would overlap a more important one", () => {
    const placed = placeLabels(
      [
        { id: "town:a", text: "莞城街道", x: 200, y: 200, priority: 10 },
        { id: "village:b", text: "西隅社区", x: 210, y: 205, priority: 1 },
        { id: "village:c", text: "东正社区", x: 400, y: 300, priority: 1 },
        { id: "village:d", text: "off screen", x: -50, y: 10, priority: 5 },
      ],
      { width: 800, height: 600 },
    );
    expect(placed.map((p) => p.id)).toEqual(["town:a", "village:c"]);
    expect(labelWidth("莞城")).toBeGreaterThan(labelWidth("ab"));
  });
});

describe("hydrant gaps", () => {
  it("sums gap length per cell instead of drawing every street", () => {
    const line = (lon: number, lat: number, length_m: number): GeoJSON.Feature => ({
      type: "Feature",
      properties: { kind: "street_gap", length_m },
      geometry: { type: "LineString", coordinates: [[lon, lat], [lon + 0.0005, lat]] },
    });
    const fc: GeoJSON.FeatureCollection = {
      type: "FeatureCollection",
      features: [
        line(113.7001, 22.9001, 300),
        line(113.7002, 22.9002, 400),
        line(113.8001, 22.9501, 50),
        { type: "Feature", properties: { kind: "uncovered_venue" }, geometry: { type: "Point", coordinates: [113.7003, 22.9003] } },
        { type: "Feature", properties: { kind: "proposed_hydrant" }, geometry: { type: "Point", coordinates: [113.9, 23.0] } },
      ],
    };
    const cells = gapGrid(fc);
    expect(cells).toHaveLength(2);
    const busy = cells.find((c) => c.gapLengthM === 700);
    expect(busy?.uncoveredVenues).toBe(1);
    expect(busy?.level).toBe(0);
    expect(cells.find((c) => c.gapLengthM === 50)?.level).toBe(-1); // too little to draw
    expect(gapLevel(2600)).toBe(2);
    expect(gapLevel(5000)).toBe(GAP_CLASSES_M.length - 1);
  });
});
