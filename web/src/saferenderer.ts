// Leaflet's canvas renderer, made safe to remove while a redraw is pending.
//
// Leaflet 1.9 deletes the renderer's drawing context when the renderer leaves its map
// (`map.remove()` when a view is torn down) but can still run a redraw afterwards: the
// upstream races of Leaflet#6030 and #9575 (a frame or a timer that outlives the map). The
// redraw then reads `save` of the deleted context, and the console shows a page error.
// A renderer without a context has nothing to draw, so its redraw does nothing.

import L from "leaflet";

interface CanvasInternals {
  _ctx?: CanvasRenderingContext2D;
  _redraw(): void;
}

const base = L.Canvas.prototype as unknown as CanvasInternals;

/** A canvas renderer whose redraw after removal is a no-op instead of a TypeError. */
export const SafeCanvas = L.Canvas.extend({
  _redraw(this: CanvasInternals): void {
    if (this._ctx === undefined) return;
    base._redraw.call(this);
  },
}) as unknown as new (options?: L.RendererOptions) => L.Canvas;

export function safeCanvas(options?: L.RendererOptions): L.Canvas {
  return new SafeCanvas(options);
}
