// The map's style, built from data: layer order, zoom ranges and colours. Pure, so it is
// tested without a browser; map.ts turns it into Leaflet layers.

export const THREE_COLOURS: Record<string, string> = {
  red: "#d7191c",
  yellow: "#f2b705",
  green: "#1a9850",
};

export const THEME = {
  background: "#eef1f4",
  land: "#f7f7f2",
  water: "#bcd7ef",
  boundary: { city: "#5b6470", town: "#7a8591", village: "#a9b2bc", grid: "#c7ced6" },
  road: { major: "#e8a33d", secondary: "#f3d27a", minor: "#ffffff" },
  roadCasing: "#c9ced6",
  station: "#263238",
  stationRing: "#d50000",
  hydrant: "#1565c0",
  incident: "#b71c1c",
  alarm: "#ff1744",
  unit: "#6a1b9a",
};

export type RoadGroup = "major" | "secondary" | "minor";
export type BoundaryLevel = "city" | "town" | "village" | "grid";

/** The smallest zoom at which each road group is drawn (mirrors the server). */
export const ROAD_MIN_ZOOM: Record<RoadGroup, number> = { major: 0, secondary: 12, minor: 14 };
export const BOUNDARY_ZOOM: Record<BoundaryLevel, [number, number]> = {
  city: [0, 22],
  town: [0, 22],
  village: [11, 22],
  grid: [13, 22],
};

export function roadGroupsForZoom(zoom: number): RoadGroup[] {
  return (Object.keys(ROAD_MIN_ZOOM) as RoadGroup[]).filter((g) => zoom >= ROAD_MIN_ZOOM[g]);
}

export function boundaryLevelsForZoom(zoom: number): BoundaryLevel[] {
  return (Object.keys(BOUNDARY_ZOOM) as BoundaryLevel[]).filter(
    (l) => zoom >= BOUNDARY_ZOOM[l][0] && zoom <= BOUNDARY_ZOOM[l][1],
  );
}

export interface LineStyle {
  color: string;
  weight: number;
  opacity: number;
  dashArray?: string;
  fill?: boolean;
  fillColor?: string;
  fillOpacity?: number;
}

export function roadStyle(group: RoadGroup, zoom: number): LineStyle {
  const widths: Record<RoadGroup, number> = { major: 3, secondary: 2, minor: 1.2 };
  const scale = Math.max(0.6, Math.min(2.2, (zoom - 9) / 3));
  return { color: THEME.road[group], weight: +(widths[group] * scale).toFixed(2), opacity: 1 };
}

export function boundaryStyle(level: BoundaryLevel): LineStyle {
  const weight: Record<BoundaryLevel, number> = { city: 2.5, town: 1.6, village: 1, grid: 0.6 };
  return {
    color: THEME.boundary[level],
    weight: weight[level],
    opacity: 0.9,
    dashArray: level === "grid" || level === "village" ? "4 3" : undefined,
    fill: level === "city",
    fillColor: THEME.land,
    fillOpacity: level === "city" ? 1 : 0,
  };
}

const CATEGORY_PALETTE = ["#4e79a7", "#f28e2b", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#e15759"];

/** A stable colour per venue category (used when no three-colour status is known). */
export function categoryColour(category: string): string {
  let hash = 0;
  for (let i = 0; i < category.length; i++) hash = (hash * 31 + category.charCodeAt(i)) >>> 0;
  return CATEGORY_PALETTE[hash % CATEGORY_PALETTE.length];
}

export interface PointStyle {
  radius: number;
  color: string;
  fillColor: string;
  fillOpacity: number;
  weight: number;
}

export interface VenueProps {
  colour?: string | null;
  category?: string;
  key_unit?: boolean;
  high_risk?: boolean;
}

/** Venue marker: three-colour status when known (red drawn larger), else its category. */
export function venueStyle(props: VenueProps, zoom: number): PointStyle {
  const base = zoom >= 14 ? 6 : zoom >= 12 ? 4.5 : 3;
  const status = props.colour ? THREE_COLOURS[props.colour] : undefined;
  const fill = status ?? categoryColour(props.category ?? "");
  const important = props.colour === "red" ? 2.5 : props.colour === "yellow" ? 1.2 : 0;
  return {
    radius: base + important + (props.key_unit || props.high_risk ? 1 : 0),
    color: props.key_unit || props.high_risk ? "#263238" : "#ffffff",
    fillColor: fill,
    fillOpacity: 0.9,
    weight: props.key_unit || props.high_risk ? 1.5 : 0.8,
  };
}

export const UNIT_STATUS_COLOURS: Record<string, string> = {
  available_in_station: "#2e7d32",
  available_on_radio: "#66bb6a",
  dispatched: "#ef6c00",
  en_route: "#f57c00",
  on_scene: "#c62828",
  returning: "#1565c0",
  out_of_service: "#757575",
};

export function unitStatusColour(status: string): string {
  return UNIT_STATUS_COLOURS[status] ?? "#455a64";
}

/** Fill colour of isochrone band `index` of `count` (nearest: green, farthest: red). */
export function bandColour(index: number, count: number): string {
  const ramp = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"];
  if (count <= 1) return ramp[0];
  const pos = Math.round((index / (count - 1)) * (ramp.length - 1));
  return ramp[Math.max(0, Math.min(ramp.length - 1, pos))];
}

export interface LayerSpec {
  id: string;
  kind: "boundary" | "road" | "venue" | "station" | "hydrant" | "overlay";
  minZoom: number;
  maxZoom: number;
  toggleable: boolean;
  defaultOn: boolean;
}

/** The ordered layer list of the basemap (bottom first) for a view. */
export function buildMapStyle(options: { view?: string; hydrants?: boolean } = {}): LayerSpec[] {
  const layers: LayerSpec[] = [
    { id: "boundary-city", kind: "boundary", minZoom: 0, maxZoom: 22, toggleable: false, defaultOn: true },
    { id: "roads", kind: "road", minZoom: 0, maxZoom: 22, toggleable: true, defaultOn: true },
    { id: "boundary-town", kind: "boundary", minZoom: 0, maxZoom: 22, toggleable: true, defaultOn: true },
    { id: "boundary-village", kind: "boundary", minZoom: 11, maxZoom: 22, toggleable: true, defaultOn: true },
    { id: "boundary-grid", kind: "boundary", minZoom: 13, maxZoom: 22, toggleable: true, defaultOn: true },
    { id: "venues", kind: "venue", minZoom: 0, maxZoom: 22, toggleable: true, defaultOn: options.view !== "planning" },
    { id: "hydrants", kind: "hydrant", minZoom: 13, maxZoom: 22, toggleable: true, defaultOn: options.hydrants ?? options.view === "planning" },
    { id: "stations", kind: "station", minZoom: 0, maxZoom: 22, toggleable: true, defaultOn: true },
    { id: "overlay", kind: "overlay", minZoom: 0, maxZoom: 22, toggleable: false, defaultOn: true },
  ];
  return layers;
}

export function layerVisible(layer: LayerSpec, zoom: number): boolean {
  return zoom >= layer.minZoom && zoom <= layer.maxZoom;
}
