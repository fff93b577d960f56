// The offline city map: Leaflet with a canvas renderer, drawn only from the platform's own
// GeoJSON (boundaries, roads, venues, stations, hydrants); an XYZ layer only if configured.

import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { categoryName, label, state, t } from "./ctx";
import { debounce } from "./dom";
import { cachedLayer, forgetLayer } from "./layercache";
import { GAP_CLASSES_M, GAP_COLOURS, gapGrid } from "./gapgrid";
import { safeCanvas } from "./saferenderer";
import {
  LABEL_ZOOM,
  ROAD_LABEL_MIN_ZOOM,
  THEME,
  bandColour,
  boundaryLevelsForZoom,
  boundaryStyle,
  buildMapStyle,
  clusterCount,
  clusterStyle,
  isCluster,
  placeLabels,
  roadStyle,
  snapBbox,
  unitStatusColour,
  venueStyle,
  type BoundaryLevel,
  type ClusterProps,
  type LabelCandidate,
  type PointKind,
  type RoadGroup,
} from "./mapstyle";

type FC = { type: "FeatureCollection"; features: GeoJSON.Feature[]; [k: string]: unknown };
type PointLayerFC = FC & { truncated?: boolean; total?: number; clustered?: boolean };

function clusterIcon(kind: PointKind, props: ClusterProps): L.DivIcon {
  const style = clusterStyle(kind, props);
  const el = document.createElement("span");
  el.className = `map-cluster-count`;
  el.textContent = clusterCount(props.count);
  el.style.background = style.colour;
  el.style.width = el.style.height = el.style.lineHeight = `${style.size}px`;
  return L.divIcon({ html: el, className: `map-cluster map-cluster-${kind} map-cluster-${style.tone}`, iconSize: [style.size, style.size] });
}

export interface MapOptions {
  view: string;
  venues?: boolean;
  hydrants?: boolean;
  compact?: boolean;
  onVenueClick?: (props: Record<string, unknown>) => void;
}

export class CityMap {
  readonly map: L.Map;
  readonly renderer: L.Canvas;
  private boundaries = new Map<BoundaryLevel, L.GeoJSON>();
  private boundaryZoom = new Map<BoundaryLevel, number>();
  private roads: L.GeoJSON;
  private venues: L.GeoJSON;
  private venueClusters = L.layerGroup();
  private hydrants: L.GeoJSON;
  private hydrantClusters = L.layerGroup();
  private devices: L.GeoJSON;
  private deviceClusters = L.layerGroup();
  private labels = L.layerGroup();
  /** What each layer shows now (its box and zoom): the same view is not fetched again. */
  private shown = new Map<string, string>();
  private cut = new Map<string, { shown: number; total: number }>();
  private roadNames: GeoJSON.Feature[] = [];
  private notice: HTMLElement | null = null;
  private stations: L.GeoJSON;
  readonly overlay: L.FeatureGroup;
  private seq = 0;
  private picking: ((lon: number, lat: number) => void) | null = null;
  stationsById = new Map<number, { lon: number; lat: number; name: string; code: string }>();
  loaded: Promise<void>;
  private enabled: Record<string, boolean> = {};
  private destroyed = false;

