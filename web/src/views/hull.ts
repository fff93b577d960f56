// A district drawn as the convex hull of the points its new site serves first (Andrew's
// monotone chain). A hull over-states a district whose points are not convex: the console
// says so in its legend; the exact points stay on the map as dots.

export type Pt = [number, number];

function cross(o: Pt, a: Pt, b: Pt): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** The hull, counter-clockwise, without the closing point; fewer than 3 distinct points: []. */
export function convexHull(points: Pt[]): Pt[] {
  const pts = [...new Map(points.map((p) => [`${p[0]},${p[1]}`, p])).values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return [];
  const lower: Pt[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Pt[] = [];
  for (const p of [...pts].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  const hull = [...lower.slice(0, -1), ...upper.slice(0, -1)];
  return hull.length >= 3 ? hull : [];
}

/** A GeoJSON polygon of the hull (closed ring), or null when the points span no area. */
export function districtPolygon(points: Pt[], code: string): GeoJSON.Feature | null {
  const hull = convexHull(points);
  if (!hull.length) return null;
  return {
    type: "Feature",
    properties: { code, kind: "district" },
    geometry: { type: "Polygon", coordinates: [[...hull, hull[0]]] },
  };
}
