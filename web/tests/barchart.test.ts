// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { barChart, drawBars, FIRST_WIDTH_PX, fitLabel, textWidthPx } from "../src/views/barchart";

const bars = [
  { label: "东城街道消防救援站", value: 240, text: "4:00" },
  { label: "A very long station name in English", value: 420, text: "7:00", late: true },
];

describe("bar chart", () => {
  it("is laid out at the width it is given, one unit per pixel", () => {
    for (const width of [350, 640]) {
      const svg = drawBars(bars, "t", width);
      expect(svg.getAttribute("viewBox")).toBe(`0 0 ${width} ${bars.length * 22 + 4}`);
    }
  });

  it("cuts labels to the room left of the bars, in either script", () => {
    const svg = drawBars(bars, "t", 350);
    const room = 350 * 0.3 - 8;
    for (const label of svg.querySelectorAll("text.bar-label")) {
      expect(textWidthPx(label.textContent ?? "")).toBeLessThanOrEqual(room);
    }
    expect(svg.querySelector("text.bar-label")?.textContent).toMatch(/…$/);
    expect(fitLabel("短名", 100)).toBe("短名");
  });

  it("marks late bars and draws the limit line where the limit falls", () => {
    const svg = drawBars(bars, "t", 400, { max: 450, limit: { value: 300, label: "5 min" } });
    const rects = [...svg.querySelectorAll("rect")];
    expect(rects.map((r) => r.getAttribute("class"))).toEqual(["bar", "bar bar-late"]);
    const labelW = 400 * 0.3;
    const barW = 400 - labelW - 64;
    expect(Number(svg.querySelector("line.bar-limit")?.getAttribute("x1"))).toBeCloseTo(labelW + (barW * 300) / 450, 1);
    expect(Number(rects[1]?.getAttribute("width"))).toBeCloseTo((barW * 420) / 450, 1);
  });

  it("starts at a default width before its box is laid out", () => {
    const box = barChart(bars, "t");
    expect(box.querySelector("svg")?.getAttribute("data-width")).toBe(String(FIRST_WIDTH_PX));
  });
});
