import { describe, expect, it } from "vitest";
import { convexHull, districtPolygon } from "../src/views/hull";

describe("district hull", () => {
  it("keeps the corners and drops the inner and collinear points", () => {
    const hull = convexHull([
      [0, 0], [2, 0], [1, 0], [2, 2], [0, 2], [1, 1], [0, 2],
    ]);
    expect(hull).toEqual([[0, 0], [2, 0], [2, 2], [0, 2]]);
  });

  it("gives no polygon for points spanning no area", () => {
    expect(convexHull([[0, 0], [1, 1], [2, 2]])).toEqual([]);
    expect(districtPolygon([[0, 0], [1, 1]], "N1")).toBeNull();
  });

  it("closes the ring of the polygon", () => {
    const f = districtPolygon([[0, 0], [1, 0], [0, 1]], "N2");
    expect(f?.geometry).toEqual({ type: "Polygon", coordinates: [[[0, 0], [1, 0], [0, 1], [0, 0]]] });
  });
});
