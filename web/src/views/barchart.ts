// A horizontal bar chart in SVG (no inline style: attributes only), with its figures as
// text so it reads without colour; the table next to it carries every number.
//
// The chart is drawn at the width of its box, one SVG unit to one CSS pixel, and drawn
// again when the box changes width: a chart laid out for 640 units and scaled down to a
// 350 px phone would shrink its 11 px text to 6 px.

const SVG = "http://www.w3.org/2000/svg";
const ROW_PX = 22;
const VALUE_PX = 64; // room for the figure after the longest bar ("12:34", "100.0%")
const FONT_PX = 11; // .bar-chart text in styles.css
const MIN_WIDTH_PX = 240;
const MAX_WIDTH_PX = 720;
export const FIRST_WIDTH_PX = 640; // before the box is laid out (and where it never is)

export interface Bar {
  label: string;
  value: number;
  text?: string; // shown after the bar; default: the value
  late?: boolean; // drawn in the warning colour (past the limit line)
}

export interface ChartOptions {
  max?: number; // the scale's end at least this (default: the largest value)
  limit?: { value: number; label: string }; // a dashed line across the bars, labelled
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Width of `text` at the chart's font size, by a generous estimate: a CJK character is a
 * full em, anything else at most 0.62 em. */
export function textWidthPx(text: string): number {
  let width = 0;
  for (const ch of text) width += (ch.codePointAt(0) ?? 0) >= 0x2e80 ? FONT_PX : FONT_PX * 0.62;
  return width;
}

/** `label` cut with an ellipsis to fit `room` pixels. */
export function fitLabel(label: string, room: number): string {
  if (textWidthPx(label) <= room) return label;
  const chars = [...label];
  while (chars.length > 1 && textWidthPx(`${chars.join("")}…`) > room) chars.pop();
  return `${chars.join("")}…`;
}

/** The SVG of `bars` laid out for `widthPx` pixels. */
export function drawBars(bars: Bar[], title: string, widthPx: number, options: ChartOptions = {}): SVGSVGElement {
  const width = Math.round(Math.min(MAX_WIDTH_PX, Math.max(MIN_WIDTH_PX, widthPx)));
  const labelW = Math.round(Math.min(160, Math.max(72, width * 0.3)));
  const barW = width - labelW - VALUE_PX;
  const top = Math.max(options.max ?? 0, ...bars.map((b) => b.value), 1e-9);
  const scale = (v: number) => Math.max(0, Math.min(1, v / top)) * barW;
  const limitRow = options.limit ? 16 : 0;
  const height = bars.length * ROW_PX + 4 + limitRow;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "bar-chart", role: "img", "aria-label": title, "data-width": width });
  svg.append(el("title", {}, title));
  bars.forEach((b, i) => {
    const y = i * ROW_PX + 2;
    const w = scale(b.value);
    svg.append(
      el("text", { x: labelW - 6, y: y + 15, "text-anchor": "end", class: "bar-label" }, fitLabel(b.label, labelW - 8)),
      el("rect", { x: labelW, y: y + 3, width: Math.max(w, 1).toFixed(1), height: ROW_PX - 8, rx: 2, class: b.late ? "bar bar-late" : "bar" }),
      el("text", { x: (labelW + w + 4).toFixed(1), y: y + 15, class: "bar-value" }, b.text ?? String(b.value)),
    );
  });
  if (options.limit) {
    const x = (labelW + scale(options.limit.value)).toFixed(1);
    svg.append(
      el("line", { x1: x, x2: x, y1: 0, y2: height - limitRow, class: "bar-limit" }),
      el("text", { x, y: height - 3, "text-anchor": "middle", class: "bar-label" }, options.limit.label),
    );
  }
  return svg;
}

/** Bars scaled to `options.max` (default: the largest value), one row of 22 px per bar, in
 * a box that draws them again at its own width. */
export function barChart(bars: Bar[], title: string, options: ChartOptions = {}): HTMLElement {
  const box = document.createElement("div");
  box.className = "bar-chart-box";
  let drawn = 0;
  const draw = (widthPx: number) => {
    drawn = widthPx;
    box.replaceChildren(drawBars(bars, title, widthPx, options));
  };
  draw(FIRST_WIDTH_PX);
  if (typeof ResizeObserver !== "undefined") {
    new ResizeObserver((entries) => {
      const widthPx = Math.round(entries[0]?.contentRect.width ?? 0);
      if (widthPx > 0 && widthPx !== drawn) draw(widthPx);
    }).observe(box);
  }
  return box;
}

/** A wide table's scrolling wrapper made reachable by keyboard, named for screen readers. */
export function scrollable(el: HTMLElement, name: string): HTMLElement {
  if (el.classList.contains("table-wrap")) {
    el.tabIndex = 0;
    el.setAttribute("role", "region");
    el.setAttribute("aria-label", name);
  }
  return el;
}
