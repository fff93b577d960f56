// A horizontal bar chart in SVG (no inline style: attributes only), with its figures as
// text so it reads without colour; the table next to it carries every number.

const SVG = "http://www.w3.org/2000/svg";

export interface Bar {
  label: string;
  value: number;
  text?: string; // shown after the bar; default: the value
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Bars scaled to `max` (default: the largest value), one row of 22 px per bar. */
export function barChart(bars: Bar[], title: string, max?: number): SVGSVGElement {
  const row = 22;
  const labelW = 120;
  const width = 360;
  const barW = width - labelW - 60;
  const top = Math.max(max ?? 0, ...bars.map((b) => b.value), 1e-9);
  const svg = el("svg", { viewBox: `0 0 ${width} ${bars.length * row + 4}`, class: "bar-chart", role: "img", "aria-label": title });
  svg.append(el("title", {}, title));
  bars.forEach((b, i) => {
    const y = i * row + 2;
    const w = Math.max(0, Math.min(1, b.value / top)) * barW;
    svg.append(
      el("text", { x: labelW - 6, y: y + 15, "text-anchor": "end", class: "bar-label" }, b.label.length > 14 ? `${b.label.slice(0, 13)}…` : b.label),
      el("rect", { x: labelW, y: y + 3, width: w.toFixed(1), height: row - 8, rx: 2, class: "bar" }),
      el("text", { x: labelW + w + 4, y: y + 15, class: "bar-value" }, b.text ?? String(b.value)),
    );
  });
  return svg;
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
