// @vitest-environment jsdom
import L from "leaflet";
import { describe, expect, it } from "vitest";
import { safeCanvas } from "../src/saferenderer";

type Internals = { _redraw(): void };

// jsdom has no 2D context: every drawing call is a no-op here (the test is about removal)
const noOp = () => undefined;
const context = new Proxy({}, { get: () => noOp });
HTMLCanvasElement.prototype.getContext = (() => context) as unknown as HTMLCanvasElement["getContext"];

/** A map with one circle on `renderer`, then removed, as a view's teardown does. */
function removedMapWith(renderer: L.Canvas): void {
  const el = document.createElement("div");
  document.body.append(el);
  const map = L.map(el, { renderer }).setView([22.95, 113.85], 10);
  L.circleMarker([22.95, 113.85], { renderer }).addTo(map);
  map.remove();
}

describe("safeCanvas", () => {
  it("ignores a redraw that arrives after its map was removed", () => {
    const renderer = safeCanvas({ padding: 0.2 });
    removedMapWith(renderer);
    expect(() => (renderer as unknown as Internals)._redraw()).not.toThrow();
  });

  it("is needed: Leaflet's own canvas throws on that late redraw", () => {
    const renderer = L.canvas({ padding: 0.2 });
    removedMapWith(renderer);
    expect(() => (renderer as unknown as Internals)._redraw()).toThrow(/Cannot read properties of undefined/);
  });
});
