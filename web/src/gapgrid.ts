// The hydrant-gap result as a heat grid: street length without a hydrant in reach, summed
// per cell of about 1 km, in four classes with a legend (a cell under the first class is
// not drawn). Drawn instead of the gap lines
// themselves, which at city zoom (thousands of 4-pixel lines) painted the whole city blue.
// Pure, so it is tested without a browser; map.ts draws the cells.

export interface GapCell {
  west: number;
  south: number;
  east: number;
  north: number;
  gapLengthM: number;
  uncoveredVenues: number;
  level: number;
}

/** Class limits in metres of street without a hydrant per cell (class i: ≥ limit i). */
export const GAP_CLASSES_M = [250, 1000, 2500, 5000];
export const GAP_COLOURS = ["#fcc5a0", "#f68a6a", "#d7301f", "#7f0000"];

/** The class of a cell (-1: under the first limit, not drawn). */
export function gapLevel(lengthM: number): number {
  let level = -1;
  GAP_CLASSES_M.forEach((limit, i) => {
    if (lengthM >= limit) level = i;
  });
  return level;
}

function midpoint(coords: number[][]): [number, number] | null {
  if (!coords.length) return null;
  const a = coords[0];
  const b = coords[coords.length - 1];
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

/** Cells of `cellM` metres holding street gaps or uncovered venues (others are left out). */
export function gapGrid(fc: GeoJSON.FeatureCollection, cellM = 1000): GapCell[] {
  const cellLat = cellM / 111_320;
  const cells = new Map<string, GapCell>();
  let cellLon = 0;
  const add = (lon: number, lat: number, lengthM: number, venues: number) => {
    if (!cellLon) cellLon = cellLat / Math.max(0.2, Math.cos((lat * Math.PI) / 180));
    const i = Math.floor(lon / cellLon);
    const j = Math.floor(lat / cellLat);
    const key = `${i}:${j}`;
    let cell = cells.get(key);
    if (!cell) {
      cell = { west: i * cellLon, south: j * cellLat, east: (i + 1) * cellLon, north: (j + 1) * cellLat, gapLengthM: 0, uncoveredVenues: 0, level: 0 };
      cells.set(key, cell);
    }
    cell.gapLengthM += lengthM;
    cell.uncoveredVenues += venues;
  };
  for (const f of fc.features) {
    const kind = f.properties?.kind;
    if (kind === "street_gap" && f.geometry?.type === "LineString") {
      const mid = midpoint(f.geometry.coordinates);
      if (mid) add(mid[0], mid[1], Number(f.properties?.length_m ?? 0), 0);
    } else if (kind === "uncovered_venue" && f.geometry?.type === "Point") {
      const [lon, lat] = f.geometry.coordinates;
      add(lon, lat, 0, 1);
    }
  }
  const out = [...cells.values()];
  for (const cell of out) cell.level = gapLevel(cell.gapLengthM);
  return out;
}