  constructor(el: HTMLElement, private options: MapOptions) {
    this.renderer = safeCanvas({ padding: 0.2 });
    this.map = L.map(el, {
      preferCanvas: true,
      renderer: this.renderer,
      attributionControl: false,
      zoomSnap: 0.5,
      zoomAnimation: false,
      fadeAnimation: false,
      markerZoomAnimation: false,
      minZoom: 7,
      maxZoom: 19,
      keyboard: true,
    });
    el.setAttribute("aria-label", t("map.label"));
    // The browser tests move the map through it (Leaflet keeps no handle on the element).
    (el as HTMLElement & { firegridMap?: L.Map }).firegridMap = this.map;
    el.style.background = THEME.background;
    for (const layer of buildMapStyle({ view: options.view, hydrants: options.hydrants })) {
      this.enabled[layer.id] = layer.defaultOn && (layer.id !== "venues" || options.venues !== false);
    }
    if (state.config.tileUrl) {
      L.tileLayer(state.config.tileUrl, { attribution: state.config.tileAttribution ?? "", maxZoom: 19 }).addTo(this.map);
    }
    this.roads = L.geoJSON(undefined, {
      style: (f) => roadStyle((f?.properties?.group ?? "minor") as RoadGroup, this.map.getZoom()),
      interactive: false,
    });
    this.venues = L.geoJSON(undefined, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { renderer: this.renderer, ...venueStyle(f.properties ?? {}, this.map.getZoom()) }),
      onEachFeature: (f, layer) => {
        const p = f.properties ?? {};
        layer.bindTooltip(`${p.name ?? ""} · ${categoryName(p.category as string)}${p.colour ? " · " + label("colour", p.colour as string) : ""}`);
        layer.on("click", () => this.options.onVenueClick?.(p));
      },
    });
    this.hydrants = L.geoJSON(undefined, {
      pointToLayer: (f, latlng) =>
        L.circleMarker(latlng, {
          renderer: this.renderer,
          radius: 3,
          color: "#ffffff",
          weight: 0.8,
          fillColor: f.properties?.status === "in_service" ? THEME.hydrant : "#90a4ae",
          fillOpacity: 0.95,
        }),
      onEachFeature: (f, layer) => layer.bindTooltip(`${t("map.hydrant")} ${f.properties?.code ?? ""} · ${label("hydrantStatus", f.properties?.status)}`),
    });
    this.devices = L.geoJSON(undefined, {
      pointToLayer: (f, latlng) =>
        L.circleMarker(latlng, {
          renderer: this.renderer,
          radius: 3.5,
          color: "#ffffff",
          weight: 0.8,
          fillColor: f.properties?.online ? THEME.unit : "#78909c",
          fillOpacity: 0.95,
        }),
      onEachFeature: (f, layer) =>
        layer.bindTooltip(`${label("deviceKind", f.properties?.kind)} ${f.properties?.code ?? ""} · ${f.properties?.online ? t("map.online") : t("map.offline")}`),
    });
    this.stations = L.geoJSON(undefined, {
      pointToLayer: (_f, latlng) =>
        L.circleMarker(latlng, { renderer: this.renderer, radius: 7, color: THEME.stationRing, weight: 3, fillColor: THEME.station, fillOpacity: 1 }),
      onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties?.name ?? ""}`),
    });
    this.overlay = L.featureGroup();
    this.roads.addTo(this.map);
    this.overlay.addTo(this.map);
    const labelPane = this.map.createPane("labels");
    labelPane.style.zIndex = "450";
    labelPane.style.pointerEvents = "none";
    this.labels.addTo(this.map);
    this.map.on("click", (ev: L.LeafletMouseEvent) => this.finishPick(ev.latlng));
    this.addLegend();
    this.addLayerControl();
    this.addNotice();
    this.map.setView([22.95, 113.85], 10);
    this.loaded = this.init();
  }

  private async init(): Promise<void> {
    try {
      const extent = await cachedLayer<{ bbox: number[] | null; center: number[] | null }>("/map/extent", {});
      if (this.destroyed) return;
      if (extent.bbox) {
        const [w, s, e, n] = extent.bbox;
        this.map.fitBounds([[s, w], [n, e]], { padding: [10, 10], animate: false });
      } else if (extent.center) {
        this.map.setView([extent.center[1], extent.center[0]], 11, { animate: false });
      }
    } catch {
      /* keep the default view */
    }
    if (this.destroyed) return;
    // From here on every move redraws; the start-up's own moves (default view, then the
    // fitted extent) are behind us, so the first view is fetched once, not once per move.
    this.map.on("moveend", debounce(() => void this.refresh(), 120));
    await Promise.all([this.refresh(), this.loadStations()]);
  }

  private async loadStations(): Promise<void> {
    if (!state.me?.permissions.includes("resources:read")) return;
    try {
      const fc = await cachedLayer<FC>("/map/stations", {});
      for (const f of fc.features) {
        const p = f.properties as { id: number; name: string; code: string };
        const [lon, lat] = (f.geometry as GeoJSON.Point).coordinates;
        this.stationsById.set(p.id, { lon, lat, name: p.name, code: p.code });
      }
      if (this.destroyed) return;
      this.stations.addData(fc as GeoJSON.GeoJsonObject);
      if (this.enabled.stations) {
        this.stations.addTo(this.map);
        this.stations.bringToFront();
        this.overlay.bringToFront();
      }
    } catch {
      /* no stations */
    }
  }

  /** The view's box widened to whole cells of the pixel grid (see `snapBbox`). */
  bboxParam(): string {
    const b = this.map.getBounds();
    return snapBbox([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], this.map.getZoom()).join(",");
  }

  /** Reload what depends on the view: roads, finer boundaries, venues, hydrants. */
  async refresh(): Promise<void> {
    if (this.destroyed) return;
    const seq = ++this.seq;
    const zoom = Math.round(this.map.getZoom());
    const bbox = this.bboxParam();
    const jobs: Promise<void>[] = [];
    const levels = boundaryLevelsForZoom(zoom);
    for (const level of ["city", "town", "village", "grid"] as BoundaryLevel[]) {
      const want = levels.includes(level) && (level === "city" || this.enabled[`boundary-${level}`] !== false);
      const current = this.boundaries.get(level);
      if (!want) {
        current?.remove();
        continue;
      }
      const bucket = Math.min(16, zoom);
      if (current && this.boundaryZoom.get(level) === bucket) {
        if (!this.map.hasLayer(current)) current.addTo(this.map);
        continue;
      }
      jobs.push(
        cachedLayer<FC>("/map/boundaries", { level, zoom: bucket }).then((fc) => {
          if (this.destroyed || (seq !== this.seq && this.boundaries.has(level))) return;
          current?.remove();
          const layer = L.geoJSON(fc as GeoJSON.GeoJsonObject, { style: () => boundaryStyle(level), interactive: level !== "city" });
          layer.eachLayer((l) => {
            const p = (l as L.GeoJSON & { feature?: GeoJSON.Feature }).feature?.properties;
            if (p && level !== "city") (l as L.Path).bindTooltip(`${label("level", level)} · ${state.me && p ? (document.documentElement.lang === "en" ? p.name_en : p.name_zh) : ""}`, { sticky: true });
          });
          this.boundaries.set(level, layer);
          this.boundaryZoom.set(level, bucket);
          layer.addTo(this.map);
          if (level === "city") layer.bringToBack();
          this.roads.bringToFront();
          if (level !== "city") layer.bringToFront();
        }),
      );
    }
    const view = `${bbox}|${zoom}`;
    if (this.enabled.roads) {
      if (this.shown.get("roads") !== view) {
        jobs.push(
          cachedLayer<FC>("/map/roads", { bbox, zoom }).then((fc) => {
            if (this.destroyed || seq !== this.seq) return;
            this.roads.clearLayers();
            this.roads.addData(fc as GeoJSON.GeoJsonObject);
            this.shown.set("roads", view);
          }),
        );
      }
    } else {
      this.roads.clearLayers();
      this.shown.delete("roads");
    }
    if (this.enabled.roads && zoom >= ROAD_LABEL_MIN_ZOOM) {
      if (this.shown.get("road-labels") !== view) {
        jobs.push(
          cachedLayer<FC>("/map/road-labels", { bbox, zoom }).then((fc) => {
            if (this.destroyed || seq !== this.seq) return;
            this.roadNames = fc.features;
            this.shown.set("road-labels", view);
          }),
        );
      }
    } else {
      this.roadNames = [];
      this.shown.delete("road-labels");
    }
    if (this.enabled.venues) {
      if (this.shown.get("venues") !== view) jobs.push(this.loadVenues(seq, bbox, zoom));
    } else {
      this.venues.remove();
      this.venueClusters.remove();
      this.shown.delete("venues");
      this.setCut("venues", null);
    }
    if (this.enabled.devices && state.me?.permissions.includes("devices:read")) {
      if (this.shown.get("devices") !== view) {
        jobs.push(
          cachedLayer<PointLayerFC>("/map/devices", { bbox, zoom }).then((fc) => {
            if (this.destroyed || seq !== this.seq) return;
            this.drawPoints("device", fc, this.devices, this.deviceClusters);
            this.shown.set("devices", view);
            this.setCut("devices", fc);
          }),
        );
      }
    } else {
      this.devices.remove();
      this.deviceClusters.remove();
      this.shown.delete("devices");
      this.setCut("devices", null);
    }
    if (this.enabled.hydrants && state.me?.permissions.includes("resources:read")) {
      if (this.shown.get("hydrants") !== view) {
        jobs.push(
          cachedLayer<PointLayerFC>("/map/hydrants", { bbox, zoom }).then((fc) => {
            if (this.destroyed || seq !== this.seq) return;
            this.drawPoints("hydrant", fc, this.hydrants, this.hydrantClusters);
            this.shown.set("hydrants", view);
            this.setCut("hydrants", fc);
          }),
        );
      }
    } else {
      this.hydrants.remove();
      this.hydrantClusters.remove();
      this.shown.delete("hydrants");
      this.setCut("hydrants", null);
    }
    await Promise.allSettled(jobs);
    if (this.destroyed) return;
    this.stations.bringToFront();
    this.overlay.bringToFront();
    this.drawLabels();
    this.map.getContainer().dataset.ready = "true";
  }

  /** Clusters as counted discs (a click zooms to their members), single points as dots. */
  private drawPoints(kind: PointKind, fc: PointLayerFC, points: L.GeoJSON, clusters: L.LayerGroup): void {
    points.clearLayers();
    clusters.clearLayers();
    const singles: GeoJSON.Feature[] = [];
    for (const f of fc.features) {
      const p = f.properties;
      if (!isCluster(p)) {
        singles.push(f);
        continue;
      }
      const [lon, lat] = (f.geometry as GeoJSON.Point).coordinates;
      const marker = L.marker([lat, lon], { icon: clusterIcon(kind, p), title: t(`map.cluster.${kind}`, { count: p.count }), alt: t(`map.cluster.${kind}`, { count: p.count }), keyboard: true });
      marker.on("click", (ev: L.LeafletMouseEvent) => {
        if (this.finishPick(ev.latlng)) return; // picking a point: the cluster is just a place
        const [w, s, e, n] = p.bounds;
        if (e - w < 1e-6 && n - s < 1e-6) this.map.setView([lat, lon], Math.min(19, this.map.getZoom() + 2), { animate: false });
        else this.map.fitBounds([[s, w], [n, e]], { padding: [30, 30], animate: false });
      });
      marker.addTo(clusters);
    }
    points.addData({ type: "FeatureCollection", features: singles } as GeoJSON.GeoJsonObject);
    points.addTo(this.map);
    clusters.addTo(this.map);
    const box = this.map.getContainer().dataset;
    box[`${kind}Clusters`] = String(clusters.getLayers().length);
    box[`${kind}Points`] = String(singles.length);
  }

  private async loadVenues(seq: number, bbox: string, zoom: number, fresh = false): Promise<void> {
    if (fresh) forgetLayer("/map/venues");
    const fc = await cachedLayer<PointLayerFC>("/map/venues", { bbox, zoom }, fresh);
    if (this.destroyed || seq !== this.seq) return;
    this.drawPoints("venue", fc, this.venues, this.venueClusters);
    this.shown.set("venues", `${bbox}|${zoom}`);
    this.setCut("venues", fc);
  }

  /** Reload only the venues (e.g. after a colour change on the feed). */
  refreshVenues = debounce(() => {
    // The API may be away (an outage): the next refresh or live update repaints them.
    if (this.enabled.venues && !this.destroyed) this.loadVenues(this.seq, this.bboxParam(), Math.round(this.map.getZoom()), true).catch(() => undefined);
  }, 400);

  /** Remember what a layer left out; the notice says it ("showing n of m, zoom in"). */
  private setCut(layer: string, fc: PointLayerFC | null): void {
    if (fc?.truncated) this.cut.set(layer, { shown: fc.features.length, total: Number(fc.total ?? fc.features.length) });
    else this.cut.delete(layer);
    if (!this.notice) return;
    this.notice.replaceChildren();
    for (const [name, c] of this.cut) {
      const line = document.createElement("p");
      line.dataset.layer = name;
      line.textContent = t("map.truncated", { layer: t(`map.layers.${name}`), shown: c.shown, total: c.total });
      this.notice.append(line);
    }
    this.notice.hidden = this.cut.size === 0;
  }

  private addNotice(): void {
    const Notice = L.Control.extend({
      onAdd: () => {
        const div = L.DomUtil.create("div", "map-notice");
        div.setAttribute("role", "status");
        div.dataset.testid = "map-notice";
        div.hidden = true;
        this.notice = div;
        return div;
      },
    });
    new Notice({ position: "topleft" }).addTo(this.map);
  }

  /** Town and village names where they read, without overlaps (see `placeLabels`). */
  private drawLabels(): void {
    if (this.destroyed) return;
    this.labels.clearLayers();
    const zoom = this.map.getZoom();
    const size = this.map.getSize();
    const english = document.documentElement.lang === "en";
    const candidates: LabelCandidate[] = [];
    for (const level of ["town", "village"] as const) {
      const [low, high] = LABEL_ZOOM[level];
      const layer = this.boundaries.get(level);
      if (zoom < low || zoom > high || !layer || !this.map.hasLayer(layer)) continue;
      layer.eachLayer((l) => {
        const p = (l as L.Layer & { feature?: GeoJSON.Feature }).feature?.properties;
        if (!p || !Array.isArray(p.center)) return;
        const point = this.map.latLngToContainerPoint([p.center[1], p.center[0]]);
        const text = String((english ? p.name_en : p.name_zh) ?? "");
        if (!text) return;
        candidates.push({ id: `${level}:${p.code}`, text, x: point.x, y: point.y, priority: (level === "town" ? 1e9 : 0) + Number(p.population ?? 0) });
      });
    }
    for (const f of this.roadNames) {
      const [lon, lat] = (f.geometry as GeoJSON.Point).coordinates;
      const point = this.map.latLngToContainerPoint([lat, lon]);
      const text = String(f.properties?.name ?? "");
      // below every place name; bigger roads (lower class) first
      if (text) candidates.push({ id: `road:${text}:${lon},${lat}`, text, x: point.x, y: point.y, priority: -1000 - Number(f.properties?.road_class ?? 0) });
    }
    const placed = placeLabels(candidates, { width: size.x, height: size.y });
    for (const label of placed) {
      const el = document.createElement("span");
      el.textContent = label.text;
      const level = label.id.split(":")[0];
      const marker = L.marker(this.map.containerPointToLatLng([label.x, label.y]), {
        icon: L.divIcon({ html: el, className: `map-label map-label-${level}`, iconSize: [label.width, label.height] }),
        interactive: false,
        keyboard: false,
        pane: "labels",
      });
      marker.addTo(this.labels);
    }
    this.map.getContainer().dataset.labels = String(placed.length);
  }

  /** Hand a click to a pending `pick` (true when there was one). */
  private finishPick(latlng: L.LatLng): boolean {
    if (!this.picking) return false;
    const fn = this.picking;
    this.picking = null;
    this.map.getContainer().classList.remove("picking");
    fn(latlng.lng, latlng.lat);
    return true;
  }

  /** The next click on the map gives a point. */
  pick(fn: (lon: number, lat: number) => void): void {
    this.picking = fn;
    this.map.getContainer().classList.add("picking");
  }

  flyTo(lon: number, lat: number, zoom = 15): void {
    if (this.destroyed) return;
    this.map.setView([lat, lon], Math.max(zoom, this.map.getZoom()), { animate: false });
  }

  clearOverlay(): void {
    if (this.destroyed) return;
    this.overlay.clearLayers();
  }

  marker(lon: number, lat: number, opts: { colour: string; radius?: number; tooltip?: string; pulse?: boolean; onClick?: () => void }): L.CircleMarker {
    const m = L.circleMarker([lat, lon], {
      renderer: this.renderer,
      radius: opts.radius ?? 8,
      color: "#ffffff",
      weight: 2,
      fillColor: opts.colour,
      fillOpacity: 1,
    });
    if (opts.tooltip) m.bindTooltip(opts.tooltip);
    if (opts.onClick) m.on("click", opts.onClick);
    m.addTo(this.overlay);
    if (opts.pulse) {
      const ring = L.circleMarker([lat, lon], { renderer: this.renderer, radius: (opts.radius ?? 8) + 6, color: opts.colour, weight: 3, fill: false, interactive: false });
      ring.addTo(this.overlay);
    }
    return m;
  }

  unitMarker(lon: number, lat: number, status: string, tooltip: string): void {
    this.marker(lon, lat, { colour: unitStatusColour(status), radius: 6, tooltip });
  }

  geojson(fc: GeoJSON.GeoJsonObject, style: L.PathOptions | ((f?: GeoJSON.Feature) => L.PathOptions)): L.GeoJSON {
    const layer = L.geoJSON(fc, { style: style as L.StyleFunction, interactive: false });
    layer.addTo(this.overlay);
    return layer;
  }

  /** Points as circles, lines and polygons as paths, styled by the feature's `kind`. */
  features(fc: GeoJSON.FeatureCollection, style: (kind: string) => L.CircleMarkerOptions): L.GeoJSON {
    const layer = L.geoJSON(fc, {
      style: (f) => style(String(f?.properties?.kind ?? "")),
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { renderer: this.renderer, ...style(String(f.properties?.kind ?? "")) }),
      interactive: false,
    });
    layer.addTo(this.overlay);
    return layer;
  }

  bands(fc: GeoJSON.FeatureCollection, values: number[]): void {
    const sorted = [...values].sort((a, b) => b - a);
    const features = [...fc.features].sort((a, b) => Number(b.properties?.time_s ?? 0) - Number(a.properties?.time_s ?? 0));
    for (const f of features) {
      const band = Number(f.properties?.time_s ?? 0);
      const index = sorted.length - 1 - Math.max(0, sorted.indexOf(band));
      const colour = bandColour(index, sorted.length);
      this.geojson(f as GeoJSON.GeoJsonObject, { color: colour, weight: 1.5, fillColor: colour, fillOpacity: 0.35 });
    }
  }

  /**
   * The hydrant-gap result as a heat grid (street length out of a hydrant's reach per
   * ~1 km cell), with the proposed hydrants and the uncovered venues as points. Returns the
   * legend's classes (lower limit in metres, colour).
   */
  hydrantGaps(fc: GeoJSON.FeatureCollection): { limitM: number; colour: string }[] {
    for (const cell of gapGrid(fc)) {
      if (cell.level < 0) continue;
      L.rectangle([[cell.south, cell.west], [cell.north, cell.east]], {
        renderer: this.renderer,
        stroke: false,
        fillColor: GAP_COLOURS[cell.level],
        fillOpacity: 0.5,
        interactive: false,
      }).addTo(this.overlay);
    }
    for (const f of fc.features) {
      if (f.geometry?.type !== "Point") continue;
      const [lon, lat] = f.geometry.coordinates;
      const proposed = f.properties?.kind === "proposed_hydrant";
      L.circleMarker([lat, lon], {
        renderer: this.renderer,
        radius: proposed ? 6 : 3,
        color: "#ffffff",
        weight: proposed ? 2 : 0.8,
        fillColor: proposed ? THEME.hydrant : "#e65100",
        fillOpacity: 0.95,
        interactive: false,
      }).addTo(this.overlay);
    }
    return GAP_CLASSES_M.map((limitM, i) => ({ limitM, colour: GAP_COLOURS[i] }));
  }

  fitOverlay(): void {
    if (this.destroyed) return;
    const bounds = this.overlay.getBounds();
    if (bounds.isValid()) this.map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15, animate: false });
  }

  invalidate(): void {
    if (this.destroyed) return;
    this.map.invalidateSize();
  }

  destroy(): void {
    this.destroyed = true;
    this.map.off();
    this.map.remove();
  }

  private addLegend(): void {
    const Legend = L.Control.extend({
      onAdd: () => {
        const div = L.DomUtil.create("div", "map-legend");
        // Built with DOM calls, not HTML text: the Content-Security-Policy allows no inline
        // style attributes (setting element.style is allowed).
        const items: [string, string][] = [
          ["#d7191c", t("colour.red")],
          ["#f2b705", t("colour.yellow")],
          ["#1a9850", t("colour.green")],
          [THEME.station, t("map.station")],
          [THEME.hydrant, t("map.hydrant")],
        ];
        items.forEach(([colour, text], index) => {
          if (index > 0) div.appendChild(document.createElement("br"));
          const swatch = L.DomUtil.create("span", "swatch", div);
          swatch.style.background = colour;
          div.appendChild(document.createTextNode(text));
        });
        return div;
      },
    });
    new Legend({ position: "bottomright" }).addTo(this.map);
  }

  private addLayerControl(): void {
    if (this.options.compact) return;
    const Ctl = L.Control.extend({
      onAdd: () => {
        const div = L.DomUtil.create("div", "map-layers");
        L.DomEvent.disableClickPropagation(div);
        const specs = buildMapStyle({ view: this.options.view }).filter((l) => l.toggleable);
        for (const spec of specs) {
          const id = `layer-${this.options.view}-${spec.id}`;
          const wrap = L.DomUtil.create("label", "", div);
          wrap.htmlFor = id;
          const box = L.DomUtil.create("input", "", wrap) as HTMLInputElement;
          box.type = "checkbox";
          box.id = id;
          box.checked = !!this.enabled[spec.id];
          box.addEventListener("change", () => {
            this.enabled[spec.id] = box.checked;
            if (spec.id === "stations") {
              if (box.checked) this.stations.addTo(this.map);
              else this.stations.remove();
            }
            void this.refresh();
          });
          wrap.append(" " + t(`map.layers.${spec.id}`));
        }
        return div;
      },
    });
    new Ctl({ position: "topright" }).addTo(this.map);
  }
}
