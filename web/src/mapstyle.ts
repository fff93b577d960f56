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
  kind: "boundary" | "road" | "venue" | "device" | "station" | "hydrant" | "overlay";
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
    { id: "devices", kind: "device", minZoom: 0, maxZoom: 22, toggleable: true, defaultOn: false },
    { id: "hydrants", kind: "hydrant", minZoom: 13, maxZoom: 22, toggleable: true, defaultOn: options.hydrants ?? options.view === "planning" },
    { id: "stations", kind: "station", minZoom: 0, maxZoom: 22, toggleable: true, defaultOn: true },
    { id: "overlay", kind: "overlay", minZoom: 0, maxZoom: 22, toggleable: false, defaultOn: true },
  ];
  return layers;
}

export function layerVisible(layer: LayerSpec, zoom: number): boolean {
  return zoom >= layer.minZoom && zoom <= layer.maxZoom;
}

// City scale: clusters, labels, view cells ------------------------------------------------

/** Web Mercator pixel position of a point at `zoom` (256-pixel tiles), as the server uses. */
export function worldPx(lon: number, lat: number, zoom: number): [number, number] {
  const size = 256 * Math.pow(2, zoom);
  const phi = (Math.max(-85.05112878, Math.min(85.05112878, lat)) * Math.PI) / 180;
  const x = ((lon + 180) / 360) * size;
  const y = ((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * size;
  return [x, y];
}

function lonOfPx(x: number, zoom: number): number {
  return (x / (256 * Math.pow(2, zoom))) * 360 - 180;
}

function latOfPx(y: number, zoom: number): number {
  const n = Math.PI - (2 * Math.PI * y) / (256 * Math.pow(2, zoom));
  return (180 / Math.PI) * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n)));
}

/** Pixels of the cells a view's box is widened to: small pans ask for the same box again. */
export const VIEW_CELL_PX = 512;

/**
 * The view's box [west, south, east, north] widened outward to whole `VIEW_CELL_PX` cells
 * of the world's pixel grid at `zoom`, rounded: the same nearby views give the same URL, so
 * a layer is fetched once (and then served from the cache) while the operator pans.
 */
export function snapBbox(box: [number, number, number, number], zoom: number): [number, number, number, number] {
  const z = Math.round(zoom);
  const [x0, y1] = worldPx(box[0], box[1], z);
  const [x1, y0] = worldPx(box[2], box[3], z);
  const c = VIEW_CELL_PX;
  const west = lonOfPx(Math.floor(x0 / c) * c, z);
  const east = lonOfPx(Math.ceil(x1 / c) * c, z);
  const north = latOfPx(Math.floor(y0 / c) * c, z);
  const south = latOfPx(Math.ceil(y1 / c) * c, z);
  const r = (v: number) => +v.toFixed(5);
  return [r(Math.max(-180, west)), r(south), r(Math.min(180, east)), r(north)];
}

export interface ClusterProps {
  cluster: true;
  count: number;
  bounds: number[];
  flags: Record<string, number>;
}

export function isCluster(props: unknown): props is ClusterProps {
  return !!props && (props as { cluster?: unknown }).cluster === true;
}

/** A cluster's disc: size by its count, colour by the worst of its members. */
export type PointKind = "venue" | "hydrant" | "device";

export function clusterStyle(kind: PointKind, props: ClusterProps): { size: number; colour: string; tone: string } {
  const size = Math.round(Math.max(22, Math.min(56, 14 + 8 * Math.log10(Math.max(1, props.count)))));
  if (kind === "device") {
    return props.flags.offline ? { size, colour: "#78909c", tone: "device-offline" } : { size, colour: THEME.unit, tone: "device" };
  }
  if (kind === "hydrant") {
    return props.flags.unavailable ? { size, colour: "#90a4ae", tone: "hydrant-mixed" } : { size, colour: THEME.hydrant, tone: "hydrant" };
  }
  if (props.flags.red) return { size, colour: THREE_COLOURS.red, tone: "red" };
  if (props.flags.yellow) return { size, colour: THREE_COLOURS.yellow, tone: "yellow" };
  return { size, colour: "#455a64", tone: "plain" };
}

/** Short count text for a cluster (12,345 → "12k"). */
export function clusterCount(count: number): string {
  if (count >= 10_000) return `${Math.round(count / 1000)}k`;
  if (count >= 1000) return `${(count / 1000).toFixed(1)}k`;
  return String(count);
}

/** Which jurisdiction labels read at a zoom: towns at city zoom, villages closer in. */
export const LABEL_ZOOM: Record<"town" | "village", [number, number]> = { town: [0, 13.5], village: [12, 22] };
/** From this zoom the road names of the OSM import are written (mirrors the server). */
export const ROAD_LABEL_MIN_ZOOM = 14;

export interface LabelCandidate {
  id: string;
  text: string;
  x: number;
  y: number;
  priority: number;
}

export interface PlacedLabel extends LabelCandidate {
  width: number;
  height: number;
}

/** Rough width in pixels of a label (CJK characters are wider than Latin ones). */
export function labelWidth(text: string, fontPx = 12): number {
  let width = 0;
  for (const ch of text) width += ch.charCodeAt(0) > 0x2e80 ? fontPx : fontPx * 0.6;
  return Math.ceil(width + 8);
}

/**
 * Greedy label placement: highest priority first, a label is dropped when its box (with a
 * margin) overlaps one already placed or leaves the screen. O(n²) on the few hundred labels
 * of a view.
 */
export function placeLabels(candidates: LabelCandidate[], screen: { width: number; height: number }, fontPx = 12, margin = 4): PlacedLabel[] {
  const placed: PlacedLabel[] = [];
  const sorted = [...candidates].sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
  for (const c of sorted) {
    const width = labelWidth(c.text, fontPx);
    const height = fontPx + 6;
    const left = c.x - width / 2;
    const top = c.y - height / 2;
    if (left < 0 || top < 0 || left + width > screen.width || top + height > screen.height) continue;
    const clash = placed.some(
      (p) => left < p.x + p.width / 2 + margin && left + width + margin > p.x - p.width / 2 && top < p.y + p.height / 2 + margin && top + height + margin > p.y - p.height / 2,
    );
    if (!clash) placed.push({ ...c, width, height });
  }
  return placed;
}
